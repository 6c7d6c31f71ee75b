"""Compiled execution: the structure, shape, identity and value checks of an eager call also hold
where users run a layer compiled.

- ``predict``: the layer inside ``model.predict``, a functional model on
  ``Input(shape=(None, *features))``, with a ``batch_size`` one smaller than the case's batch so
  a partial last batch runs too (Keras's own compiled loop on every backend);
- ``function``: the layer inside the backend's compiled function traced with an unknown batch
  dimension -- ``tf.function`` with ``input_signature=[TensorSpec((None, None, *features))]`` on
  TensorFlow (tf-keras too), ``jax.jit`` over ``stateless_call`` on JAX -- called with two batch
  sizes; n/a where the backend has none (the adapter's ``Backend.compile``, rnnconf/impl/backends/ says why).

One model (one compiled function) per case holds the four flag combinations' layers, with the
same weights (runner.CaseRun.compiled_result); each test reads its combination. Compiled results
meet the oracle at the eager tolerance, ``reference.tolerance("float32")``. Stateful layers: two
compiled calls on the halves of the sequence equal the oracle on the whole.
"""

import pytest

from rnnconf.spec import contract, reference
from rnnconf.harness.asserts import assert_identical, assert_matches_oracle, assert_structure
from rnnconf.harness.outcomes import not_applicable

pytestmark = pytest.mark.mode("compiled")
PATHS = ("predict", "function")
UNIDIRECTIONAL = lambda e: not e.bidirectional  # noqa: E731
# Tracing costs ~1-3 s per case on TensorFlow (2 cores, one model and one compiled function for
# the four combinations), far more than an eager call: the default lane runs LSTM (output, h and
# c; stateful too); --full runs every entry of the option lane.
DEFAULT_LANE = pytest.mark.default_lane(lambda p: p["entry"].id == "LSTM")


def _result(run, path):
    if path == "function" and run.impl.no_compile():
        not_applicable(run.impl, run.impl.no_compile())
    return run.compiled_result(path)


def _how(path, rows=None):
    if path == "predict":
        return "inside model.predict (batch_size = batch - 1)"
    return "inside the backend's compiled function (batch dimension unknown)" + (
        f", called on the first {rows} row(s)" if rows is not None else "")


def _calls(run, path, return_sequences, return_state):
    """(how, flat arrays, batch rows) of every call the path made for this combination."""
    result = _result(run, path)
    key = (return_sequences, return_state)
    calls = [(_how(path), result["full"][key], run.shape.batch)]
    if "part" in result:
        calls.append((_how(path, result["rows"]), result["part"][key], result["rows"]))
    return calls


def _expected(run, return_sequences, return_state, rows):
    tree = contract.expected_tree(run.entry, run.shape, return_sequences, return_state)
    leaves = contract.flatten(tree) if isinstance(tree, list) else [tree]
    return [contract.Leaf(leaf.role, (rows, *leaf.shape[1:])) for leaf in leaves]


@DEFAULT_LANE
@pytest.mark.shapes("options")
@pytest.mark.parametrize("path", PATHS)
def test_compiled_structure(run, entry, return_sequences, return_state, shape, device, path):
    """The documented tensors, in order, with the documented shapes (flat: a functional model's
    outputs and a compiled function's results are the layer's tensors, flat)."""
    for how, flat, rows in _calls(run, path, return_sequences, return_state):
        expected = _expected(run, return_sequences, return_state, rows)
        assert_structure(expected, list(flat), f"{run.describe(return_sequences, return_state)}, {how}")


@DEFAULT_LANE
@pytest.mark.shapes("options")
@pytest.mark.parametrize("path", PATHS)
def test_compiled_last_step_is_final_state(run, entry, return_sequences, shape, device, path):
    for how, flat, rows in _calls(run, path, return_sequences, True):
        roles = _roles(run, flat, return_sequences, True, rows, how)
        pairs = contract.last_step_identities(entry, shape, return_sequences, roles)
        if not pairs:
            pytest.skip("no output/state identity exists for this entry and combination "
                        "(tests/test_identities.py::test_last_step_is_final_state says why)")
        for what, lhs, rhs in pairs:
            assert_identical(lhs, rhs, what, f"{run.describe(return_sequences, True)}, {how}")


@DEFAULT_LANE
@pytest.mark.shapes("options")
@pytest.mark.parametrize("path", PATHS)
def test_compiled_matches_oracle(run, entry, return_sequences, return_state, shape, device, path, record):
    calls = _calls(run, path, return_sequences, return_state)
    expected = reference.expected_roles(entry, shape, run.weights, run.x, return_sequences=return_sequences)
    worst = 0.0
    for how, flat, rows in calls:
        roles = _roles(run, flat, return_sequences, return_state, rows, how)
        worst = max(worst, assert_matches_oracle(
            roles, {k: v[:rows] for k, v in expected.items()},
            f"{run.describe(return_sequences, return_state)}, {how}", **reference.tolerance("float32")))
    record.deviation(worst, reference.tolerance_text("float32"))


@pytest.mark.entries(UNIDIRECTIONAL)
@DEFAULT_LANE
@pytest.mark.shapes("options")
@pytest.mark.parametrize("path", PATHS)
def test_compiled_stateful_halves_equal_whole(make_run, entry, return_sequences, return_state, shape, device,
                                              path, record):
    """stateful=True with a fixed batch: two compiled calls on the halves of the time steps (two
    model.predict calls on one model; two calls of one compiled function) -- the second returns
    what the oracle gives for the whole sequence (its last steps with return_sequences=True)."""
    run = make_run(stateful=True)
    if path == "function" and run.impl.no_compile():
        not_applicable(run.impl, run.impl.no_compile())
    result = run.stateful_halves(path)
    split = result["split"]
    how = ("second of two model.predict calls on one model" if path == "predict"
           else "second of two calls of one compiled function")
    flat = result["second"][(return_sequences, return_state)]
    roles = _roles(run, flat, return_sequences, return_state, shape.batch, how,
                   steps=shape.timesteps - split)
    whole = reference.expected_roles(entry, shape, run.weights, run.x, return_sequences=return_sequences)
    if return_sequences:
        whole = {k: (v[:, split:] if k.startswith("output") else v) for k, v in whole.items()}
    record.deviation(assert_matches_oracle(roles, whole, f"{run.describe(return_sequences, return_state)}, {how}",
                                           **reference.tolerance("float32")),
                     reference.tolerance_text("float32"))


def _roles(run, flat, return_sequences, return_state, rows, how, steps=None):
    """Pair the flat arrays with the contract's roles; fails naming both when the counts or the
    shapes differ (test_compiled_structure reports the difference)."""
    __tracebackhide__ = True
    expected = _expected(run, return_sequences, return_state, rows)
    if steps is not None and return_sequences:
        expected = [contract.Leaf(e.role, (e.shape[0], steps, *e.shape[2:])) if e.role.startswith("output")
                    else e for e in expected]
    problems = contract.structure_mismatches(expected, list(flat))
    if problems:
        pytest.fail(f"{run.describe(return_sequences, return_state)}, {how}: " + "; ".join(problems)
                    + " (test_compiled_structure reports the difference)", pytrace=False)
    return {e.role: a for e, a in zip(expected, flat)}

