"""``TimeDistributed`` (rnnconf/spec/models.py quotes its docstring): the wrapped layer applied to
every slice of the input with the same weights, so the output is the layer's own, slice by slice,
and the wrapper passes its ``mask`` on to the wrapped layer ("This argument is passed to the
wrapped layer (only if the layer supports this argument)").

Wrapped: SimpleRNN, LSTM, GRU, stacked cells and Bidirectional(LSTM) on ``(batch, 2, T,
features)``, each with ``return_sequences`` False and True (the wrapper returns one tensor:
``return_state`` is not a case), against the oracle run on every slice; and the two
non-recurrent layers the documentation wraps, ``Dense`` on ``(batch, T, features)`` and
``Conv1D`` on ``(batch, 2, T, features)``, against their NumPy twins. Checked: ``compute_output_shape``
asked directly, symbolically (batch, outer and inner steps unknown), eagerly, by ``model.predict``, inside the backend's
compiled function (one trace, two batch sizes), after a ``.keras`` round trip, under each dtype
policy (every layer of the model, the wrapper too, given the policy), and -- where every wrapped
layer documents a mask -- behind ``Masking`` and ``Embedding(mask_zero=True)``, whose ``(batch,
2, T)`` (Dense: ``(batch, T)``) mask must mask each slice's steps and reach the layer after the
wrapper in the shape of what the wrapper returns. A mask of another shape must be refused:
tests/test_validation.py's ``td_mask_*`` rules.
"""

import numpy as np
import pytest

from rnnconf.harness.asserts import assert_structure
from rnnconf.harness.checks import check_composed
from rnnconf.harness.masks import describe
from rnnconf.harness.outcomes import not_applicable, skip_without_float64
from rnnconf.spec import contract, models

wrapped = pytest.mark.compositions(lambda c: c.kind == "timedistributed")
masked = pytest.mark.compositions(lambda c: c.kind == "timedistributed" and c.takes_mask)
fronts = pytest.mark.parametrize("front", models.FRONT_CASES)
default_fronts = pytest.mark.default_lane(lambda p: p["front"] in models.DEFAULT_FRONT_CASES)
# model.predict, tracing and the policies cost a model build or a compiled function each (~1-2.6 s
# a wrapped recurrent layer on TensorFlow, 2 cores): the default lane predicts and runs the
# policies on the wrapped LSTM and Dense, and traces the wrapped Dense (the cheapest trace that
# still shows the traced path); --full every wrapped layer.
DEFAULT_PAIR = pytest.mark.default_lane(lambda p: p["composition"].id in ("TD_LSTM", "TD_Dense"))
TRACED_LANE = pytest.mark.default_lane(lambda p: p["composition"].id == "TD_Dense")
POLICIES = {policy: compute for policy, (compute, _) in contract.DTYPE_POLICIES.items()}  # -> compute dtype
policies = pytest.mark.parametrize("policy", list(POLICIES))


@wrapped
@pytest.mark.shapes("options")
def test_td_symbolic_shapes(composed, composition, return_sequences, return_state, shape, device):
    """The output on ``Input(shape=(None, None, features))``: the layer's, after batch and outer axis."""
    got = composed.symbolic().arrays(return_sequences, return_state)
    expected = contract.flatten(composition.expected(shape, return_sequences, return_state, symbolic=True))
    assert_structure(expected, got, f"{composed.describe(return_sequences, return_state)}, symbolic outputs")


@wrapped
@pytest.mark.shapes("options")
def test_td_compute_output_shape(composed, composition, return_sequences, return_state, shape, device):
    """``TimeDistributed(layer).compute_output_shape`` on the input's shape, every size known:
    the layer's, with the outer axis after the batch."""
    got = composed.compute_output_shape(return_sequences, return_state)
    expected = contract.flatten(composition.expected(shape, return_sequences, return_state))
    assert_structure(expected, got, f"{composed.describe(return_sequences, return_state)}, compute_output_shape")


@wrapped
@pytest.mark.shapes("notebook", "options")
def test_td_shapes(composed, composition, return_sequences, return_state, shape, device, record):
    """Called eagerly: one tensor, the wrapped layer's output slice by slice, ``(batch, outer,
    *the layer's output without its batch)`` (a Dense on ``(batch, T, features)``: ``(batch, T,
    units)``) -- the notebook's table, with the wrapper (the report's TD_ rows)."""
    got = composed.eager().arrays(return_sequences, return_state)
    expected = composition.expected(shape, return_sequences, return_state)
    record.returned(expected, got[0] if len(got) == 1 else got, view="eager")
    assert_structure(contract.flatten(expected), got, f"{composed.describe(return_sequences, return_state)}, "
                                                      "called eagerly")


@wrapped
@pytest.mark.shapes("options")
def test_td_matches_oracle(composed, composition, return_sequences, return_state, shape, device, record):
    """Called eagerly: the oracle (the NumPy twin) on every slice."""
    check_composed(composed, composed.eager(), return_sequences, return_state, "called eagerly", record)


@masked
@fronts
@default_fronts
@pytest.mark.shapes("options")
def test_td_front_matches_oracle(composed, composition, return_sequences, return_state, shape, device, front,
                                 record):
    """Behind a front: the oracle with the front's mask, slice by slice (a Dense's values do not
    depend on the mask)."""
    check_composed(composed, composed.eager(front), return_sequences, return_state, "called eagerly", record,
                   front=front)


@masked
@fronts
@default_fronts
@pytest.mark.shapes("options")
def test_td_mask_reaches_next_layer(composed, composition, return_sequences, return_state, shape, device,
                                    front):
    """The mask the layer after the wrapper is called with describes what the wrapper returns.

    Where the wrapped layer keeps the slice's steps (``return_sequences=True``; Dense, whose
    slices are the steps), that is the front's mask, ``(batch, outer, T)`` (``(batch, T)``).
    Where it drops them (``return_sequences=False``: ``(batch, outer, units)``), a ``(batch,
    outer, T)`` mask no longer fits the output (the masking guide: a layer that changes the
    shape must compute its mask, "compute_mask(input, previous_mask)"; a recurrent layer after
    it reads the mask as ``(batch, timesteps)``): no mask, or the outer steps' mask, an outer
    step masked when every one of its steps is (tf-keras's ``TimeDistributed.compute_mask``:
    "Reduce the input_mask to 2 dimensions")."""
    got = composed.eager(front)
    seen = got.masks(return_sequences, return_state)
    mask = got.feed.mask
    context = f"{composed.describe(return_sequences, return_state, front)}, in a functional model"
    have = seen[0] if len(seen) == 1 else seen  # one tensor returned (test_td_shapes); several: a list, wrong
    one = not isinstance(have, (str, list))  # a probe called with one mask (or None)
    keeps_steps = return_sequences or composition.plain is not None
    if keeps_steps:
        ok = have is not None and one and have.shape == mask.shape and np.array_equal(have, mask)
        due = f"the front's mask {mask.astype(int).tolist()}"
    else:
        outer = mask.any(axis=-1)
        ok = have is None or (one and have.shape == outer.shape and np.array_equal(have, outer))
        due = f"no mask, or the outer steps' mask {outer.astype(int).tolist()}"
    got_text = have if isinstance(have, str) else describe(have) + (
        f" {np.asarray(have).astype(int).tolist()}" if one and have is not None else "")
    assert ok, f"{context}: the layer after the wrapper was called with {got_text}; expected {due}"


@wrapped
@DEFAULT_PAIR
@pytest.mark.mode("compiled")
@pytest.mark.shapes("options")
def test_td_predict_matches_oracle(composed, composition, return_sequences, return_state, shape, device,
                                   record):
    """``model.predict`` (a partial last batch): the oracle on every slice."""
    check_composed(composed, composed.predicted(), return_sequences, return_state, "model.predict", record)


@wrapped
@TRACED_LANE
@pytest.mark.mode("compiled")
@pytest.mark.shapes("options")
def test_td_function_matches_oracle(composed, composition, return_sequences, return_state, shape, device,
                                    record):
    """Inside the backend's compiled function traced with the batch and every step axis unknown
    (``tf.function`` with a ``TensorSpec`` of ``None``\\ s; ``jax.jit``), called on the whole batch
    and on fewer rows: the oracle's values both times."""
    if composed.impl.no_compile():
        not_applicable(composed.impl, composed.impl.no_compile())
    rows = max(1, shape.batch - 1)
    check_composed(composed, composed.function(), return_sequences, return_state,
                   "inside the backend's compiled function (batch and steps unknown)", record)
    check_composed(composed, composed.function(rows), return_sequences, return_state,
                   f"inside the same compiled function, called on the first {rows} row(s)", record, rows=rows)


@wrapped
@pytest.mark.shapes("options")
def test_td_keras_file_matches_oracle(composed, composition, return_sequences, return_state, shape, device,
                                      tmp_path_factory, record):
    """Saved as a ``.keras`` file and loaded back: the wrapper and its layer, the oracle's values."""
    reloaded = composed.reloaded(tmp_path_factory.mktemp("td"))
    check_composed(composed, reloaded, return_sequences, return_state, "after a .keras save and load", record)


def _under(composed, policy):
    if POLICIES[policy] == "float64":
        skip_without_float64(composed.impl)
    return composed.under(policy)


@wrapped
@DEFAULT_PAIR
@policies
@pytest.mark.shapes("options")
def test_td_dtype_under_policy(composed, composition, return_sequences, return_state, shape, device, policy):
    """Every layer under the policy (the wrapper too, as a global policy would give it): the
    wrapper returns the policy's compute dtype ("the dtype of the layer's computations and
    outputs")."""
    run = _under(composed, policy)
    arrays = run.eager().arrays(return_sequences, return_state)
    wrong = [str(a.dtype) for a in arrays if str(a.dtype) != POLICIES[policy]]
    assert not wrong, (f"{run.describe(return_sequences, return_state)}: returned {', '.join(wrong)}, expected "
                       f"{POLICIES[policy]}")


@wrapped
@DEFAULT_PAIR
@policies
@pytest.mark.shapes("options")
def test_td_values_under_policy(composed, composition, return_sequences, return_state, shape, device, policy,
                                record):
    """Under the policy: the oracle's values within the compute dtype's tolerance."""
    run = _under(composed, policy)
    check_composed(run, run.eager(), return_sequences, return_state, "called eagerly", record,
                   dtype=POLICIES[policy])
