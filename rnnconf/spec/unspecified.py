"""What the documentation leaves open, and what the oracle picks there.

The oracle has to return *some* value where Keras's documentation does not say what a layer
returns. For each such behaviour this module names the documented sentence that stops short, the
choices real implementations make (the oracle's first), and when a case depends on it. A case
whose values differ from the oracle's choice but match another listed choice exactly as closely
as the tolerance asks is not a failure: it passes and is reported as a *divergence* (the report's
"Divergences" section), naming the choice the implementation made. Values that match no listed
choice fail as before, so a wrong value is never accepted because the behaviour is open.

Every behaviour here is listed in the README (``python -m rnnconf docs`` writes the list).
Imports NumPy and the spec only.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np

from rnnconf.spec.catalog import Entry, Shape


@dataclasses.dataclass(frozen=True)
class Behaviour:
    key: str
    what: str  # the behaviour, in one line
    documented: str  # what the documentation says, and why it does not decide
    choices: dict[str, str]  # choice -> what it returns and who is known to make it; the oracle's first
    applies: Callable[..., bool]  # (entry, shape, **oracle options) -> whether the case depends on it

    @property
    def oracle_choice(self) -> str:
        return next(iter(self.choices))

    @property
    def alternatives(self) -> list[str]:
        return list(self.choices)[1:]


def leading_masked_steps(mask: Any, go_backwards: bool = False) -> np.ndarray:
    """(batch, steps) bool: the masked steps that come, in processing order, before the row's
    first unmasked step (every step of a fully masked row). Indexed in the input's order."""
    mask = np.asarray(mask, bool)
    order = mask[:, ::-1] if go_backwards else mask
    leading = ~np.logical_or.accumulate(order, axis=1)
    return leading[:, ::-1] if go_backwards else leading


def _has_leading_masked_step(entry: Entry, shape: Shape, *, mask: Any = None, go_backwards: bool = False,
                             **_: Any) -> bool:
    if mask is None or entry.form == "conv":
        return False
    directions = (False, True) if entry.bidirectional else (go_backwards,)
    return any(leading_masked_steps(mask, d).any() for d in directions)


def _odd_same_padding(entry: Entry, shape: Shape, **_: Any) -> bool:
    """A ``padding="same"`` input convolution whose total padding is odd on some axis."""
    if entry.form != "conv" or entry.padding != "same":
        return False
    for n in entry.spatial():
        out = -(-n // entry.strides)
        total = max((out - 1) * entry.strides + (entry.kernel_size - 1) * entry.dilation_rate + 1 - n, 0)
        if total % 2:
            return True
    return False


LEADING_MASKED_OUTPUT = Behaviour(
    key="leading-masked-output",
    what=("the output at a masked step before the row's first unmasked step (zero_output_for_mask=False), "
          "and so the last output of a row with no unmasked step"),
    documented=("The backend loop Keras's RNN runs says a masked step returns the previous timestep's "
                "output (zero_output_for_mask: \"in the False case, output from previous timestep is "
                "returned\", keras/src/backend/*/rnn.py); before the first unmasked step no timestep has "
                "produced an output, and neither it nor the RNN docstring says what stands in for it."),
    choices={
        "zeros": "zeros (TensorFlow's and PyTorch's loops in Keras 3, and tf-keras)",
        "first_state": ("the initial first state h0 of the cell that produces the output (the last of "
                        "stacked cells) (Keras 3's JAX and NumPy loops)"),
    },
    applies=_has_leading_masked_step,
)

ODD_SAME_PADDING = Behaviour(
    key="odd-same-padding",
    what="where the odd element of an odd total padding goes in a padding=\"same\" ConvLSTM input convolution",
    documented=("The ConvLSTM docstrings say \"same\" results in \"padding evenly to the left/right or "
                "up/down of the input\"; an odd total cannot be split evenly, and they do not say which "
                "side gets the extra element."),
    choices={
        "after": "one more after than before (TensorFlow's convention)",
        "before": "one more before than after",
    },
    applies=_odd_same_padding,
)

BEHAVIOURS: tuple[Behaviour, ...] = (LEADING_MASKED_OUTPUT, ODD_SAME_PADDING)
BY_KEY = {b.key: b for b in BEHAVIOURS}


def applicable(entry: Entry, shape: Shape, **options: Any) -> list[Behaviour]:
    """The behaviours a case with these oracle options depends on."""
    return [b for b in BEHAVIOURS if b.applies(entry, shape, **options)]


def markdown() -> str:
    """The README's list."""
    lines = []
    for b in BEHAVIOURS:
        lines.append(f"- **{b.what[0].upper() + b.what[1:]}** (`{b.key}`). {b.documented}")
        for i, (choice, text) in enumerate(b.choices.items()):
            tag = " — the oracle's choice" if i == 0 else ""
            lines.append(f"  - `{choice}`: {text}{tag}.")
    return "\n".join(lines) + "\n"
