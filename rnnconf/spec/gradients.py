"""Gradients from NumPy alone: central differences of the float64 oracle.

The training tests (tests/test_gradients.py, tests/test_fit.py) compare a backend's autodiff
with derivatives of :func:`rnnconf.spec.reference.expected_roles` -- the oracle's returned tensors
as functions of the input, the initial states and the weights. No backpropagation is written
here: every derivative is a central difference of the oracle in float64,

    D_v f(p) = (f(p + h v) - f(p - h v)) / (2 h),   h = STEP = 1e-5, |v| = 1,

taken once per *probe direction* v of each parameter tensor, for every returned role at once
(so one sweep serves every flag combination and any loss: a loss's gradient along v is the
chain rule over the roles, sum_r <dL/dr, D_v r>).

**Which directions (one size rule).** A tensor of at most ``ELEMENTWISE_LIMIT`` (= 128)
elements is probed along each unit basis vector: its whole gradient, element by element. A
larger one (the ConvLSTMs' kernels, their inputs) is probed along ``DIRECTIONS`` (= 12) seeded
random unit vectors (Gaussian, normalised; seeded by the entry, the shape and the tensor's
name): the check is then that the autodiff gradient's projections on those directions match,
which any error in a gradient is caught by unless it is orthogonal to all of them (probability
zero for a seeded Gaussian draw that the implementation does not know). ConvLSTM3D with its
initial states (6,420 elements in all: 2.6k weights, 3.6k inputs) takes 264 probes this way,
~25x fewer oracle evaluations than element by element (~2 s instead of ~50 s on one core here);
at the default lane's shape, every entry but the ConvLSTMs is probed element by element.

**Accuracy.** The truncation error of a central difference is h^2/6 |f'''| <= 2e-11 for the
oracle's smooth functions (tanh, sigmoid, products of them; third derivatives O(1) at the
suite's weight scales), and rounding in float64 adds ~eps64 |f| / h ~ 1e-11 per returned
value; summed over a loss of a few hundred weighted values, the oracle's gradients are exact
to ~1e-8 -- three orders of magnitude below the float32 tolerance they are compared at
(:data:`rnnconf.spec.reference.GRADIENT_TOLERANCE`). tests/unit/test_gradients_oracle.py checks that
halving h changes them by less than that.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from rnnconf.spec import reference
from rnnconf.spec.catalog import Entry, Shape
from rnnconf.spec.seeds import seed_for

STEP = 1e-5
ELEMENTWISE_LIMIT = 128
DIRECTIONS = 12


def directions(size: int, *seed_parts: str) -> np.ndarray:
    """The probe directions of a tensor of ``size`` elements, as rows of unit length: the unit
    basis when ``size <= ELEMENTWISE_LIMIT``, else ``DIRECTIONS`` seeded Gaussian directions."""
    if size <= ELEMENTWISE_LIMIT:
        return np.eye(size)
    rng = np.random.default_rng(seed_for("probe", *seed_parts))
    v = rng.normal(size=(DIRECTIONS, size))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def elementwise(size: int) -> bool:
    return size <= ELEMENTWISE_LIMIT


def how_probed(size: int) -> str:
    return ("element by element" if elementwise(size)
            else f"along {DIRECTIONS} seeded random unit directions (projections)")


@dataclasses.dataclass
class Param:
    name: str  # "input", "initial_state[0]", "weight[2]"
    value: np.ndarray  # float64
    directions: np.ndarray  # (k, value.size)


class OracleDerivatives:
    """Central differences of every returned role of the oracle, along each probe direction of
    each parameter. Roles are keyed ``(return_sequences, role)``; the states are the same in
    both, and stored under both keys."""

    def __init__(self, entry: Entry, shape: Shape, weights: list[np.ndarray], x: np.ndarray, *,
                 initial_state: list[np.ndarray] | None = None, mask: np.ndarray | None = None,
                 salt: str = "", probe_input: bool = True, choices: tuple = ()) -> None:
        self.entry, self.shape, self.mask = entry, shape, mask
        self.choices = dict(choices)  # behaviour key -> choice (rnnconf/spec/unspecified.py)
        f64 = lambda a: np.asarray(a, dtype=np.float64)  # noqa: E731
        tensors = [("input", f64(x))]
        tensors += [(f"initial_state[{i}]", f64(s)) for i, s in enumerate(initial_state or [])]
        tensors += [(f"weight[{i}]", f64(w)) for i, w in enumerate(weights)]
        self.n_states = len(initial_state or [])
        probed = tensors if probe_input else tensors[1:]  # a fit step needs no d/dx
        self.params = [Param(n, v, directions(v.size, entry.id, shape.id, salt, n)) for n, v in probed]
        self._index = {n: i for i, (n, _) in enumerate(tensors)}
        values = [v for _, v in tensors]
        self.base = self.roles(values)
        self.derivatives: dict[str, dict[tuple[bool, str], np.ndarray]] = {}
        for p in self.params:
            i = self._index[p.name]
            per_key: dict[tuple[bool, str], list[np.ndarray]] = {k: [] for k in self.base}
            for v in p.directions:
                step = STEP * v.reshape(p.value.shape)
                plus = self.roles(values[:i] + [p.value + step] + values[i + 1:])
                minus = self.roles(values[:i] + [p.value - step] + values[i + 1:])
                for k in self.base:
                    per_key[k].append((plus[k] - minus[k]) / (2 * STEP))
            self.derivatives[p.name] = {k: np.stack(d) for k, d in per_key.items()}

    def roles(self, values: list[np.ndarray]) -> dict[tuple[bool, str], np.ndarray]:
        x, states, weights = values[0], values[1:1 + self.n_states], values[1 + self.n_states:]
        out: dict[tuple[bool, str], np.ndarray] = {}
        for rs in (False, True):
            roles = reference.expected_roles(self.entry, self.shape, weights, x, return_sequences=rs,
                                             initial_state=states or None, mask=self.mask,
                                             choices=self.choices)
            out.update({(rs, r): np.asarray(a, dtype=np.float64) for r, a in roles.items()})
        return out

    def values(self, return_sequences: bool, roles: list[str]) -> dict[str, np.ndarray]:
        """The oracle's float64 values of ``roles`` (for a loss's derivative w.r.t. them)."""
        return {r: self.base[(return_sequences, r)] for r in roles}

    def loss_projections(self, return_sequences: bool, dloss: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The gradient of a loss along each probe direction, per parameter, by the chain rule:
        ``dloss`` is role -> dL/d(role) (the roles that loss reads, at the oracle's values)."""
        out = {}
        for p in self.params:
            d = self.derivatives[p.name]
            total = np.zeros(len(p.directions))
            for role, g in dloss.items():
                deriv = d[(return_sequences, role)]
                total += deriv.reshape(len(deriv), -1) @ np.asarray(g, dtype=np.float64).reshape(-1)
            out[p.name] = total
        return out

    def project(self, name: str, gradient: np.ndarray) -> np.ndarray:
        """An implementation's gradient w.r.t. parameter ``name``, on its probe directions."""
        p = next(p for p in self.params if p.name == name)
        return p.directions @ np.asarray(gradient, dtype=np.float64).reshape(-1)


_MEMO: dict[Any, OracleDerivatives] = {}


def oracle_derivatives(entry: Entry, shape: Shape, weights: list[np.ndarray], x: np.ndarray, *,
                       initial_state: list[np.ndarray] | None = None, mask: np.ndarray | None = None,
                       salt: str = "", probe_input: bool = True,
                       choices: dict[str, str] | None = None) -> OracleDerivatives:
    """Memoised per process: the seeded weights and input of a case are the same for every
    test of it, so the flag combinations and the fit tests share one sweep. ``choices`` as in
    :func:`rnnconf.spec.reference.expected_roles`."""
    chosen = tuple(sorted((choices or {}).items()))
    key = (entry.id, shape, salt, probe_input, _digest(x), tuple(_digest(w) for w in weights),
           tuple(_digest(s) for s in initial_state or []), None if mask is None else _digest(mask), chosen)
    if key not in _MEMO:
        _MEMO[key] = OracleDerivatives(entry, shape, weights, x, initial_state=initial_state,
                                       mask=mask, salt=salt, probe_input=probe_input, choices=chosen)
    return _MEMO[key]


def _digest(a: np.ndarray) -> tuple:
    a = np.asarray(a)
    return (a.shape, str(a.dtype), a.tobytes())
