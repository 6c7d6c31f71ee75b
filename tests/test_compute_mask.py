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
from rnnconf.harness.masks import describe, expected_masks, mask_problems


@pytest.mark.shapes("masks")
def test_supports_masking(run, entry, shape, device):
    layer = run.layer(True, False)
    assert getattr(layer, "supports_masking", False) is True, (
        f"{entry.label}: supports_masking is {getattr(layer, 'supports_masking', '<absent>')!r}; the RNN "
        "docstring says the layer supports masking, and a mask reaches only layers that do")


@pytest.mark.shapes("masks")
def test_compute_mask(run, entry, return_sequences, return_state, shape, device):
    _compute_mask_claim(run, return_sequences, return_state, device)


@pytest.mark.shapes("masks")
def test_compute_mask_stateful(make_run, entry, return_sequences, return_state, shape, device):
    """A stateful layer passes on the same masks: ``stateful`` changes where the states start, not
    which steps are valid."""
    _compute_mask_claim(make_run(stateful=True), return_sequences, return_state, device)


def _compute_mask_claim(run, return_sequences, return_state, device):
    entry, shape = run.entry, run.shape
    mask = reference.make_mask("right_padded", shape.batch, shape.timesteps)
    roles_of(run, return_sequences, return_state)  # built and called once (arity: test_structure)
    layer = run.layer(return_sequences, return_state)
    with run.impl.device(device):
        got = layer.compute_mask(run.impl.to_tensor(run.x), run.impl.to_tensor(mask))
    expected, several = expected_masks(contract.expected_tree(entry, shape, return_sequences, return_state),
                                       return_sequences, mask)
    wanted = ", ".join(f"{role}: {'the input mask' if m is not None else 'None'}" for role, m in expected)
    problems = mask_problems(run.impl.to_numpy, got, expected, several)
    assert not problems, (f"{run.describe(return_sequences, return_state)}: compute_mask(x, mask) returned "
                          f"{describe(got)}: " + "; ".join(problems) + f" (due: {wanted})")
