"""The masks a layer passes on, judged against the documented ones: ``compute_mask`` returns "None
or a tensor (or list of tensors, one per output tensor of the layer)" (``Layer.compute_mask``);
a recurrent layer's output keeps the input mask when it keeps the time axis
(``return_sequences=True``) and has none otherwise; its states have none."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from rnnconf.spec import contract


def expected_masks(expected: contract.Tree, return_sequences: bool,
                   mask: np.ndarray) -> tuple[list[tuple[str, np.ndarray | None]], bool]:
    """role -> the mask due for it (None: no mask), in return order, for a layer that returns
    ``expected`` (a contract tree); and whether one mask per tensor (a list) is due."""
    leaves = contract.flatten(expected)
    masks = [(leaf.role, mask if leaf.role.startswith("output") and return_sequences else None)
             for leaf in leaves]
    return masks, len(leaves) > 1


def flat(value: Any) -> list:
    if isinstance(value, (list, tuple)):
        return [v for item in value for v in flat(item)]
    return [value]


def mask_problems(to_numpy: Callable[[Any], Any], got: Any, expected: list, several: bool) -> list[str]:
    """What differs between the masks ``got`` (compute_mask's result; or the list of masks the
    next layers saw, one per tensor, with ``several`` True) and those due, in words; empty when
    they agree."""
    masks = flat(got)
    if several and not (isinstance(got, (list, tuple)) and len(masks) == len(expected)):
        return [f"one mask per returned tensor is due, {len(expected)}"]
    if not several and isinstance(got, (list, tuple)):
        return ["one mask is due, not a sequence"]
    problems = []
    for (role, want), have in zip(expected, masks):
        if isinstance(have, str):  # a probe that was never called
            problems.append(f"the layer after {role} was {have}")
        elif want is None and have is not None:
            problems.append(f"the mask for {role} is {describe(have)}, expected None")
        elif want is not None and have is None:
            problems.append(f"the mask for {role} is None, expected the input mask")
        elif want is not None:
            have = np.asarray(to_numpy(have))
            if have.shape != want.shape or not np.array_equal(have.astype(bool), want):
                problems.append(f"the mask for {role} is {have.astype(int).tolist()}, expected the input mask "
                                f"{want.astype(int).tolist()}")
    return problems


def describe(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of {len(value)} [" + ", ".join(describe(v) for v in value) + "]"
    return f"a mask of shape {tuple(getattr(value, 'shape', ()))}"
