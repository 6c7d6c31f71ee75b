"""The mask a recurrent layer passes on to the next layer: ``supports_masking`` and
``compute_mask``, for every entry and flag combination.

What the documentation promises:

- the RNN docstring, "Masking": "This layer supports masking for input data with a variable
  number of timesteps";
- the ``Masking`` layer's docstring: the masked timesteps are "masked (skipped) in all downstream
  layers (as long as they support masking)";
- ``Layer.compute_mask`` (tf-keras's docstring; Keras 3 keeps the method): it returns "None or a
  tensor (or list of tensors, one per output tensor of the layer)".

So: with ``return_sequences=True`` the output's mask is the input mask (every step is still
there); with ``return_sequences=False`` there is no time axis left to mask (``None``); the states
are unmasked (``None``); and where the layer returns several tensors (``return_state``, or a
``Bidirectional`` with ``merge_mode=None``) there is one mask per returned tensor, in the order
they are returned. Nesting is not a claim here (Keras flattens both sides when it attaches the
masks); the count, the order and each mask are.
"""

import numpy as np
import pytest

from rnnconf.spec import contract, reference
from rnnconf.harness.checks import roles_of


def expected_masks(entry, shape, return_sequences, return_state, mask):
    """role -> the mask due for it (None: no mask), in return order; and whether a list is due."""
    leaves = contract.flatten(contract.expected_tree(entry, shape, return_sequences, return_state))
    masks = [(leaf.role, mask if leaf.role.startswith("output") and return_sequences else None)
             for leaf in leaves]
    return masks, len(leaves) > 1


def _flat(value):
    if isinstance(value, (list, tuple)):
        return [v for item in value for v in _flat(item)]
    return [value]


@pytest.mark.shapes("masks")
def test_supports_masking(run, entry, shape, device):
    layer = run.layer(True, False)
    assert getattr(layer, "supports_masking", False) is True, (
        f"{entry.label}: supports_masking is {getattr(layer, 'supports_masking', '<absent>')!r}; the RNN "
        "docstring says the layer supports masking, and a mask reaches only layers that do")


@pytest.mark.shapes("masks")
def test_compute_mask(run, entry, return_sequences, return_state, shape, device):
    mask = reference.make_mask("right_padded", shape.batch, shape.timesteps)
    roles_of(run, return_sequences, return_state)  # built and called once (arity: test_structure)
    layer = run.layer(return_sequences, return_state)
    with run.impl.device(device):
        got = layer.compute_mask(run.impl.to_tensor(run.x), run.impl.to_tensor(mask))
    expected, several = expected_masks(entry, shape, return_sequences, return_state, mask)
    wanted = ", ".join(f"{role}: {'the input mask' if m is not None else 'None'}" for role, m in expected)
    problems = mask_problems(run, got, expected, several)
    assert not problems, (f"{run.describe(return_sequences, return_state)}: compute_mask(x, mask) returned "
                          f"{_describe(got)}: " + "; ".join(problems) + f" (due: {wanted})")


def mask_problems(run, got, expected, several):
    """What differs between the masks compute_mask returned and those due, in words."""
    flat = _flat(got)
    if several and not (isinstance(got, (list, tuple)) and len(flat) == len(expected)):
        return [f"one mask per returned tensor is due, {len(expected)}"]
    if not several and isinstance(got, (list, tuple)):
        return ["one mask is due, not a sequence"]
    problems = []
    for (role, want), have in zip(expected, flat):
        if want is None and have is not None:
            problems.append(f"the mask for {role} is {_describe(have)}, expected None")
        elif want is not None and have is None:
            problems.append(f"the mask for {role} is None, expected the input mask")
        elif want is not None:
            have = np.asarray(run.impl.to_numpy(have))
            if have.shape != want.shape or not np.array_equal(have.astype(bool), want):
                problems.append(f"the mask for {role} is {have.astype(int).tolist()}, expected the input mask "
                                f"{want.astype(int).tolist()}")
    return problems


def _describe(value):
    if value is None:
        return "None"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of {len(value)} [" + ", ".join(_describe(v) for v in value) + "]"
    return f"a mask of shape {tuple(getattr(value, 'shape', ()))}"
