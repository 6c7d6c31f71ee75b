"""The oracle's derivatives (rnnconf/spec/gradients.py), in-process, with NumPy only: the stated
accuracy of the central differences, the probe directions' size rule, and one derivative
against its closed form."""

import numpy as np

from rnnconf.spec import catalog, gradients, reference
from rnnconf.spec.seeds import make_input, make_weights

SHAPE = catalog.OPTION_SHAPES[0]


def _case(entry_id):
    entry = catalog.BY_ID[entry_id]
    weights = make_weights(reference.weight_shapes(entry, SHAPE), entry.id, SHAPE.id, scale=entry.weight_scale)
    return entry, weights, make_input(entry, SHAPE)


def test_halving_the_step_changes_the_derivatives_by_less_than_1e_8(monkeypatch):
    """Truncation (h^2/6 |f'''|) and rounding (eps |f| / h) together below 1e-8 at h = 1e-5."""
    entry, weights, x = _case("LSTM")
    coarse = gradients.OracleDerivatives(entry, SHAPE, weights, x, salt="unit")
    monkeypatch.setattr(gradients, "STEP", gradients.STEP / 2)
    fine = gradients.OracleDerivatives(entry, SHAPE, weights, x, salt="unit")
    worst = max(float(np.max(np.abs(coarse.derivatives[p][k] - fine.derivatives[p][k])))
                for p in coarse.derivatives for k in coarse.derivatives[p])
    assert worst < 1e-8, worst


def test_directions_follow_the_size_rule():
    small = gradients.directions(gradients.ELEMENTWISE_LIMIT, "a")
    assert np.array_equal(small, np.eye(gradients.ELEMENTWISE_LIMIT))
    large = gradients.directions(gradients.ELEMENTWISE_LIMIT + 1, "a")
    assert large.shape == (gradients.DIRECTIONS, gradients.ELEMENTWISE_LIMIT + 1)
    assert np.allclose(np.linalg.norm(large, axis=1), 1.0)
    assert np.array_equal(large, gradients.directions(gradients.ELEMENTWISE_LIMIT + 1, "a"))  # seeded
    assert not np.array_equal(large, gradients.directions(gradients.ELEMENTWISE_LIMIT + 1, "b"))


def test_simple_rnn_bias_derivative_matches_its_closed_form():
    """One step of SimpleRNN from zero states: h = tanh(x W + b), so dh_j/db_j = 1 - h_j^2."""
    entry = catalog.BY_ID["SimpleRNN"]
    shape = catalog.Shape(batch=2, timesteps=1, features=5, units=3)
    weights = make_weights(reference.weight_shapes(entry, shape), "unit", shape.id)
    x = make_input(entry, shape)
    d = gradients.OracleDerivatives(entry, shape, weights, x, probe_input=False)
    h = d.base[(False, "h")]
    dh_db = d.derivatives["weight[2]"][(False, "h")]  # (direction j, batch, unit)
    expected = np.stack([np.where(np.arange(3) == j, 1 - h ** 2, 0.0) for j in range(3)])
    assert np.max(np.abs(dh_db - expected)) < 1e-9
