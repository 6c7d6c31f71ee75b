"""What a layer must return: pure functions of (entry, flags, input shape).

Expectations come from the documented Keras contract (``docs/keras-facts.md``, "What a call returns"):

- ``return_state=False`` gives the output alone (Bidirectional with ``merge_mode=None``: the
  forward and backward outputs); ``return_state=True`` appends the final states: ``h`` for
  SimpleRNN/GRU, ``h, c`` for LSTM, one entry per cell for stacked cells (an LSTM cell's entry
  is the nested pair ``[h, c]``), forward states then backward states for Bidirectional.
- the output is ``(batch, T, units)`` with ``return_sequences=True``, else ``(batch, units)``;
  states are ``(batch, units)``; ConvLSTM carries its spatial dims.

Nothing here imports an implementation; the tests compare these trees with what came back.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from rnnconf.spec.catalog import Entry, Shape

# The dtype policies the suite runs -> (the dtype of every returned tensor, the weights' dtype):
# "the dtype of the layer's computations and outputs" and of its variables.
DTYPE_POLICIES = {
    "float64": ("float64", "float64"),
    "mixed_float16": ("float16", "float32"),
    "mixed_bfloat16": ("bfloat16", "float32"),
}


@dataclasses.dataclass(frozen=True)
class Leaf:
    """One expected tensor: its role (``output``, ``h``, ``forward.c``, ``cell1.h``...) and shape."""

    role: str
    shape: tuple[int | None, ...]


Tree = Any  # a Leaf, or a list of Trees


def flags_id(return_sequences: bool, return_state: bool) -> str:
    return f"{'seq' if return_sequences else 'last'}-{'state' if return_state else 'nostate'}"


def flags_text(return_sequences: bool, return_state: bool) -> str:
    return f"return_sequences={return_sequences}, return_state={return_state}"


def expected_tree(entry: Entry, shape: Shape, return_sequences: bool, return_state: bool,
                  *, symbolic: bool = False) -> Tree:
    """The expected return structure; ``symbolic`` leaves batch and time unknown (``None``)."""
    batch = None if symbolic else shape.batch
    steps = None if symbolic else shape.timesteps
    units = entry.cell_units(shape)
    spatial = entry.spatial_out()

    def state(role: str, u: int) -> Leaf:
        return Leaf(role, (batch, *entry.per_step(spatial, u)))

    def output(role: str, u: int) -> Leaf:
        if return_sequences:
            return Leaf(role, (batch, steps, *entry.per_step(spatial, u)))
        return Leaf(role, (batch, *entry.per_step(spatial, u)))

    def cell_states(cell, u: int, prefix: str) -> list:
        """The cell's states as they nest (a user-defined cell's nested state_size nests them)."""
        def walk(node):
            if isinstance(node[0], str):
                return state(prefix + node[0], u + node[1])
            return [walk(n) for n in node]
        return [walk(n) for n in cell.state_tree]

    if entry.bidirectional:
        # each half has its own layer's shapes and states (an explicit backward_layer may differ
        # in type and units): concat is fw + bw wide; sum/ave/mul need equal widths (the catalog
        # has those only where they are; tests/test_validation.py has the rest)
        u, ub = units[0], entry.backward_units(shape)[0]
        if entry.merge_mode is None:
            outs = [output("output_forward", u), output("output_backward", ub)]
        elif entry.merge_mode == "concat":
            outs = [output("output", u + ub)]
        else:
            if u != ub:
                raise ValueError(f"{entry.id}: merge_mode={entry.merge_mode!r} of widths {u} and {ub}")
            outs = [output("output", u)]
        if not return_state:
            return outs[0] if len(outs) == 1 else outs
        return (outs + cell_states(entry.cells[0], u, "forward.")
                + cell_states(entry.backward_cells[0], ub, "backward."))

    out = output("output", entry.output_units(shape))
    if not return_state:
        return out
    if entry.form == "stacked":
        per_cell = []
        for i, (cell, u) in enumerate(zip(entry.cells, units)):
            leaves = cell_states(cell, u, f"cell{i}.")
            per_cell.append(leaves if len(leaves) > 1 else leaves[0])
        return [out, *per_cell]
    return [out, *cell_states(entry.cells[0], units[0], "")]


def flatten(tree: Tree) -> list:
    if isinstance(tree, list):
        return [leaf for sub in tree for leaf in flatten(sub)]
    return [tree]


def describe(tree: Tree) -> str:
    """``[output (1, 4, 3), h (1, 3), c (1, 3)]``: how reports and messages show a structure."""
    if isinstance(tree, list):
        return "[" + ", ".join(describe(t) for t in tree) + "]"
    if isinstance(tree, Leaf):
        return f"{tree.role} {_shape_text(tree.shape)}"
    return _shape_text(tuple(np.shape(tree)))


def describe_returned(expected: Tree, actual: Tree) -> str:
    """What came back, labelled with the expected roles where the nesting allows."""
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return "[" + ", ".join(describe_returned(e, a) for e, a in zip(expected, actual)) + "]"
    if isinstance(expected, Leaf) and not isinstance(actual, list):
        return f"{expected.role} {_leaf_shape_text(actual)}"
    return _describe_actual(actual)


def _shape_text(shape: Sequence) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


def structure_mismatches(expected: Tree, actual: Tree, path: str = "returned") -> list[str]:
    """Every difference in arity, nesting and shape, as readable sentences.

    ``actual`` is a nested list whose leaves are arrays or shape tuples (symbolic calls).
    """
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{path}: expected a sequence of {len(expected)} "
                    f"({describe(expected)}), got a single tensor of shape {_leaf_shape_text(actual)}"]
        if len(actual) != len(expected):
            return [f"{path}: expected {len(expected)} items ({describe(expected)}), "
                    f"got {len(actual)} ({_describe_actual(actual)})"]
        problems: list[str] = []
        for i, (e, a) in enumerate(zip(expected, actual)):
            problems += structure_mismatches(e, a, f"{path}[{i}]")
        return problems
    if isinstance(actual, list):
        return [f"{path} ({expected.role}): expected a tensor of shape {_shape_text(expected.shape)}, "
                f"got a sequence of {len(actual)} ({_describe_actual(actual)})"]
    got = _leaf_shape(actual)
    if got != tuple(expected.shape):
        return [f"{path} ({expected.role}).shape={_shape_text(got)}, expected {_shape_text(expected.shape)}"]
    return []


def _leaf_shape(leaf: Any) -> tuple:
    if isinstance(leaf, tuple):
        return leaf
    return tuple(np.shape(leaf))


def _leaf_shape_text(leaf: Any) -> str:
    return _shape_text(_leaf_shape(leaf))


def _describe_actual(tree: Any) -> str:
    if isinstance(tree, list):
        return "[" + ", ".join(_describe_actual(t) for t in tree) + "]"
    return _leaf_shape_text(tree)


def by_role(expected: Tree, actual: Tree) -> dict[str, np.ndarray] | None:
    """Pair expected roles with returned arrays in order; None when the counts differ."""
    roles = [leaf.role for leaf in flatten(expected)]
    arrays = flatten(actual)
    if len(roles) != len(arrays):
        return None
    return dict(zip(roles, arrays))


def merge(mode: str, forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """Bidirectional's documented merge, computed in the arrays' own dtype."""
    if mode == "concat":
        return np.concatenate([forward, backward], axis=-1)
    if mode == "sum":
        return forward + backward
    if mode == "ave":
        return (forward + backward) / forward.dtype.type(2)
    if mode == "mul":
        return forward * backward
    raise ValueError(f"unknown merge_mode {mode!r}")


def _last_hidden_role(entry: Entry) -> str | None:
    """The state the output's last step is: the last cell's ``h``; a user-defined cell's own
    choice (its first state, or None for a cell whose output is not a state)."""
    if entry.form == "stacked":
        return f"cell{len(entry.cells) - 1}.h"
    return entry.cells[0].output_state


def last_step_identities(entry: Entry, shape: Shape, return_sequences: bool,
                         roles: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Within one ``return_state=True`` call: (what, lhs, rhs) pairs that must be identical.

    The last processed step of the output *is* the final hidden state. For Bidirectional the
    backward half's last processed step sits at time 0 of the (re-reversed) sequence. Merged
    Bidirectional sequences (sum/ave/mul) have no such identity; the NumPy oracle checks them.
    """
    t_last = (slice(None), -1) if return_sequences else (slice(None),)
    t_first = (slice(None), 0) if return_sequences else (slice(None),)
    where = "output[:, -1]" if return_sequences else "output"
    if not entry.bidirectional:
        role = _last_hidden_role(entry)
        if role is None:  # documented: the output is the cell's output, which no state is
            return []
        return [(f"{where} == {role}", roles["output"][t_last], roles[role])]
    u = entry.cell_units(shape)[0]  # the forward half's width: where concat's backward half starts
    fw_h, bw_h = roles["forward.h"], roles["backward.h"]
    if entry.merge_mode is None:
        first = "output_backward[:, 0]" if return_sequences else "output_backward"
        return [(f"{where.replace('output', 'output_forward')} == forward.h",
                 roles["output_forward"][t_last], fw_h),
                (f"{first} == backward.h", roles["output_backward"][t_first], bw_h)]
    out = roles["output"]
    if entry.merge_mode == "concat":
        first = "output[:, 0, units:]" if return_sequences else "output[:, units:]"
        return [(f"{where}[..., :units] == forward.h", out[t_last][..., :u], fw_h),
                (f"{first} == backward.h", out[t_first][..., u:], bw_h)]
    if return_sequences:
        return []
    return [(f"output == {entry.merge_mode}(forward.h, backward.h)", out,
             merge(entry.merge_mode, fw_h, bw_h))]


def views(entry: Entry, shape: Shape, return_sequences: bool,
          roles: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What one call says about quantities that every flag combination must agree on.

    Keys present in two combinations' views must hold identical arrays (same weights, same
    input): the ``return_sequences=False`` output is the last step of the ``True`` run, the
    states do not depend on either flag, and the sequences do not depend on ``return_state``.
    """
    out: dict[str, np.ndarray] = {}
    t_last = (slice(None), -1) if return_sequences else (slice(None),)
    t_first = (slice(None), 0) if return_sequences else (slice(None),)
    if not entry.bidirectional:
        out["last output"] = roles["output"][t_last]
    elif entry.merge_mode is None:
        out["forward last output"] = roles["output_forward"][t_last]
        out["backward last output"] = roles["output_backward"][t_first]
    elif entry.merge_mode == "concat":
        u = entry.cell_units(shape)[0]
        out["forward last output"] = roles["output"][t_last][..., :u]
        out["backward last output"] = roles["output"][t_first][..., u:]
    elif not return_sequences:
        out["merged last output"] = roles["output"]
    if return_sequences:
        for role in ("output", "output_forward", "output_backward"):
            if role in roles:
                out[f"{role} sequence"] = roles[role]
    for role, value in roles.items():
        if not role.startswith("output"):
            out[f"state {role}"] = value
    return out


def cell_state_pairs(roles: dict[str, np.ndarray]) -> list[tuple[str, str]]:
    """(c role, h role) for every LSTM-style cell state returned."""
    return [(r, r[:-1] + "h") for r in roles if r == "c" or r.endswith(".c")]


def nest_like_states(entry: Entry, shape: Shape, flat: list, convert: Any = lambda a: a) -> list:
    """Arrange flat states (documented order) like the returned states: the contract's state
    subtree, each leaf passed through ``convert`` (a backend tensor for initial_state)."""
    skip = 2 if entry.bidirectional and entry.merge_mode is None else 1
    tree = expected_tree(entry, shape, True, True)[skip:]
    it = iter(flat)

    def fill(node: Any) -> Any:
        return [fill(n) for n in node] if isinstance(node, list) else convert(next(it))

    return fill(tree)
