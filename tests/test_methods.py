"""Documented methods and properties, on every entry that has them.

- ``states``: a stateful layer, built, holds one state variable per documented state, in the
  documented order and shape, starting from the layer's initial state (zeros, or a user-defined
  cell's ``get_initial_state``); after a call they hold the final states (the oracle's).
  (``reset_state()``/``reset_states()``: tests/test_stateful.py, on every entry too.)
- ``get_initial_state``: the layer's (Keras 3 ``get_initial_state(batch_size)``, tf-keras
  ``get_initial_state(inputs)``) and each built-in cell's, documented in the RNN docstring for a
  cell (Keras 3 ``get_initial_state(batch_size=None)``, tf-keras
  ``get_initial_state(inputs=None, batch_size=None, dtype=None)``): the documented state shapes,
  the initial values, the compute dtype. Bidirectional has no ``get_initial_state`` of its own in
  either flavour; its halves' cells are checked.
- ``compute_output_spec``: a call on ``Input(shape=(None, ...))`` under a dtype policy returns
  every tensor in the policy's compute dtype, as the eager call does (tests/test_dtypes.py);
  how many it returns, and their shapes, are tests/test_symbolic.py's claim.
"""

import numpy as np
import pytest

from rnnconf.spec import contract, reference
from rnnconf.harness.asserts import assert_flat_matches_oracle
from rnnconf.harness.outcomes import skip_without_float64

POLICIES = contract.DTYPE_POLICIES  # policy -> (compute dtype, variable dtype)
BUILT_IN_CELLS = lambda e: e.form in ("layer", "rnn", "stacked", "bidirectional")  # noqa: E731


def _initial_problems(got: list, entry, shape, what: str, context: str) -> list[str]:
    """What in ``got`` (flat tensors) is not the documented initial states: how many, their
    shapes, dtypes (float32) and values; empty when nothing is."""
    expected = reference.default_initial_states(entry, shape)
    roles = [r for r, _ in expected]
    if len(got) != len(expected):
        return [f"{what} gives {len(got)} tensors for {context}; the documented states are {len(expected)}: {roles}"]
    arrays = [np.asarray(g) for g in got]
    shapes = [tuple(a.shape) for a in arrays]
    want = [v.shape for _, v in expected]
    if shapes != want:
        return [f"{what} shapes for {context}: {shapes}, documented {list(zip(roles, want))}"]
    problems = []
    dtypes = [str(a.dtype) for a in arrays]
    if any(d != "float32" for d in dtypes):
        problems.append(f"{what} dtypes for {context}: {dtypes}, expected float32")
    wrong = {r: float(np.max(np.abs(a - v))) for (r, v), a in zip(expected, arrays) if not np.array_equal(a, v)}
    if wrong:
        problems.append(f"{what} values for {context} are not the initial states (zeros; 0.5 for the "
                        f"user-defined InitialStateCell): role: max |difference| {wrong}")
    return problems


@pytest.mark.shapes("options")
def test_states_after_build(make_run, entry, shape, device):
    """A stateful layer, once built, has ``states``: one per documented state, its initial value."""
    run = make_run(stateful=True)
    layer = run.new_layer(False, False)
    problems = _initial_problems(run.impl.state_values(layer), entry, shape, "layer.states after build()",
                                 run.describe(False, False))
    assert not problems, "\n".join(problems)


@pytest.mark.shapes("options")
def test_states_after_a_call(make_run, entry, shape, device, record):
    """After one call of a stateful layer, ``states`` holds the final states, in the documented
    order (a Bidirectional's: the forward layer's, then the backward layer's)."""
    run = make_run(stateful=True)
    layer = run.new_layer(False, False)
    with run.impl.device(device):
        layer(run.x)
    context = run.describe(False, False) + ", layer.states after a call"
    expected = reference.expected_roles(entry, shape, run.weights, run.x, return_sequences=False)
    expected = {r: expected[r] for r, _ in reference.default_initial_states(entry, shape)}
    record.deviation(assert_flat_matches_oracle(run.impl.state_values(layer), expected, context,
                                                **reference.tolerance("float32")),
                     reference.tolerance_text("float32"))


@pytest.mark.entries(lambda e: not e.bidirectional)
@pytest.mark.shapes("options")
def test_get_initial_state(run, entry, shape, device):
    """The layer's get_initial_state for the input's batch: the states it starts from."""
    layer = run.layer(False, False)
    with run.impl.device(device):
        got = [run.impl.to_numpy(t) for t in run.impl.layer_initial_state(layer, run.x)]
    problems = _initial_problems(got, entry, shape, "layer.get_initial_state", run.describe(False, False))
    assert not problems, "\n".join(problems)


@pytest.mark.entries(BUILT_IN_CELLS)
@pytest.mark.shapes("options")
def test_cell_get_initial_state(run, entry, shape, device):
    """Each built-in cell's get_initial_state (cells in the documented state order)."""
    layer = run.layer(False, False)
    with run.impl.device(device):
        got = [run.impl.to_numpy(t) for cell in run.impl.cells_of(layer)
               for t in run.impl.cell_initial_state(cell, shape.batch, "float32")]
    problems = _initial_problems(got, entry, shape, "cell.get_initial_state(batch_size=...)",
                                 run.describe(False, False))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.shapes("options")
def test_symbolic_dtypes(make_run, entry, shape, device, policy):
    """A call on Input(shape=(None, ...)) under a policy: every returned tensor (the output and
    every state, return_sequences=True, return_state=True) in the policy's compute dtype."""
    compute = POLICIES[policy][0]
    run = make_run(dtype=policy)
    if compute == "float64":
        skip_without_float64(run.impl)
    layer = run.layer(True, True)
    with run.impl.device(device):
        got = run.impl.symbolic_dtypes(layer, tuple(run.x.shape[2:]))
    roles = [leaf.role for leaf in contract.flatten(contract.expected_tree(entry, shape, True, True))]
    if len(roles) != len(got):  # how many it returns is test_symbolic's claim, not this one's
        roles = [f"returned[{i}]" for i in range(len(got))]
    wrong = [f"{r}: {d}" for r, d in zip(roles, got) if d != compute]
    assert got and not wrong, (
        f"a call on Input(shape=(None, ...)) of {run.describe(True, True)} returns dtypes {got}; "
        f"expected every returned tensor in {compute} under {policy} (wrong: {', '.join(wrong)})")
