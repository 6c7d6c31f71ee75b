"""Tests of the NumPy oracle itself (rnnconf/oracle.py); pure NumPy, no Keras.

Part 1 reproduces the setups of Keras's own unit tests -- constant initializers
(kernel 0.01, recurrent 0.02, bias 0.03 unless stated) on ``np.arange`` inputs --
and compares the oracle with the expected values Keras publishes there. Those
numbers were computed in float32, so the tolerance is rtol = atol = 1e-5.
Since every weight is constant, most published outputs repeat one value over
all units; such cases list one value per row (or per row and step) and are
broadcast over the units.

Part 2 checks properties that can be verified by hand.
"""

import numpy as np
import pytest

from rnnconf.oracle import (
    BiResult,
    CellSpec,
    Result,
    bidirectional,
    random_weights,
    rnn,
    state_count,
    weight_shapes,
)

TOL = dict(rtol=1e-5, atol=1e-5)


def const_weights(spec, input_dim, kernel=0.01, recurrent=0.02, bias=0.03,
                  unit_forget_bias=False):
    """Weights as Keras's Constant initializers would build them."""
    shapes = weight_shapes(spec, input_dim)
    w = [np.full(shapes[0], kernel, np.float32), np.full(shapes[1], recurrent, np.float32)]
    if spec.use_bias:
        b = np.full(shapes[2], bias, np.float32)
        if unit_forget_bias:  # LSTM default: forget-gate bias starts at 1.0
            b[spec.units:2 * spec.units] = 1.0
        w.append(b)
    return w


def seq(*shape):
    return np.arange(int(np.prod(shape))).reshape(shape).astype(np.float32)


def close(actual, expected, **tol):
    actual = np.asarray(actual)
    expected = np.asarray(expected, np.float64)
    if expected.ndim < actual.ndim:  # one value per row (and step): all units equal
        expected = expected.reshape(expected.shape + (1,) * (actual.ndim - expected.ndim))
    np.testing.assert_allclose(actual, np.broadcast_to(expected, actual.shape), **(tol or TOL))


MASK_A = np.array([[True, True, False, True], [True, False, False, True]])  # simple_rnn / gru / bidirectional
MASK_B = np.array([[True, True, True, False], [True, True, False, False]])  # lstm


def run1(kind, units, x, *, reset_after=True, use_bias=True, unit_forget_bias=None, **kw):
    spec = CellSpec(kind, units, reset_after=reset_after, use_bias=use_bias)
    if unit_forget_bias is None:
        unit_forget_bias = kind == "lstm"  # Keras's LSTM default
    return rnn([spec], const_weights(spec, x.shape[-1], unit_forget_bias=unit_forget_bias), x, **kw)


def run_stateful_twice(kind, units, x):
    """A stateful layer called twice on x: the second call starts from the first's final states."""
    first = run1(kind, units, x)
    return run1(kind, units, x, initial_state=[s for cell in first.states for s in cell])


# ---------------------------------------------------------------- Part 1: published numbers

# simple_rnn_test.py @ v3.15.1
def test_published_simple_rnn_correctness():
    x = seq(2, 3, 4)
    # keras@v3.15.1 keras/src/layers/rnn/simple_rnn_test.py, test_correctness (also unroll=True)
    close(run1("simple", 4, x).last_output, [0.405432, 0.73605347])
    # keras@v3.15.1 keras/src/layers/rnn/simple_rnn_test.py, test_correctness, go_backwards=True
    close(run1("simple", 4, x, go_backwards=True).last_output, [0.11144729, 0.5528889])


def test_published_simple_rnn_statefulness():
    # keras@v3.15.1 keras/src/layers/rnn/simple_rnn_test.py, test_statefulness (second call of a stateful layer)
    close(run_stateful_twice("simple", 4, seq(2, 3, 4)).last_output, [0.40559256, 0.7361247])


def test_published_simple_rnn_initial_state():
    x, h0 = seq(2, 4, 3), [seq(2, 4)]
    # keras@v3.15.1 keras/src/layers/rnn/simple_rnn_test.py, test_pass_initial_state
    close(run1("simple", 4, x, initial_state=h0).last_output, [0.33621645, 0.6262637])
    close(run1("simple", 4, x, initial_state=h0, go_backwards=True).last_output,
          [0.07344437, 0.43043602])


def test_published_simple_rnn_masking():
    x = seq(2, 4, 3)
    # keras@v3.15.1 keras/src/layers/rnn/simple_rnn_test.py, test_masking (units=4, unroll=True)
    close(run1("simple", 4, x, mask=MASK_A).last_output, [0.32951632, 0.61799484])
    # keras@v3.15.1 keras/src/layers/rnn/simple_rnn_test.py, test_masking (units=2, return_sequences=True)
    close(run1("simple", 2, x, mask=MASK_A).sequence,
          [[0.0599281, 0.15122814, 0.15122814, 0.32394567],
           [0.3969304, 0.3969304, 0.3969304, 0.608085]])
    # keras@v3.15.1 keras/src/layers/rnn/simple_rnn_test.py, test_masking (return_sequences=True, zero_output_for_mask=True)
    close(run1("simple", 2, x, mask=MASK_A, zero_output_for_mask=True).sequence,
          [[0.0599281, 0.15122814, 0.0, 0.32394567],
           [0.3969304, 0.0, 0.0, 0.608085]])
    # keras@v3.15.1 keras/src/layers/rnn/simple_rnn_test.py, test_masking (units=4, go_backwards=True)
    close(run1("simple", 4, x, mask=MASK_A, go_backwards=True).last_output,
          [0.07376196, 0.43645123])


# lstm_test.py @ v3.15.1
def test_published_lstm_correctness():
    x = seq(3, 6, 4)
    # keras@v3.15.1 keras/src/layers/rnn/lstm_test.py, test_correctness (implementation 1 and 2; also unroll=True)
    close(run1("lstm", 3, x).last_output, [0.6288687, 0.86899155, 0.9460773])
    # keras@v3.15.1 keras/src/layers/rnn/lstm_test.py, test_correctness, go_backwards=True
    close(run1("lstm", 3, x, go_backwards=True).last_output, [0.35622165, 0.74789524, 0.8872726])
    # keras@v3.15.1 keras/src/layers/rnn/lstm_test.py, test_correctness, unit_forget_bias=False
    close(run1("lstm", 3, x, unit_forget_bias=False).last_output, [0.57019705, 0.8661914, 0.9459622])
    # keras@v3.15.1 keras/src/layers/rnn/lstm_test.py, test_correctness, use_bias=False
    close(run1("lstm", 3, x, use_bias=False).last_output, [0.54986924, 0.86226785, 0.9443936])


def test_published_lstm_statefulness():
    # keras@v3.15.1 keras/src/layers/rnn/lstm_test.py, test_statefulness
    close(run_stateful_twice("lstm", 4, seq(2, 3, 4)).last_output, [0.3124785, 0.6863672])


def test_published_lstm_initial_state():
    x, s0 = seq(2, 4, 3), [seq(2, 2), seq(2, 2)]
    # keras@v3.15.1 keras/src/layers/rnn/lstm_test.py, test_pass_initial_state
    close(run1("lstm", 2, x, initial_state=s0).last_output,
          [[0.20574439, 0.3558822], [0.64930826, 0.66276]])
    close(run1("lstm", 2, x, initial_state=s0, go_backwards=True).last_output,
          [[0.13281618, 0.2790356], [0.5839337, 0.5992567]])


def test_published_lstm_masking():
    x = seq(2, 4, 3)
    # keras@v3.15.1 keras/src/layers/rnn/lstm_test.py, test_masking (unroll=True)
    close(run1("lstm", 2, x, mask=MASK_B).last_output, [0.11755939, 0.28556206])
    # keras@v3.15.1 keras/src/layers/rnn/lstm_test.py, test_masking (return_sequences=True)
    close(run1("lstm", 2, x, mask=MASK_B).sequence,
          [[0.01588910, 0.05552048, 0.11755939, 0.11755939],
           [0.14185596, 0.28556206, 0.28556206, 0.28556206]])
    # keras@v3.15.1 keras/src/layers/rnn/lstm_test.py, test_masking (return_sequences=True, zero_output_for_mask=True)
    close(run1("lstm", 2, x, mask=MASK_B, zero_output_for_mask=True).sequence,
          [[0.01588910, 0.05552048, 0.11755939, 0.0],
           [0.14185596, 0.28556206, 0.0, 0.0]])
    # keras@v3.15.1 keras/src/layers/rnn/lstm_test.py, test_masking (go_backwards=True, left-padded mask)
    back_mask = np.array([[False, True, True, True], [False, False, True, True]])
    close(run1("lstm", 2, x, mask=back_mask, go_backwards=True).last_output,
          [0.15341201, 0.3844719])


# gru_test.py @ v3.15.1
def test_published_gru_correctness():
    x = seq(3, 6, 4)
    # keras@v3.15.1 keras/src/layers/rnn/gru_test.py, test_correctness (also unroll=True, test_legacy_implementation_argument)
    close(run1("gru", 3, x).last_output, [0.5217289, 0.6371659, 0.39384964])
    # keras@v3.15.1 keras/src/layers/rnn/gru_test.py, test_correctness, go_backwards=True
    close(run1("gru", 3, x, go_backwards=True).last_output, [0.24406259, 0.611516, 0.3928808])
    # keras@v3.15.1 keras/src/layers/rnn/gru_test.py, test_correctness, reset_after=False
    close(run1("gru", 3, x, reset_after=False).last_output, [0.51447755, 0.6426879, 0.40208298])
    # keras@v3.15.1 keras/src/layers/rnn/gru_test.py, test_correctness, use_bias=False
    close(run1("gru", 3, x, use_bias=False).last_output, [0.49988455, 0.64701194, 0.4103359])


def test_published_gru_statefulness():
    # keras@v3.15.1 keras/src/layers/rnn/gru_test.py, test_statefulness
    close(run_stateful_twice("gru", 4, seq(2, 3, 4)).last_output, [0.29542392, 0.5885018])


def test_published_gru_initial_and_return_state():
    x, h0 = seq(2, 4, 3), [seq(2, 2)]
    # keras@v3.15.1 keras/src/layers/rnn/gru_test.py, test_pass_initial_state and test_pass_return_state (state == output)
    fw = run1("gru", 2, x, initial_state=h0)
    close(fw.last_output, [[0.23774096, 0.33508456], [0.83659905, 1.0227708]])
    close(fw.states[0][0], [[0.23774096, 0.33508456], [0.83659905, 1.0227708]])
    bw = run1("gru", 2, x, initial_state=h0, go_backwards=True)
    close(bw.last_output, [[0.13486053, 0.23261218], [0.78257304, 0.9691353]])
    close(bw.states[0][0], [[0.13486053, 0.23261218], [0.78257304, 0.9691353]])


def test_published_gru_masking():
    x = seq(2, 4, 3)
    # keras@v3.15.1 keras/src/layers/rnn/gru_test.py, test_masking (unroll=True)
    close(run1("gru", 2, x, mask=MASK_A).last_output, [0.19393763, 0.30818558])
    # keras@v3.15.1 keras/src/layers/rnn/gru_test.py, test_masking (return_sequences=True)
    close(run1("gru", 2, x, mask=MASK_A).sequence,
          [[0.03606692, 0.09497581, 0.09497581, 0.19393763],
           [0.16051409, 0.16051409, 0.16051409, 0.30818558]])
    # keras@v3.15.1 keras/src/layers/rnn/gru_test.py, test_masking (return_sequences=True, zero_output_for_mask=True)
    close(run1("gru", 2, x, mask=MASK_A, zero_output_for_mask=True).sequence,
          [[0.03606692, 0.09497581, 0.0, 0.19393763],
           [0.16051409, 0.0, 0.0, 0.30818558]])
    # keras@v3.15.1 keras/src/layers/rnn/gru_test.py, test_masking (go_backwards=True)
    close(run1("gru", 2, x, mask=MASK_A, go_backwards=True).last_output, [0.11669192, 0.28380975])


# bidirectional_test.py @ v3.15.1
def bi1(kind, units, x, merge_mode="concat", bw_weights=None, **kw):
    spec = CellSpec(kind, units)
    w = const_weights(spec, x.shape[-1], unit_forget_bias=kind == "lstm")
    return bidirectional(spec, w, spec, bw_weights or w, x, merge_mode=merge_mode, **kw)


def test_published_bidirectional_correctness():
    x = seq(2, 3, 4)
    # keras@v3.15.1 keras/src/layers/rnn/bidirectional_test.py, test_correctness (SimpleRNN(2), concat)
    close(bi1("simple", 2, x).last_output,
          [[0.39687276, 0.39687276, 0.10004295, 0.10004295],
           [0.7237238, 0.7237238, 0.53391594, 0.53391594]])
    # keras@v3.15.1 keras/src/layers/rnn/bidirectional_test.py, test_correctness (merge_mode="ave")
    close(bi1("simple", 2, x, "ave").last_output, [0.24845785, 0.6288199])
    # keras@v3.15.1 keras/src/layers/rnn/bidirectional_test.py, test_correctness (merge_mode=None)
    fw, bw = bi1("simple", 2, x, None).last_output
    close(fw, [0.39687276, 0.7237238])
    close(bw, [0.10004295, 0.53391594])
    # keras@v3.15.1 keras/src/layers/rnn/bidirectional_test.py, test_correctness (merge_mode="mul", backward layer with
    # kernel 0.03, recurrent 0.02, bias 0.01)
    w_bw = const_weights(CellSpec("simple", 2), 4, kernel=0.03, recurrent=0.02, bias=0.01)
    close(bi1("simple", 2, x, "mul", bw_weights=w_bw).last_output, [0.08374989, 0.6740834])
    # keras@v3.15.1 keras/src/layers/rnn/bidirectional_test.py, test_correctness (GRU(2, return_sequences=True), "sum")
    close(bi1("gru", 2, x, "sum").sequence,
          [[0.20937867, 0.34462988, 0.40290534],
           [0.59829646, 0.6734641, 0.6479671]])


def test_published_bidirectional_statefulness():
    x = seq(2, 4, 3)
    first = bi1("lstm", 2, x)
    second = bi1("lstm", 2, x, initial_state=first.forward_states + first.backward_states)
    # keras@v3.15.1 keras/src/layers/rnn/bidirectional_test.py, test_statefulness (LSTM(2, stateful=True), second call)
    close(second.last_output,
          [[0.26234663, 0.26234663, 0.16959146, 0.16959146],
           [0.6137073, 0.6137073, 0.5381646, 0.5381646]])


def test_published_bidirectional_initial_state():
    x = seq(2, 4, 3)
    init = [seq(2, 2) * k for k in (1, 2, 3, 4)]  # fw h, fw c, bw h, bw c
    # keras@v3.15.1 keras/src/layers/rnn/bidirectional_test.py, test_pass_initial_state (LSTM(2))
    close(bi1("lstm", 2, x, initial_state=init).last_output,
          [[0.20794602, 0.4577124, 0.14046375, 0.48191673],
           [0.6682636, 0.6711909, 0.60943645, 0.60950446]])


def test_published_bidirectional_masking():
    # keras@v3.15.1 keras/src/layers/rnn/bidirectional_test.py, test_masking (GRU(2))
    close(bi1("gru", 2, seq(2, 4, 3), mask=MASK_A).last_output,
          [[0.19393763, 0.19393763, 0.11669192, 0.11669192],
           [0.30818558, 0.30818558, 0.28380975, 0.28380975]])


def test_published_bidirectional_return_state():
    r = bi1("lstm", 2, seq(2, 4, 3))
    # keras@v3.15.1 keras/src/layers/rnn/bidirectional_test.py, test_return_state (LSTM(2, return_state=True)): output, h1, c1, h2, c2
    close(r.last_output,
          [[0.1990008, 0.1990008, 0.12659755, 0.12659755],
           [0.52335435, 0.52335435, 0.44717982, 0.44717982]])
    h1, c1 = r.forward_states
    h2, c2 = r.backward_states
    close(h1, [0.1990008, 0.52335435])
    close(c1, [0.35567185, 1.0492687])
    close(h2, [0.12659755, 0.44717982])
    close(c2, [0.2501858, 0.941473])


def test_published_stacked_lstm_cells_mask():
    # keras@v3.15.1 keras/src/layers/rnn/stacked_rnn_cells_test.py, test_stacked_lstm_cell_mask: two LSTMCell(1) with
    # kernel/recurrent "ones", default zero bias (+1 forget bias), input ones (2, 3, 4); atol 1e-4
    specs = [CellSpec("lstm", 1), CellSpec("lstm", 1)]
    w = const_weights(specs[0], 4, 1.0, 1.0, 0.0, True) + const_weights(specs[1], 1, 1.0, 1.0, 0.0, True)
    mask = np.array([[True, True, True], [True, True, False]])
    out = rnn(specs, w, np.ones((2, 3, 4)), mask=mask).last_output
    np.testing.assert_allclose(out, [[0.7793], [0.5998]], atol=1e-4, rtol=0)


# ---------------------------------------------------------------- Part 2: hand-checkable properties

KINDS = [CellSpec("simple", 3), CellSpec("lstm", 3), CellSpec("gru", 3),
         CellSpec("gru", 3, reset_after=False), CellSpec("lstm", 2, use_bias=False),
         CellSpec("gru", 2, use_bias=False)]
IDS = ["simple", "lstm", "gru", "gru_ra_false", "lstm_nobias", "gru_nobias"]


def rand_case(spec, B=3, T=5, F=4, seed=0):
    rng = np.random.default_rng(seed)
    return random_weights([spec], F, rng), rng.normal(size=(B, T, F)).astype(np.float32), rng


@pytest.mark.parametrize("spec", KINDS, ids=IDS)
def test_weight_shapes_match_random_weights(spec):
    w, _, _ = rand_case(spec)
    assert [a.shape for a in w] == weight_shapes(spec, 4)
    assert all(a.dtype == np.float32 and np.abs(a).max() <= 0.5 for a in w)
    g = {"simple": 1, "lstm": 4, "gru": 3}[spec.kind]
    assert weight_shapes(spec, 4)[:2] == [(4, g * spec.units), (spec.units, g * spec.units)]
    assert state_count(spec) == (2 if spec.kind == "lstm" else 1)


def test_weight_shapes_bias_layouts():
    assert weight_shapes(CellSpec("gru", 5), 2)[2] == (2, 15)
    assert weight_shapes(CellSpec("gru", 5, reset_after=False), 2)[2] == (15,)
    assert weight_shapes(CellSpec("lstm", 5), 2)[2] == (20,)
    assert len(weight_shapes(CellSpec("simple", 5, use_bias=False), 2)) == 2


def test_random_weights_stack_input_dims():
    specs = [CellSpec("lstm", 3), CellSpec("gru", 2)]
    w = random_weights(specs, 7, np.random.default_rng(1))
    assert [a.shape for a in w] == weight_shapes(specs[0], 7) + weight_shapes(specs[1], 3)


def test_one_step_simple_rnn_by_hand():
    spec = CellSpec("simple", 3)
    W, U, b = random_weights([spec], 4, np.random.default_rng(2))
    x = np.random.default_rng(3).normal(size=(2, 1, 4))
    r = rnn([spec], [W, U, b], x)
    expected = np.tanh(x[:, 0] @ W.astype(np.float64) + b)
    np.testing.assert_allclose(r.last_output, expected, rtol=1e-12)
    np.testing.assert_allclose(r.sequence[:, 0], expected, rtol=1e-12)
    np.testing.assert_allclose(r.states[0][0], expected, rtol=1e-12)


def test_one_step_lstm_and_gru_by_hand():
    sig = lambda v: 1 / (1 + np.exp(-v))
    x = np.array([[[0.5, -1.0]]])
    # LSTM, 1 unit, gate order i, f, c, o; zero initial state -> f drops out
    W = np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]])
    b = np.array([0.01, 0.02, 0.03, 0.04])
    pre = x[0, 0] @ W + b
    c = sig(pre[0]) * np.tanh(pre[2])
    r = rnn([CellSpec("lstm", 1)], [W, np.zeros((1, 4)), b], x)
    np.testing.assert_allclose(r.states[0][1], [[c]], rtol=1e-12)
    np.testing.assert_allclose(r.states[0][0], [[sig(pre[3]) * np.tanh(c)]], rtol=1e-12)
    # GRU, 1 unit, gate order z, r, h; h0 = 0 -> h = (1 - z) * tanh(x W_h + b_h)
    Wg, bg = W[:, :3], np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    z = sig(x[0, 0] @ Wg[:, 0] + bg[0, 0] + bg[1, 0])
    rr = sig(x[0, 0] @ Wg[:, 1] + bg[0, 1] + bg[1, 1])
    hh = np.tanh(x[0, 0] @ Wg[:, 2] + bg[0, 2] + rr * bg[1, 2])  # reset_after: r scales b1_h
    out = rnn([CellSpec("gru", 1)], [Wg, np.zeros((1, 3)), bg], x).last_output
    np.testing.assert_allclose(out, [[(1 - z) * hh]], rtol=1e-12)
    hh2 = np.tanh(x[0, 0] @ Wg[:, 2] + 0.3)  # reset_after=False: r only multiplies h (= 0)
    z2 = sig(x[0, 0] @ Wg[:, 0] + 0.1)
    out2 = rnn([CellSpec("gru", 1, reset_after=False)], [Wg, np.zeros((1, 3)), bg[0]], x).last_output
    np.testing.assert_allclose(out2, [[(1 - z2) * hh2]], rtol=1e-12)


@pytest.mark.parametrize("spec", [CellSpec("simple", 3), CellSpec("gru", 3),
                                  CellSpec("gru", 3, reset_after=False)], ids=["simple", "gru", "gru_ra_false"])
def test_zero_weights_give_zero_outputs(spec):
    w, x, _ = rand_case(spec)
    r = rnn([spec], [np.zeros_like(a) for a in w], x)
    assert np.all(r.sequence == 0) and np.all(r.last_output == 0)
    assert all(np.all(s == 0) for s in r.states[0])


@pytest.mark.parametrize("spec", KINDS, ids=IDS)
def test_go_backwards_equals_forward_on_reversed_input(spec):
    w, x, rng = rand_case(spec)
    init = [rng.normal(size=(3, spec.units)) for _ in range(state_count(spec))]
    back = rnn([spec], w, x, go_backwards=True, initial_state=init)
    fwd = rnn([spec], w, x[:, ::-1], initial_state=init)
    np.testing.assert_array_equal(back.sequence, fwd.sequence)
    np.testing.assert_array_equal(back.last_output, fwd.last_output)
    np.testing.assert_array_equal(back.sequence[:, -1], back.states[0][0])


@pytest.mark.parametrize("spec", KINDS, ids=IDS)
def test_unmasked_last_output_is_h(spec):
    w, x, _ = rand_case(spec)
    r = rnn([spec], w, x)
    np.testing.assert_array_equal(r.last_output, r.sequence[:, -1])
    np.testing.assert_array_equal(r.last_output, r.states[0][0])
    all_true = rnn([spec], w, x, mask=np.ones(x.shape[:2], bool))
    np.testing.assert_array_equal(all_true.sequence, r.sequence)


@pytest.mark.parametrize("spec", KINDS, ids=IDS)
@pytest.mark.parametrize("zero_output", [False, True])
def test_fully_masked_row_keeps_initial_state(spec, zero_output):
    w, x, rng = rand_case(spec)
    init = [rng.normal(size=(3, spec.units)) for _ in range(state_count(spec))]
    mask = np.ones((3, 5), bool)
    mask[1] = False
    r = rnn([spec], w, x, mask=mask, initial_state=init, zero_output_for_mask=zero_output)
    for got, want in zip(r.states[0], init):
        np.testing.assert_array_equal(got[1], want[1])
    assert np.all(r.sequence[1] == 0) and np.all(r.last_output[1] == 0)
    # the other rows are unaffected by row 1's mask
    ref = rnn([spec], w, x, initial_state=init)
    np.testing.assert_allclose(r.sequence[[0, 2]], ref.sequence[[0, 2]], rtol=1e-12)


@pytest.mark.parametrize("spec", KINDS, ids=IDS)
def test_right_padded_mask_equals_truncated_run(spec):
    w, x, rng = rand_case(spec, B=3, T=6)
    lengths = [6, 4, 1]
    mask = np.arange(6)[None, :] < np.array(lengths)[:, None]
    for zero_output in (False, True):
        r = rnn([spec], w, x, mask=mask, zero_output_for_mask=zero_output)
        for row, n in enumerate(lengths):
            ref = rnn([spec], w, x[row:row + 1, :n])
            for got, want in zip(r.states[0], ref.states[0]):
                np.testing.assert_allclose(got[row], want[0], rtol=1e-12, atol=1e-15)
            # documented: last output is the output after the last unmasked step
            np.testing.assert_allclose(r.last_output[row], ref.last_output[0], rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(r.sequence[row, :n], ref.sequence[0], rtol=1e-12, atol=1e-15)
            pad = r.sequence[row, n:]
            want_pad = 0.0 if zero_output else r.sequence[row, n - 1]  # repeated exactly
            np.testing.assert_array_equal(pad, np.broadcast_to(want_pad, pad.shape))


def test_left_padded_mask_outputs_zeros_before_first_valid_step():
    spec = CellSpec("lstm", 2)
    w, x, rng = rand_case(spec, B=2, T=4)
    init = [rng.normal(size=(2, 2)), rng.normal(size=(2, 2))]
    mask = np.array([[False, False, True, True], [True, True, True, True]])
    r = rnn([spec], w, x, mask=mask, initial_state=init)
    # generic Keras loop: the "previous output" starts as zeros, not as h0
    assert np.all(r.sequence[0, :2] == 0)
    ref = rnn([spec], w, x[:1, 2:], initial_state=[s[:1] for s in init])
    np.testing.assert_allclose(r.sequence[0, 2:], ref.sequence[0], rtol=1e-12)


def test_mask_with_go_backwards_reverses_mask():
    spec = CellSpec("gru", 3)
    w, x, _ = rand_case(spec)
    mask = np.random.default_rng(5).random((3, 5)) > 0.4
    back = rnn([spec], w, x, mask=mask, go_backwards=True)
    fwd = rnn([spec], w, x[:, ::-1], mask=mask[:, ::-1])
    np.testing.assert_array_equal(back.sequence, fwd.sequence)
    np.testing.assert_array_equal(back.states[0][0], fwd.states[0][0])


def test_zero_output_for_mask_only_changes_the_sequence():
    spec = CellSpec("simple", 3)
    w, x, _ = rand_case(spec)
    mask = np.array([[True, True, True, False, False]] * 3)
    a = rnn([spec], w, x, mask=mask)
    b = rnn([spec], w, x, mask=mask, zero_output_for_mask=True)
    np.testing.assert_array_equal(a.last_output, b.last_output)  # as documented (cf. keras #17596)
    np.testing.assert_array_equal(a.last_output, a.states[0][0])
    np.testing.assert_array_equal(a.sequence[:, :3], b.sequence[:, :3])
    assert np.all(b.sequence[:, 3:] == 0) and not np.any(a.sequence[:, 3:] == 0)


@pytest.mark.parametrize("spec", KINDS, ids=IDS)
def test_bidirectional_concat_splits_into_forward_and_flipped_backward(spec):
    rng = np.random.default_rng(7)
    w_fw, w_bw = random_weights([spec], 4, rng), random_weights([spec], 4, rng)
    x = rng.normal(size=(3, 5, 4))
    mask = rng.random((3, 5)) > 0.3
    n = state_count(spec)
    init = [rng.normal(size=(3, spec.units)) for _ in range(2 * n)]
    bi = bidirectional(spec, w_fw, spec, w_bw, x, mask=mask, initial_state=init)
    assert isinstance(bi, BiResult)
    # Bidirectional forces zero_output_for_mask=return_sequences on both halves (documented)
    fw = rnn([spec], w_fw, x, mask=mask, initial_state=init[:n], zero_output_for_mask=True)
    bw = rnn([spec], w_bw, x, mask=mask, initial_state=init[n:], go_backwards=True,
             zero_output_for_mask=True)
    u = spec.units
    np.testing.assert_array_equal(bi.sequence[..., :u], fw.sequence)
    np.testing.assert_array_equal(bi.sequence[..., u:], bw.sequence[:, ::-1])
    np.testing.assert_array_equal(bi.last_output, np.concatenate([fw.last_output, bw.last_output], -1))
    for got, want in zip(bi.forward_states + bi.backward_states, fw.states[0] + bw.states[0]):
        np.testing.assert_array_equal(got, want)
    assert len(bi.forward_states) == len(bi.backward_states) == n
    assert np.all(bi.sequence[~mask] == 0)
    # the last outputs are those of the plain (non-zeroing) runs: after the last valid step
    plain_fw = rnn([spec], w_fw, x, mask=mask, initial_state=init[:n])
    np.testing.assert_array_equal(bi.last_output[:, :u], plain_fw.last_output)


@pytest.mark.parametrize("mode,op", [("sum", np.add), ("mul", np.multiply),
                                     ("ave", lambda a, b: (a + b) / 2)])
def test_bidirectional_merge_modes_agree_with_pair(mode, op):
    spec = CellSpec("lstm", 3)
    rng = np.random.default_rng(8)
    w_fw, w_bw = random_weights([spec], 4, rng), random_weights([spec], 4, rng)
    x = rng.normal(size=(2, 4, 4))
    pair = bidirectional(spec, w_fw, spec, w_bw, x, merge_mode=None)
    assert isinstance(pair.sequence, tuple) and isinstance(pair.last_output, tuple)
    merged = bidirectional(spec, w_fw, spec, w_bw, x, merge_mode=mode)
    np.testing.assert_allclose(merged.sequence, op(*pair.sequence), rtol=1e-12)
    np.testing.assert_allclose(merged.last_output, op(*pair.last_output), rtol=1e-12)
    with pytest.raises(ValueError):
        bidirectional(spec, w_fw, spec, w_bw, x, merge_mode="max")


@pytest.mark.parametrize("kinds", [("lstm", "gru"), ("simple", "lstm"), ("gru", "simple")])
def test_stacked_cells_equal_chained_runs(kinds):
    specs = [CellSpec(kinds[0], 3), CellSpec(kinds[1], 2)]
    rng = np.random.default_rng(9)
    w = random_weights(specs, 4, rng)
    x = rng.normal(size=(3, 5, 4))
    n1 = len(weight_shapes(specs[0], 4))
    init = [rng.normal(size=(3, s.units)) for s in specs for _ in range(state_count(s))]
    k = state_count(specs[0])
    stacked = rnn(specs, w, x, initial_state=init)
    first = rnn(specs[:1], w[:n1], x, initial_state=init[:k])
    second = rnn(specs[1:], w[n1:], first.sequence, initial_state=init[k:])
    np.testing.assert_allclose(stacked.sequence, second.sequence, rtol=1e-12)
    np.testing.assert_allclose(stacked.last_output, second.last_output, rtol=1e-12)
    assert len(stacked.states) == 2
    for got, want in zip(stacked.states[0] + stacked.states[1], first.states[0] + second.states[0]):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_stacked_masked_step_freezes_all_cells():
    specs = [CellSpec("lstm", 3), CellSpec("gru", 2)]
    rng = np.random.default_rng(10)
    w = random_weights(specs, 4, rng)
    x = rng.normal(size=(1, 5, 4))
    mask = np.array([[True, False, True, False, True]])
    r = rnn(specs, w, x, mask=mask)
    ref = rnn(specs, w, x[:, mask[0]])  # dropping masked steps gives the same states
    for got, want in zip(r.states[0] + r.states[1], ref.states[0] + ref.states[1]):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(r.sequence[0, [0, 2, 4]], ref.sequence[0], rtol=1e-12)
    np.testing.assert_array_equal(r.sequence[0, 1], r.sequence[0, 0])


def test_result_types_and_float64():
    spec = CellSpec("lstm", 3)
    w, x, _ = rand_case(spec)
    r = rnn([spec], w, x)
    assert isinstance(r, Result)
    assert r.sequence.shape == (3, 5, 3) and r.last_output.shape == (3, 3)
    assert r.sequence.dtype == np.float64 and r.states[0][1].dtype == np.float64
    assert rnn(spec, w, x).last_output.tolist() == r.last_output.tolist()  # a bare CellSpec is accepted


def test_bad_arguments_raise():
    spec = CellSpec("gru", 3)
    w, x, _ = rand_case(spec)
    with pytest.raises(ValueError):
        rnn([spec], w[:2], x)  # missing bias
    with pytest.raises(ValueError):
        rnn([spec], w, x, initial_state=[np.zeros((3, 3))] * 2)
    with pytest.raises(ValueError):
        rnn([spec], w, x, mask=np.ones((3, 4), bool))
    with pytest.raises(ValueError):
        CellSpec("rnn", 3)
