"""Expected values for a catalog entry, from the NumPy oracle, keyed by contract role.

This is the bridge between the catalog (which layer, which cells) and :mod:`rnnconf.spec.oracle`
(which knows only equations). Weights are the suite's own seeded arrays, listed in the
documented ``get_weights()`` order: cell by cell, forward half then backward half.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import numpy as np

from rnnconf.spec import oracle
from rnnconf.spec.catalog import Entry, Shape

# Tolerance policy (README "Tolerances"): the oracle is float64; a float32 result may differ
# by accumulated rounding. float16 and bfloat16 carry 11 and 8 significant bits.
TOLERANCES = {
    "float64": dict(rtol=1e-12, atol=1e-12),
    "float32": dict(rtol=1e-5, atol=1e-5),
    "float16": dict(rtol=1e-2, atol=1e-2),
    "bfloat16": dict(rtol=5e-2, atol=5e-2),
}


# An implementation compared with itself ("the same values by another route": unroll, dropout at
# inference, a row cut to its length): only reassociation of float32 sums may differ.
SELF_TOLERANCE = dict(rtol=1e-6, atol=1e-6)


# The same float32 layer on two devices, TF32 off (the adapter switches it off on a GPU): cuDNN
# and other fused kernels reassociate sums and use their own activations. Keras and tf-keras hold
# cuDNN to the generic path at rtol = atol = 1e-5; so does the suite.
DEVICE_TOLERANCE = dict(rtol=1e-5, atol=1e-5)


# A float32 gradient (the backend's autodiff) against float64 central differences of the oracle
# (rnnconf/spec/gradients.py: those are exact to ~1e-8). Each gradient element is a sum of at most a
# few hundred products of O(1) float32 values (loss weights in +-1, B*T <= 12 steps of gates), so
# float32 rounding (6e-8 relative per operation) accumulates to ~1e-6: measured worst 7.7e-7 over
# every oracle entry and flag combination on TensorFlow (Keras 3.15.1, CPU). The values' float32
# budget, rtol = atol = 1e-5, holds that with a >10x margin, and a gradient that is wrong by any
# term of the chain (a cut through time, a dropped weight) is off by 1e-2 or more.
GRADIENT_TOLERANCE = dict(rtol=1e-5, atol=1e-5)


def gradient_tolerance_text() -> str:
    t = GRADIENT_TOLERANCE
    return f"float32 gradient vs float64 central differences: rtol={t['rtol']:g}, atol={t['atol']:g}"


def device_tolerance_text() -> str:
    return f"gpu vs cpu, TF32 off: rtol={DEVICE_TOLERANCE['rtol']:g}, atol={DEVICE_TOLERANCE['atol']:g}"


def self_tolerance_text() -> str:
    return f"implementation vs itself: rtol={SELF_TOLERANCE['rtol']:g}, atol={SELF_TOLERANCE['atol']:g}"


def tolerance(dtype: str) -> dict[str, float]:
    return TOLERANCES.get(dtype, TOLERANCES["float32"])


def tolerance_text(dtype: str) -> str:
    t = tolerance(dtype)
    return f"{dtype}: rtol={t['rtol']:g}, atol={t['atol']:g}"


# What a cell computes beyond its kind and units, as the oracle's CellSpec/ConvSpec fields
# (``use_bias``, ``activation``, ``recurrent_activation``: rnnconf/spec/nondefault.py maps a
# layer's documented arguments onto them). The suite's user-defined cells take none of them.
CELL_ARGS = ("use_bias", "activation", "recurrent_activation")


def _with(spec: Any, cell_args: Mapping[str, Any] | None) -> Any:
    unknown = set(cell_args or {}) - set(CELL_ARGS)
    if unknown:
        raise ValueError(f"the oracle has no cell argument {sorted(unknown)}; it knows {CELL_ARGS}")
    if not cell_args or getattr(spec, "custom", False):
        return spec
    return dataclasses.replace(spec, **cell_args)


def cell_specs(entry: Entry, shape: Shape, cell_args: Mapping[str, Any] | None = None) -> list[oracle.CellSpec]:
    """The oracle's cells of the entry (of a Bidirectional entry's forward half)."""
    return [_with(oracle.CellSpec(c.kind, u, reset_after=c.reset_after), cell_args)
            for c, u in zip(entry.cells, entry.cell_units(shape))]


def backward_specs(entry: Entry, shape: Shape, cell_args: Mapping[str, Any] | None = None) -> list[oracle.CellSpec]:
    """The oracle's cells of a Bidirectional entry's backward half (its own type and units)."""
    return [_with(oracle.CellSpec(c.kind, u, reset_after=c.reset_after), cell_args)
            for c, u in zip(entry.backward_cells, entry.backward_units(shape))]


def _specs_weight_shapes(specs: list[oracle.CellSpec], features: int) -> list[tuple[int, ...]]:
    shapes, dim = [], features
    for spec in specs:
        shapes += oracle.weight_shapes(spec, dim)
        dim = spec.units
    return shapes


def weight_shapes(entry: Entry, shape: Shape, cell_args: Mapping[str, Any] | None = None) -> list[tuple[int, ...]]:
    """The documented get_weights() layout for this entry (Bidirectional: the forward layer's
    weights, then the backward layer's)."""
    if entry.form == "conv":
        return oracle.conv_weight_shapes(_with(entry.conv_spec(shape.units), cell_args), shape.features)
    shapes = _specs_weight_shapes(cell_specs(entry, shape, cell_args), shape.features)
    if entry.bidirectional:
        shapes += _specs_weight_shapes(backward_specs(entry, shape, cell_args), shape.features)
    return shapes


def weight_roles(entry: Entry, shape: Shape, cell_args: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """(what, cell kind) of each weight of the documented get_weights() layout, in order: what is
    ``kernel``, ``recurrent_kernel`` or ``bias`` (a cell's weights are kernel, recurrent kernel,
    then its bias when it has one); a ConvLSTM's cell is an ``lstm``. The user-defined cells'
    weights are ``custom``."""
    if entry.form == "conv":
        specs: list[Any] = [_with(entry.conv_spec(shape.units), cell_args)]
    else:
        specs = cell_specs(entry, shape, cell_args)
        if entry.bidirectional:
            specs += backward_specs(entry, shape, cell_args)
    roles: list[tuple[str, str]] = []
    for spec in specs:
        kind = getattr(spec, "kind", "lstm")
        if getattr(spec, "custom", False):
            roles += [("custom", kind)] * len(oracle.weight_shapes(spec, 1))
        else:
            roles += [(r, kind) for r in ("kernel", "recurrent_kernel") + (("bias",) if spec.use_bias else ())]
    return roles


def forward_weight_count(entry: Entry, shape: Shape, cell_args: Mapping[str, Any] | None = None) -> int:
    """How many of a Bidirectional entry's weights are the forward layer's (they come first)."""
    return len(_specs_weight_shapes(cell_specs(entry, shape, cell_args), shape.features))


def expected_roles(entry: Entry, shape: Shape, weights: list[np.ndarray], x: np.ndarray, *,
                   return_sequences: bool, initial_state: list[np.ndarray] | None = None,
                   mask: np.ndarray | None = None, go_backwards: bool = False,
                   zero_output_for_mask: bool = False,
                   choices: Mapping[str, str] | None = None,
                   cell_args: Mapping[str, Any] | None = None) -> dict[str, np.ndarray]:
    """role -> float64 array, for the roles of a ``return_state=True`` call. ``choices``:
    behaviour key -> choice, where the documentation leaves a value open
    (rnnconf/spec/unspecified.py); the oracle's own choice where a key is absent. ``cell_args``:
    what every cell computes beyond the defaults (:data:`CELL_ARGS`)."""
    choices = dict(choices or {})
    unknown = set(choices) - {"leading-masked-output", "odd-same-padding"}
    if unknown:
        raise ValueError(f"unknown unspecified behaviours {sorted(unknown)}")
    leading = choices.get("leading-masked-output", "zeros")
    if entry.form == "conv":
        if mask is not None or zero_output_for_mask:
            raise ValueError("the oracle has no ConvLSTM masking")
        res = oracle.conv_lstm(_with(entry.conv_spec(shape.units), cell_args), weights, x, initial_state=initial_state,
                               go_backwards=go_backwards, odd_padding=choices.get("odd-same-padding", "after"))
        h, c = res.states[0]
        return {"output": res.sequence if return_sequences else res.last_output, "h": h, "c": c}
    specs = cell_specs(entry, shape, cell_args)
    if entry.bidirectional:
        n = forward_weight_count(entry, shape, cell_args)
        res = oracle.bidirectional(specs, weights[:n], backward_specs(entry, shape, cell_args), weights[n:], x,
                                   merge_mode=entry.merge_mode, initial_state=initial_state, mask=mask,
                                   leading_output=leading)
        out = res.sequence if return_sequences else res.last_output
        roles: dict[str, Any] = {}
        if entry.merge_mode is None:
            roles["output_forward"], roles["output_backward"] = out
        else:
            roles["output"] = out
        for half, cells, states in (("forward", entry.cells, res.forward_states),
                                    ("backward", entry.backward_cells, res.backward_states)):
            names = [name for c in cells for name, _ in c.state_leaves()]
            roles.update({f"{half}.{name}": s for name, s in zip(names, states)})
        return roles
    res = oracle.rnn(specs, weights, x, initial_state=initial_state, mask=mask,
                     go_backwards=go_backwards, zero_output_for_mask=zero_output_for_mask,
                     leading_output=leading)
    roles = {"output": res.sequence if return_sequences else res.last_output}
    for i, (cell, states) in enumerate(zip(entry.cells, res.states)):
        prefix = f"cell{i}." if entry.form == "stacked" else ""
        for (name, _), value in zip(cell.state_leaves(), states):
            roles[prefix + name] = value
    return roles


def forward_half(entry: Entry, shape: Shape, weights: list[np.ndarray], x: np.ndarray) -> oracle.Result:
    """The forward layer of a Bidirectional entry alone (its weights come first)."""
    return oracle.rnn(cell_specs(entry, shape), weights[: forward_weight_count(entry, shape)], x)


def initial_state_arrays(entry: Entry, shape: Shape, seed: int) -> list[np.ndarray]:
    """Seeded initial states in the documented order (cells in order; forward then backward)."""
    rng = np.random.default_rng(seed)
    sizes = entry.state_sizes(shape)
    spatial = entry.spatial_out()
    return [rng.uniform(-1, 1, size=(shape.batch, *entry.per_step(spatial, u))).astype(np.float32) for u in sizes]


def default_initial_states(entry: Entry, shape: Shape) -> list[tuple[str, np.ndarray]]:
    """(role, value) of every state a layer starts from when given none, flat in the documented
    order: zeros, or what a user-defined cell's ``get_initial_state`` gives (0.5 for the "init"
    cell), each of the documented state shape. Roles read as the returned states' do
    (``h``, ``cell1.c``, ``backward.h``)."""
    spatial = entry.spatial_out()
    halves = [("", entry.cells, entry.cell_units(shape))]
    if entry.bidirectional:
        halves = [("forward.", entry.cells, entry.cell_units(shape)),
                  ("backward.", entry.backward_cells, entry.backward_units(shape))]
    out = []
    for prefix, cells, units in halves:
        for i, (cell, u) in enumerate(zip(cells, units)):
            where = f"cell{i}." if entry.form == "stacked" else ""
            for name, off in cell.state_leaves():
                value = oracle.CUSTOM_INITIAL_VALUE.get(cell.kind, 0.0)
                out.append((prefix + where + name,
                            np.full((shape.batch, *entry.per_step(spatial, u + off)), value, np.float32)))
    return out


MASK_KINDS = ("right_padded", "arbitrary", "fully_masked_row")


def make_mask(kind: str, batch: int, steps: int, seed: int = 0) -> np.ndarray:
    """A bool (batch, steps) mask, True = valid step. Row 0's last step is always masked, so
    every kind exercises "the last step is masked"; other rows vary."""
    if kind == "right_padded":
        lengths = [max(1, steps - 1 - (i % steps)) for i in range(batch)]
        return np.arange(steps)[None, :] < np.array(lengths)[:, None]
    if kind == "arbitrary":
        rng = np.random.default_rng(seed)
        mask = rng.random((batch, steps)) < 0.6
        mask[:, 0] = True
        mask[0, -1] = False
        if batch > 1:
            mask[1, -1] = True
        return mask
    if kind == "fully_masked_row":
        mask = make_mask("right_padded", batch, steps)
        mask[0, :] = False
        return mask
    raise ValueError(f"unknown mask kind {kind!r}")
