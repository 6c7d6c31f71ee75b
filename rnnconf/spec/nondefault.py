"""A non-default value for every documented argument whose promise a test can check, and what
the documentation says follows from it.

Each :class:`Setting` is one case of ``tests/test_arguments.py``: an argument, a value other than
its default, the claim that value makes checkable, and the layers it applies to. Values are plain
data (a string, a bool, a number) or an :class:`Obj` -- an initializer, regularizer, constraint
or the suite's own callable activation -- that the implementation makes from its own modules
(``rnnconf.impl.base.Implementation.resolve``), so this module imports no Keras.

The claims, each checked on the layer the implementation builds:

- ``values``: the returned tensors equal the oracle's with the cells computing what the argument
  says (``cell_args``: the oracle's CellSpec/ConvSpec fields; ``activation`` is the candidate's
  and the LSTM cell state's function, ``recurrent_activation`` the gates', ``use_bias=False``
  drops the bias from the documented weight layout and the equations);
- ``weights``: the weights ``build`` creates, before any are set, hold what the initializer
  arguments promise (the layer's documented defaults among them);
- ``penalty``: ``layer.losses`` holds the documented penalty of the weights the layer holds;
- ``activity``: after a call, ``layer.losses`` holds the penalty of what the layer returned,
  computed on the oracle's values;
- ``constraint``: after one SGD step the constrained weights satisfy the constraint and the
  others are untouched by it;
- ``seed``: two layers with the same seed and weights draw the same dropout masks in training,
  another seed other masks.

``tests/test_arguments.py::test_config_keeps_argument`` round-trips every setting through
``get_config``/``from_config`` (and ``.keras``), whatever its claim.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from rnnconf.spec.catalog import Entry

# How each flavour defines the activation named "hard_sigmoid" (see oracle.ACTIVATIONS): each
# implementation is judged by its own docstring.
HARD_SIGMOID = {"keras3": "hard_sigmoid_x/6+0.5", "keras2": "hard_sigmoid_0.2x+0.5"}


@dataclasses.dataclass(frozen=True)
class Obj:
    """An object the implementation makes: ``<module>.<group>.<name>(**kwargs)`` (group:
    ``initializers``, ``regularizers``, ``constraints``), or the suite's callable activation
    (group ``callable``, name ``half_tanh``: ``0.5 * activations.tanh(x)``)."""

    group: str
    name: str
    kwargs: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs)
        return f"{self.name}({args})" if self.group != "callable" else f"<callable {self.name}>"


def _applies_all(entry: Entry) -> bool:
    return not entry.custom


def _kinds(*kinds: str) -> Callable[[Entry], bool]:
    """Entries whose every cell (both halves of a Bidirectional, every stacked cell; a ConvLSTM is
    an ``lstm``) is of these kinds: an argument only those cells document."""
    def applies(entry: Entry) -> bool:
        return not entry.custom and all(c.kind in kinds for c in entry.halves_cells())
    applies.__name__ = f"cells_of_kind_{'_'.join(kinds)}"
    return applies


GATED = _kinds("lstm", "gru")  # recurrent_activation: the gates'
LSTM_ONLY = _kinds("lstm")
ONLY_FOR = {"unit_forget_bias": LSTM_ONLY}  # an extra argument only some cells take


@dataclasses.dataclass(frozen=True)
class Setting:
    argument: str
    value: Any
    label: str  # the case id's token: letters, digits and underscores only
    claim: str  # values | weights | penalty | activity | constraint | seed
    applies: Callable[[Entry], bool] = _applies_all
    # values: the oracle's cell fields; a "hard_sigmoid" value is mapped per flavour
    cell_args: tuple[tuple[str, Any], ...] = ()
    # other arguments the setting needs to make its claim (e.g. unit_forget_bias=False so that a
    # bias initializer is seen alone)
    extra: tuple[tuple[str, Any], ...] = ()

    @property
    def id(self) -> str:
        return f"{self.argument}_{self.label}"

    @property
    def serializable(self) -> bool:
        """Whether get_config can show the value was taken: not a documented default given
        explicitly. (The suite's callable activation is registered as serializable, as Keras
        documents for a custom object.)"""
        return not self.is_default

    @property
    def is_default(self) -> bool:
        return DEFAULTS.get(self.argument, object()) == self.value

    def options(self, entry: Entry) -> dict[str, Any]:
        """The layer options of this case on ``entry``: the argument, and what it needs beside it
        where the entry's cells take that (``unit_forget_bias``: LSTM cells only)."""
        extra = {k: v for k, v in self.extra if ONLY_FOR.get(k, _applies_all)(entry)}
        return {self.argument: self.value, **extra}

    def oracle_cell_args(self, flavor: str) -> dict[str, Any]:
        return {k: HARD_SIGMOID.get(flavor, HARD_SIGMOID["keras3"]) if v == "hard_sigmoid" else v
                for k, v in self.cell_args}


def _l2(value: float) -> Obj:
    return Obj("regularizers", "L2", (("l2", value),))


NON_NEG = Obj("constraints", "NonNeg")
HALF_TANH = Obj("callable", "half_tanh")
CONSTANT = Obj("initializers", "Constant", (("value", 0.25),))
PENALTY = 0.01  # L2 factor of every regularizer setting

SETTINGS: tuple[Setting, ...] = (
    # ---- what the cells compute: values against the oracle -------------------------------
    Setting("activation", "relu", "relu", "values", cell_args=(("activation", "relu"),)),
    Setting("activation", "linear", "linear", "values", cell_args=(("activation", "linear"),)),
    Setting("activation", "hard_sigmoid", "hard_sigmoid", "values",
            cell_args=(("activation", "hard_sigmoid"),)),
    Setting("activation", HALF_TANH, "callable", "values", cell_args=(("activation", "half_tanh"),)),
    Setting("recurrent_activation", "hard_sigmoid", "hard_sigmoid", "values", GATED,
            cell_args=(("recurrent_activation", "hard_sigmoid"),)),
    Setting("recurrent_activation", "relu", "relu", "values", GATED,
            cell_args=(("recurrent_activation", "relu"),)),
    Setting("recurrent_activation", HALF_TANH, "callable", "values", GATED,
            cell_args=(("recurrent_activation", "half_tanh"),)),
    Setting("use_bias", False, "False", "values", cell_args=(("use_bias", False),)),
    # ---- initializers: the weights build creates ---------------------------------------------
    # (the documented defaults: glorot_uniform kernels, orthogonal recurrent kernels, zero biases
    # and, for LSTM, the forget gate's at 1: test_arguments.py::test_default_initializers)
    Setting("kernel_initializer", "ones", "ones", "weights"),
    Setting("recurrent_initializer", CONSTANT, "constant", "weights"),
    Setting("recurrent_initializer", "orthogonal", "orthogonal", "weights"),
    Setting("bias_initializer", "ones", "ones", "weights", extra=(("unit_forget_bias", False),)),
    Setting("unit_forget_bias", False, "False", "weights", LSTM_ONLY),
    Setting("unit_forget_bias", True, "True_with_ones", "weights", LSTM_ONLY,
            extra=(("bias_initializer", "ones"),)),
    # ---- regularizers: layer.losses ----------------------------------------------------------
    Setting("kernel_regularizer", _l2(PENALTY), "l2", "penalty"),
    Setting("recurrent_regularizer", _l2(PENALTY), "l2", "penalty"),
    Setting("bias_regularizer", _l2(PENALTY), "l2", "penalty"),
    Setting("activity_regularizer", _l2(PENALTY), "l2", "activity"),
    # ---- constraints: after an SGD step ------------------------------------------------------
    Setting("kernel_constraint", NON_NEG, "non_neg", "constraint"),
    Setting("recurrent_constraint", NON_NEG, "non_neg", "constraint"),
    Setting("bias_constraint", NON_NEG, "non_neg", "constraint"),
    # ---- the dropout masks' seed -------------------------------------------------------------
    Setting("seed", 1234, "1234", "seed", extra=(("dropout", 0.5), ("recurrent_dropout", 0.5))),
)
BY_ID = {s.id: s for s in SETTINGS}
# the documented defaults the settings above give explicitly
DEFAULTS = {"recurrent_initializer": "orthogonal", "unit_forget_bias": True}
assert len(BY_ID) == len(SETTINGS), "two settings share an id"

# Which weights each argument reads (reference.weight_roles' names).
WEIGHT_OF = {
    "kernel_initializer": "kernel", "recurrent_initializer": "recurrent_kernel",
    "bias_initializer": "bias", "unit_forget_bias": "bias",
    "kernel_regularizer": "kernel", "recurrent_regularizer": "recurrent_kernel",
    "bias_regularizer": "bias",
    "kernel_constraint": "kernel", "recurrent_constraint": "recurrent_kernel", "bias_constraint": "bias",
}


def of_claim(*claims: str) -> tuple[Setting, ...]:
    return tuple(s for s in SETTINGS if s.claim in claims)
