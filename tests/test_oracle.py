"""Tests of the NumPy oracle itself (rnnconf/spec/oracle.py); pure NumPy, no Keras.

Part 1 reproduces the setups of Keras's own unit tests -- constant initializers
(kernel 0.01, recurrent 0.02, bias 0.03 unless stated) on ``np.arange`` inputs --
and compares the oracle with the expected values Keras publishes there. Those
numbers were computed in float32, so the tolerance is rtol = atol = 1e-5.
Since every weight is constant, most published outputs repeat one value over
all units; such cases list one value per row (or per row and step) and are
broadcast over the units.

Part 1 also reproduces the ConvLSTM setups of Keras's conv_lstm tests (same
constants, with Keras's default ``unit_forget_bias=True``).

Part 2 checks properties that can be verified by hand: one step of every cell
worked out in the comments, with a different weight for every gate so that a
swapped gate (LSTM i/f/o, GRU z/r) or a transposed matrix changes the result,
and ConvLSTM against the dense LSTM, its output sizes and TensorFlow's "same"
padding. The suite's user-defined cells (rnnconf/impl/cells.py) get one hand-worked step
each from their documented equations, so their NumPy twins are pinned independently.
"""

import numpy as np
import pytest

from rnnconf.spec.oracle import (
    ACTIVATIONS,
    BiResult,
    CellSpec,
    ConvSpec,
    Result,
    bidirectional,
    conv_lstm,
    conv_output_spatial,
    conv_weight_shapes,
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


# conv_lstm*_test.py @ v3.15.1
def conv_const_weights(spec, in_channels, kernel=0.01, recurrent=0.02, bias=0.03):
    """Constant initializers with ConvLSTM's default unit_forget_bias=True (forget bias 1.0)."""
    shapes = conv_weight_shapes(spec, in_channels)
    b = np.full(shapes[2], bias, np.float32)
    b[spec.filters:2 * spec.filters] = 1.0
    return [np.full(shapes[0], kernel, np.float32), np.full(shapes[1], recurrent, np.float32), b]


def test_published_conv_lstm1d_correctness():
    x = seq(2, 3, 4, 5) / 10
    spec = ConvSpec(1, 2, 3)  # padding "valid": 4 positions -> 2
    # keras@v3.15.1 keras/src/layers/rnn/conv_lstm1d_test.py, test_correctness
    close(conv_lstm(spec, conv_const_weights(spec, 5), x).last_output,
          [[0.40807986, 0.46421072], [0.80933154, 0.8233646]])


def test_published_conv_lstm2d_correctness():
    x = seq(2, 3, 4, 4, 5) / 100
    spec = ConvSpec(2, 2, 3)
    # keras@v3.15.1 keras/src/layers/rnn/conv_lstm2d_test.py, test_correctness
    close(conv_lstm(spec, conv_const_weights(spec, 5), x).last_output,
          [[[0.48694518, 0.50237733], [0.5461202, 0.5598283]],
           [[0.8661607, 0.86909103], [0.8774414, 0.8800861]]])


def test_published_conv_lstm3d_correctness():
    x = seq(2, 3, 4, 4, 4, 5) / 100
    spec = ConvSpec(3, 2, 3)
    # keras@v3.15.1 keras/src/layers/rnn/conv_lstm3d_test.py, test_correctness
    close(conv_lstm(spec, conv_const_weights(spec, 5), x).last_output,
          [[[[0.99149036, 0.99180907], [0.99258363, 0.9927925]],
            [[0.99413764, 0.99420583], [0.9943788, 0.9944278]]],
           [[[0.9950547] * 2] * 2] * 2])


def test_published_conv_lstm_cell_checksums():
    # keras@v3.15.1 keras/src/layers/rnn/conv_lstm_test.py, ConvLSTMCellTest.test_correctness: one step of
    # ConvLSTMCell(rank=2, filters=4, kernel_size=3, padding="same"), kernel 0.01, recurrent 0.02, default
    # zero bias (+1 forget bias); the published numbers are sums over h and c
    x = seq(2, 1, 5, 5, 3) / 10
    s = seq(2, 5, 5, 4) / 10
    spec = ConvSpec(2, 4, 3, padding="same")
    r = conv_lstm(spec, conv_const_weights(spec, 3, bias=0.0), x, initial_state=[s, s])
    close(r.last_output.sum(), 188.89502)
    close(r.states[0][0].sum(), 188.89502)
    close(r.states[0][1].sum(), 2170.444)


def test_published_conv_lstm_checksum():
    # keras@v3.15.1 keras/src/layers/rnn/conv_lstm_test.py, ConvLSTMTest.test_correctness: ConvLSTM(rank=2,
    # filters=4, kernel_size=3, padding="same") over 3 steps from initial_state, published as a sum
    x = seq(2, 3, 5, 5, 3) / 100
    s = seq(2, 5, 5, 4) / 100
    spec = ConvSpec(2, 4, 3, padding="same")
    r = conv_lstm(spec, conv_const_weights(spec, 3, bias=0.0), x, initial_state=[s, s])
    close(r.last_output.sum(), 119.812454)


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


def test_activations_by_definition():
    v = np.array([-4.0, -3.0, -2.5, -1.0, 0.0, 1.0, 2.5, 3.0, 4.0])
    act = ACTIVATIONS
    np.testing.assert_allclose(act["hard_sigmoid_x/6+0.5"](v), [0, 0, 1 / 12, 1 / 3, 0.5, 2 / 3, 11 / 12, 1, 1])
    np.testing.assert_allclose(act["hard_sigmoid_0.2x+0.5"](v), [0, 0, 0, 0.3, 0.5, 0.7, 1, 1, 1])
    np.testing.assert_allclose(act["relu"](v), np.maximum(v, 0))
    np.testing.assert_allclose(act["half_tanh"](v), 0.5 * np.tanh(v))
    np.testing.assert_allclose(act["sigmoid"](v), 1 / (1 + np.exp(-v)))
    with pytest.raises(ValueError, match="unknown activation"):
        CellSpec("lstm", 2, activation="swish")


def test_one_step_lstm_with_other_activations_by_hand():
    """activation applies to the candidate and to c before the output gate; recurrent_activation
    to the gates i, f, o (gate order i, f, c, o)."""
    x = np.array([[[0.5, -1.0]]])
    W = np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]])
    b = np.array([0.01, 0.02, 0.03, 0.04])
    pre = x[0, 0] @ W + b
    hs = lambda v: np.clip(v / 6 + 0.5, 0, 1)  # noqa: E731
    c = hs(pre[0]) * max(pre[2], 0.0)  # f * c0 drops out (c0 = 0)
    h = hs(pre[3]) * max(c, 0.0)
    r = rnn([CellSpec("lstm", 1, activation="relu", recurrent_activation="hard_sigmoid_x/6+0.5")],
            [W, np.zeros((1, 4)), b], x)
    np.testing.assert_allclose(r.states[0][1], [[c]], rtol=1e-12)
    np.testing.assert_allclose(r.states[0][0], [[h]], rtol=1e-12)


def test_one_step_gru_and_simple_with_other_activations_by_hand():
    x = np.array([[[0.5, -1.0]]])
    Wg = np.array([[0.1, 0.2, 0.3], [0.5, 0.6, 0.7]])
    bg = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    z = x[0, 0] @ Wg[:, 0] + bg[0, 0] + bg[1, 0]  # linear gates
    hh = 0.5 * np.tanh(x[0, 0] @ Wg[:, 2] + bg[0, 2] + (x[0, 0] @ Wg[:, 1] + bg[0, 1] + bg[1, 1]) * bg[1, 2])
    out = rnn([CellSpec("gru", 1, activation="half_tanh", recurrent_activation="linear")],
              [Wg, np.zeros((1, 3)), bg], x).last_output
    np.testing.assert_allclose(out, [[(1 - z) * hh]], rtol=1e-12)
    out = rnn([CellSpec("simple", 1, activation="linear")], [Wg[:, :1], np.zeros((1, 1)), bg[0, :1]], x).last_output
    np.testing.assert_allclose(out, [[x[0, 0] @ Wg[:, 0] + 0.1]], rtol=1e-12)


def test_conv_activations_reach_both_gates_and_candidate():
    spec = ConvSpec(1, 2, 1, activation="linear", recurrent_activation="linear")
    x = np.random.default_rng(0).normal(size=(1, 1, 3, 2))
    w = [np.random.default_rng(1).normal(size=s) for s in conv_weight_shapes(spec, 2)]
    r = conv_lstm(spec, w, x)
    z = x[0, 0] @ w[0][0] + w[2]  # a 1-tap kernel, zero initial state
    i, g, o = z[..., 0:2], z[..., 4:6], z[..., 6:8]
    np.testing.assert_allclose(r.states[0][1][0], i * g, rtol=1e-12)
    np.testing.assert_allclose(r.states[0][0][0], o * i * g, rtol=1e-12)


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


def test_bidirectional_halves_of_other_types_and_widths():
    # LSTM(2) forward, GRU(3) backward: concat is 2 + 3 wide, initial_state is cut after the
    # forward layer's own states (h, c), and each half is its own run
    spec_fw, spec_bw = CellSpec("lstm", 2), CellSpec("gru", 3)
    rng = np.random.default_rng(7)
    w_fw, w_bw = random_weights([spec_fw], 4, rng), random_weights([spec_bw], 4, rng)
    x = rng.normal(size=(2, 5, 4))
    init = [rng.normal(size=(2, 2)), rng.normal(size=(2, 2)), rng.normal(size=(2, 3))]
    bi = bidirectional(spec_fw, w_fw, spec_bw, w_bw, x, initial_state=init)
    fw = rnn([spec_fw], w_fw, x, initial_state=init[:2], zero_output_for_mask=True)
    bw = rnn([spec_bw], w_bw, x, initial_state=init[2:], go_backwards=True, zero_output_for_mask=True)
    assert bi.sequence.shape == (2, 5, 5) and bi.last_output.shape == (2, 5)
    np.testing.assert_array_equal(bi.last_output, np.concatenate([fw.last_output, bw.last_output], axis=-1))
    np.testing.assert_array_equal(bi.sequence[..., 2:], bw.sequence[:, ::-1])
    assert [s.shape for s in bi.forward_states + bi.backward_states] == [(2, 2), (2, 2), (2, 3)]
    np.testing.assert_array_equal(bi.backward_states[0], bw.states[0][0])


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


# ---- one step per cell, worked by hand, every gate with its own weights
#
# Each case: 1 time step, batch 1, input x = 2.0 (one feature), a nonzero initial state, and a
# different input weight, recurrent weight and bias for every gate, so that swapping two gates
# (LSTM i<->o or i<->f, GRU z<->r) or transposing a matrix gives another number. The comments
# carry every intermediate to 8 digits: sigma(v) = 1 / (1 + e^-v). The expected values in the
# asserts are the same hand results carried to 12 digits.

HAND = dict(rtol=1e-10, atol=1e-12)


def test_by_hand_lstm_one_step_every_gate_different():
    # 1 unit; gate order i, f, c, o; h0 = 0.5, c0 = -0.4
    W = np.array([[0.5, -0.3, 0.8, 0.2]])  # kernel (1, 4)
    U = np.array([[0.4, 0.6, -0.2, -0.8]])  # recurrent kernel (1, 4)
    b = np.array([0.1, 0.9, -0.1, 0.3])
    # pre-activations x*W + h0*U + b:
    #   i: 2*0.5    + 0.5*0.4    + 0.1 = 1.0 + 0.2 + 0.1  = 1.3
    #   f: 2*(-0.3) + 0.5*0.6    + 0.9 = -0.6 + 0.3 + 0.9 = 0.6
    #   c: 2*0.8    + 0.5*(-0.2) - 0.1 = 1.6 - 0.1 - 0.1  = 1.4
    #   o: 2*0.2    + 0.5*(-0.8) + 0.3 = 0.4 - 0.4 + 0.3  = 0.3
    # gates: i = sigma(1.3) = 0.78583498, f = sigma(0.6) = 0.64565631,
    #        g = tanh(1.4)  = 0.88535165, o = sigma(0.3) = 0.57444252
    # c = f*c0 + i*g = 0.64565631*(-0.4) + 0.78583498*0.88535165 = -0.25826252 + 0.69574030 = 0.43747777
    # h = o*tanh(c)  = 0.57444252 * tanh(0.43747777) = 0.57444252 * 0.41155160 = 0.23641273
    # (i<->o swapped would give h = 0.19270283; i<->f swapped h = 0.14462587)
    h0, c0 = np.array([[0.5]]), np.array([[-0.4]])
    r = rnn([CellSpec("lstm", 1)], [W, U, b], np.array([[[2.0]]]), initial_state=[h0, c0])
    np.testing.assert_allclose(r.states[0][1], [[0.437477774961]], **HAND)
    np.testing.assert_allclose(r.states[0][0], [[0.236412734124]], **HAND)
    np.testing.assert_allclose(r.sequence, [[[0.236412734124]]], **HAND)
    np.testing.assert_allclose(r.last_output, [[0.236412734124]], **HAND)


# GRU, 1 unit, gate order z, r, h; h0 = 0.5; the same kernels for both variants
GRU_W = np.array([[0.3, -0.5, 0.7]])  # kernel (1, 3): z, r, h
GRU_U = np.array([[0.6, 0.8, -0.4]])  # recurrent kernel (1, 3)


def test_by_hand_gru_reset_after_one_step_every_gate_different():
    b = np.array([[0.1, 0.2, -0.3],  # row 0: input bias z, r, h
                  [-0.2, 0.1, 0.5]])  # row 1: recurrent bias z, r, h
    # z: 2*0.3    + 0.1 + 0.5*0.6 + (-0.2) = 0.6 + 0.1 + 0.3 - 0.2 = 0.8  -> z = sigma(0.8)  = 0.68997448
    # r: 2*(-0.5) + 0.2 + 0.5*0.8 + 0.1    = -1.0 + 0.2 + 0.4 + 0.1 = -0.3 -> r = sigma(-0.3) = 0.42555748
    # reset_after: r scales the whole recurrent part, bias included: h0*U_h + b1_h = 0.5*(-0.4) + 0.5 = 0.3
    # candidate: 2*0.7 + (-0.3) + r*0.3 = 1.1 + 0.12766724 = 1.22766724 -> hh = tanh(1.22766724) = 0.84190136
    # h = z*h0 + (1 - z)*hh = 0.68997448*0.5 + 0.31002552*0.84190136 = 0.34498724 + 0.26101090 = 0.60599815
    # (z<->r swapped would give 0.70881698)
    r = rnn([CellSpec("gru", 1)], [GRU_W, GRU_U, b], np.array([[[2.0]]]), initial_state=[np.array([[0.5]])])
    np.testing.assert_allclose(r.states[0][0], [[0.605998145050]], **HAND)
    np.testing.assert_allclose(r.last_output, [[0.605998145050]], **HAND)


def test_by_hand_gru_reset_before_one_step_every_gate_different():
    b = np.array([0.1, -0.2, 0.3])  # reset_after=False: one bias row, z, r, h
    # z: 2*0.3    + 0.5*0.6 + 0.1    = 0.6 + 0.3 + 0.1  = 1.0  -> z = sigma(1.0)  = 0.73105858
    # r: 2*(-0.5) + 0.5*0.8 + (-0.2) = -1.0 + 0.4 - 0.2 = -0.8 -> r = sigma(-0.8) = 0.31002552
    # reset before the product: (r*h0)*U_h = (0.31002552*0.5)*(-0.4) = 0.15501276*(-0.4) = -0.06200510
    # candidate: 2*0.7 + 0.3 - 0.06200510 = 1.63799490 -> hh = tanh(1.63799490) = 0.92719174
    # h = z*h0 + (1 - z)*hh = 0.73105858*0.5 + 0.26894142*0.92719174 = 0.36552929 + 0.24936027 = 0.61488955
    # (z<->r swapped would give 0.78593121)
    spec = CellSpec("gru", 1, reset_after=False)
    r = rnn([spec], [GRU_W, GRU_U, b], np.array([[[2.0]]]), initial_state=[np.array([[0.5]])])
    np.testing.assert_allclose(r.states[0][0], [[0.614889554460]], **HAND)
    np.testing.assert_allclose(r.last_output, [[0.614889554460]], **HAND)


def test_by_hand_simple_rnn_one_step_asymmetric_recurrent_kernel():
    # 2 units, so the recurrent kernel can be non-symmetric: h = tanh(x*W + h0 @ U + b), h0 = [0.5, -1.0]
    W = np.array([[0.5, -0.25]])
    U = np.array([[0.2, -0.4],
                  [0.6, 0.1]])
    b = np.array([0.1, -0.2])
    # unit 1: 2*0.5     + (0.5*0.2    + (-1.0)*0.6) + 0.1    = 1.0 - 0.5 + 0.1  = 0.6  -> tanh = 0.53704957
    # unit 2: 2*(-0.25) + (0.5*(-0.4) + (-1.0)*0.1) + (-0.2) = -0.5 - 0.3 - 0.2 = -1.0 -> tanh = -0.76159416
    # (h0 @ U.T instead would give pre-activations 1.6 and -0.5)
    r = rnn([CellSpec("simple", 2)], [W, U, b], np.array([[[2.0]]]), initial_state=[np.array([[0.5, -1.0]])])
    np.testing.assert_allclose(r.states[0][0], [[0.537049566998, -0.761594155956]], **HAND)
    np.testing.assert_allclose(r.last_output, [[0.537049566998, -0.761594155956]], **HAND)


# ---- the suite's user-defined cells (rnnconf/impl/cells.py), one step each, worked by hand
#
# The NumPy twins (oracle._custom_step) pinned from the cells' documented equations, independently
# of the suite: x = 2.0 (one feature), batch 1, a nonzero initial state (the init cell: its own
# 0.5), every weight different and every square recurrent matrix non-symmetric, so a transposed
# matrix, a swapped weight or an old state used where the new one belongs gives another number.
# Weights are listed in each cell's creation order (oracle.CUSTOM_WEIGHTS).


def test_by_hand_projected_output_cell_output_is_not_its_state():
    # proj, units 1: h' = tanh(x*W + h*U + b), output h'*P (1 x 2); h0 = 0.5
    W, U, b, P = np.array([[0.4]]), np.array([[-0.6]]), np.array([0.2]), np.array([[0.5, -1.5]])
    # pre-activation: 2*0.4 + 0.5*(-0.6) + 0.2 = 0.8 - 0.3 + 0.2 = 0.7 -> h' = tanh(0.7) = 0.60436778
    # output: h'*P = [0.60436778*0.5, 0.60436778*(-1.5)] = [0.30218389, -0.90655167]
    r = rnn([CellSpec("proj", 1)], [W, U, b, P], np.array([[[2.0]]]), initial_state=[np.array([[0.5]])])
    np.testing.assert_allclose(r.states[0][0], [[0.604367777117]], **HAND)
    np.testing.assert_allclose(r.last_output, [[0.302183888559, -0.906551665676]], **HAND)
    np.testing.assert_allclose(r.sequence, [[[0.302183888559, -0.906551665676]]], **HAND)


def test_by_hand_two_state_cell_second_state_reads_the_new_first():
    # two, units 1: s1 (1 wide), s2 (3 wide); s1' = tanh(x*W1 + s1*U1 + s2 @ V1),
    # s2' = tanh(x*W2 + s2 @ U2 + s1' * V2), output s1'; s1_0 = 0.6, s2_0 = [1.0, -0.5, 0.5]
    w1, u1, v1 = np.array([[0.3]]), np.array([[0.5]]), np.array([[0.2], [-0.1], [0.4]])
    w2 = np.array([[0.1, -0.2, 0.3]])
    u2 = np.array([[0.1, 0.2, 0.0],
                   [-0.3, 0.1, 0.2],
                   [0.0, 0.4, -0.1]])
    v2 = np.array([[0.5, -0.5, 0.25]])
    # s1': 2*0.3 + 0.6*0.5 + (1.0*0.2 + (-0.5)*(-0.1) + 0.5*0.4) = 0.6 + 0.3 + 0.45 = 1.35
    #      -> s1' = tanh(1.35) = 0.87405329
    # s2_0 @ U2 = [0.1 + 0.15 + 0, 0.2 - 0.05 + 0.2, 0 - 0.1 - 0.05] = [0.25, 0.35, -0.15]
    # s1' * V2  = [0.43702664, -0.43702664, 0.21851332]
    # s2': [0.2 + 0.25 + 0.43702664, -0.4 + 0.35 - 0.43702664, 0.6 - 0.15 + 0.21851332]
    #    = tanh([0.88702664, -0.48702664, 0.66851332]) = [0.70992203, -0.45185333, 0.58400110]
    # (U2 transposed would give [0.56287163, -0.79579034, 0.51426662]; the old s1 in place of s1'
    # [0.63514895, -0.33637554, 0.53704957])
    init = [np.array([[0.6]]), np.array([[1.0, -0.5, 0.5]])]
    r = rnn([CellSpec("two", 1)], [w1, u1, v1, w2, u2, v2], np.array([[[2.0]]]), initial_state=init)
    np.testing.assert_allclose(r.states[0][0], [[0.874053287886]], **HAND)
    np.testing.assert_allclose(r.states[0][1], [[0.709922026238, -0.451853332834, 0.584001097744]], **HAND)
    np.testing.assert_allclose(r.last_output, [[0.874053287886]], **HAND)


def test_by_hand_nested_state_cell_every_state():
    # nested, units 1: h (1), [a (2), b (3)]; h' = tanh(x*Wh + h*Uh + a @ Ah), a' = tanh(x*Wa + a @ Ua),
    # b' = tanh(x*Wb + b @ Ub + h' * Hb), output h'; h0 = 0.5, a0 = [1.0, -1.0], b0 = [0.5, 0.5, -0.5]
    wh, uh, ah = np.array([[0.2]]), np.array([[0.3]]), np.array([[0.5], [-0.4]])
    wa, ua = np.array([[0.1, -0.3]]), np.array([[0.2, 0.6],
                                                [-0.1, 0.3]])
    wb = np.array([[0.25, 0.0, -0.5]])
    ub = np.array([[0.1, 0.0, 0.2],
                   [0.0, 0.3, 0.0],
                   [-0.2, 0.0, 0.1]])
    hb = np.array([[0.4, -0.6, 0.8]])
    # h': 2*0.2 + 0.5*0.3 + (1.0*0.5 + (-1.0)*(-0.4)) = 0.4 + 0.15 + 0.9 = 1.45 -> tanh = 0.89569287
    # a': [0.2, -0.6] + a0 @ Ua = [0.2, -0.6] + [0.2 + 0.1, 0.6 - 0.3] = [0.5, -0.3]
    #     -> [tanh(0.5), tanh(-0.3)] = [0.46211716, -0.29131261]   (Ua transposed: [-0.19737532, -0.76159416])
    # b': [0.5, 0.0, -1.0] + b0 @ Ub + h' * Hb
    #     b0 @ Ub = [0.05 + 0 + 0.1, 0 + 0.15 + 0, 0.1 + 0 - 0.05] = [0.15, 0.15, 0.05]
    #     h' * Hb = [0.35827715, -0.53741572, 0.71655430]
    #     = tanh([1.00827715, -0.38741572, -0.23344570]) = [0.76504849, -0.36913021, -0.22929546]
    init = [np.array([[0.5]]), np.array([[1.0, -1.0]]), np.array([[0.5, 0.5, -0.5]])]  # flat: h, a, b
    r = rnn([CellSpec("nested", 1)], [wh, uh, ah, wa, ua, wb, ub, hb], np.array([[[2.0]]]), initial_state=init)
    np.testing.assert_allclose(r.states[0][0], [[0.895692873843]], **HAND)
    np.testing.assert_allclose(r.states[0][1], [[0.462117157260, -0.291312612452]], **HAND)
    np.testing.assert_allclose(r.states[0][2], [[0.765048491954, -0.369130210380, -0.229295458986]], **HAND)
    np.testing.assert_allclose(r.last_output, [[0.895692873843]], **HAND)


def test_by_hand_initial_state_cell_starts_from_its_own_state():
    # init, units 1: h' = tanh(x*W + h*U + b) from get_initial_state = 0.5 (no initial_state given)
    W, U, b = np.array([[0.3]]), np.array([[0.8]]), np.array([-0.1])
    # 2*0.3 + 0.5*0.8 - 0.1 = 0.9 -> tanh(0.9) = 0.71629787   (from zeros it would be tanh(0.5) = 0.46211716)
    r = rnn([CellSpec("init", 1)], [W, U, b], np.array([[[2.0]]]))
    np.testing.assert_allclose(r.states[0][0], [[0.716297870199]], **HAND)
    np.testing.assert_allclose(r.last_output, [[0.716297870199]], **HAND)


def test_by_hand_plain_int_state_cell_has_no_bias():
    # plain, units 2: h' = tanh(x*W + h @ U), no bias; h0 = [0.5, -1.0], U non-symmetric
    W = np.array([[0.5, -0.25]])
    U = np.array([[0.2, -0.4],
                  [0.6, 0.1]])
    # unit 1: 2*0.5     + (0.5*0.2    + (-1.0)*0.6) = 1.0 - 0.5 = 0.5  -> tanh = 0.46211716
    # unit 2: 2*(-0.25) + (0.5*(-0.4) + (-1.0)*0.1) = -0.5 - 0.3 = -0.8 -> tanh = -0.66403677
    # (h0 @ U.T would give pre-activations 1.5 and -0.3)
    r = rnn([CellSpec("plain", 2)], [W, U], np.array([[[2.0]]]), initial_state=[np.array([[0.5, -1.0]])])
    np.testing.assert_allclose(r.states[0][0], [[0.462117157260, -0.664036770268]], **HAND)
    np.testing.assert_allclose(r.last_output, [[0.462117157260, -0.664036770268]], **HAND)


# ---- ConvLSTM


def conv_case(spec, B=2, T=3, spatial=(5,), C=2, seed=0, initial_state=True):
    """Random float64 weights, input and (optionally) initial states for a ConvSpec."""
    rng = np.random.default_rng(seed)
    w = [rng.uniform(-0.5, 0.5, size=s) for s in conv_weight_shapes(spec, C)]
    x = rng.uniform(-1.0, 1.0, size=(B, T, *spatial, C))
    state_shape = (B, *conv_output_spatial(spec, spatial), spec.filters)
    init = [rng.uniform(-1.0, 1.0, size=state_shape) for _ in range(2)] if initial_state else None
    return w, x, init


def test_conv_spec_normalises_arguments():
    spec = ConvSpec(2, 4, 3, padding="SAME")
    assert spec.kernel_size == (3, 3) and spec.strides == (1, 1) and spec.dilation_rate == (1, 1)
    assert spec.padding == "same"
    spec = ConvSpec(3, 1, (1, 2, 3), strides=2)
    assert spec.strides == (2, 2, 2) and spec.dilation_rate == (1, 1, 1)
    assert ConvSpec(1, 1, [3], dilation_rate=[2]).dilation_rate == (2,)


def test_conv_weight_shapes():
    # Keras: kernel (*kernel_size, in, 4*filters), recurrent (*kernel_size, filters, 4*filters), bias (4*filters,)
    assert conv_weight_shapes(ConvSpec(2, 4, (3, 2)), 5) == [(3, 2, 5, 16), (3, 2, 4, 16), (16,)]
    assert conv_weight_shapes(ConvSpec(1, 2, 3, use_bias=False), 1) == [(3, 1, 8), (3, 2, 8)]
    assert conv_weight_shapes(ConvSpec(3, 1, 1), 2)[0] == (1, 1, 1, 2, 4)


@pytest.mark.parametrize("n,k,s,d,padding,out", [
    (7, 3, 1, 1, "valid", 5),  # 7 - (3 - 1)
    (7, 3, 1, 1, "same", 7),
    (7, 3, 2, 1, "valid", 3),  # floor((7 - 2 - 1) / 2) + 1
    (7, 3, 2, 1, "same", 4),  # ceil(7 / 2)
    (8, 3, 2, 1, "valid", 3),  # floor(5 / 2) + 1
    (8, 3, 2, 1, "same", 4),
    (7, 3, 1, 2, "valid", 3),  # the dilated kernel spans 2*2 + 1 = 5
    (7, 3, 1, 2, "same", 7),
    (9, 2, 1, 3, "valid", 6),  # spans 4
    (5, 4, 3, 1, "valid", 1),  # floor((5 - 3 - 1) / 3) + 1
    (5, 4, 3, 1, "same", 2),  # ceil(5 / 3)
    (1, 1, 1, 1, "valid", 1),
])
def test_conv_output_sizes(n, k, s, d, padding, out):
    spec = ConvSpec(1, 2, k, padding=padding, strides=s, dilation_rate=d)
    assert conv_output_spatial(spec, (n,)) == (out,)
    w, x, _ = conv_case(spec, T=2, spatial=(n,), initial_state=False)
    r = conv_lstm(spec, w, x)
    assert r.sequence.shape == (2, 2, out, 2)
    assert r.last_output.shape == r.states[0][0].shape == r.states[0][1].shape == (2, out, 2)


def test_conv_same_keeps_and_valid_shrinks_spatial_size():
    for spatial in [(6,), (5, 4), (3, 4, 5)]:
        rank = len(spatial)
        same, valid = ConvSpec(rank, 3, 3, padding="same"), ConvSpec(rank, 3, 3)
        assert conv_output_spatial(same, spatial) == spatial
        assert conv_output_spatial(valid, spatial) == tuple(n - 2 for n in spatial)
        w, x, _ = conv_case(same, T=2, spatial=spatial, initial_state=False)
        assert conv_lstm(same, w, x).sequence.shape == (2, 2, *spatial, 3)
        assert conv_lstm(valid, w, x).sequence.shape == (2, 2, *(n - 2 for n in spatial), 3)
    # a mixed 2-D case: strides per axis
    assert conv_output_spatial(ConvSpec(2, 1, (3, 2), padding="same", strides=(2, 1)), (7, 5)) == (4, 5)
    assert conv_output_spatial(ConvSpec(2, 1, (3, 2), strides=(2, 1)), (7, 5)) == (3, 4)


@pytest.mark.parametrize("n,k,s,d,before,after", [
    (5, 3, 1, 1, 1, 1),
    (5, 2, 1, 1, 0, 1),  # even kernel: the odd padding element goes after
    (5, 4, 1, 1, 1, 2),
    (6, 3, 2, 1, 0, 1),  # out 3: total = (3-1)*2 + 3 - 6 = 1
    (7, 3, 2, 1, 1, 1),  # out 4: total = 3*2 + 3 - 7 = 2
    (8, 2, 3, 1, 0, 0),  # out 3: total = 2*3 + 2 - 8 = 0, "same" pads nothing
    (7, 4, 3, 1, 1, 2),  # out 3: total = 2*3 + 4 - 7 = 3
    (5, 3, 1, 2, 2, 2),  # dilation 2 spans 5: total = 4 + 5 - 5 = 4
])
def test_conv_same_is_valid_on_tf_padded_input(n, k, s, d, before, after):
    # TensorFlow's "same": out = ceil(n / s), pad_total = max((out - 1)*s + (k - 1)*d + 1 - n, 0),
    # pad_total // 2 zeros before, the rest after. The recurrent conv is "same" on the output grid
    # in both runs, so whole sequences agree.
    same = ConvSpec(1, 2, k, padding="same", strides=s, dilation_rate=d)
    valid = ConvSpec(1, 2, k, padding="valid", strides=s, dilation_rate=d)
    w, x, init = conv_case(same, spatial=(n,))
    padded = np.pad(x, [(0, 0), (0, 0), (before, after), (0, 0)])
    a, b = conv_lstm(same, w, x, initial_state=init), conv_lstm(valid, w, padded, initial_state=init)
    assert a.sequence.shape[2] == -(-n // s)
    np.testing.assert_allclose(a.sequence, b.sequence, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(a.states[0][1], b.states[0][1], rtol=1e-12, atol=1e-15)


def test_conv_same_padding_per_axis_2d():
    # axis 1: n=5, k=2, s=1 -> pad (0, 1); axis 2: n=7, k=3, s=2 -> out 4, total 2 -> pad (1, 1)
    same = ConvSpec(2, 2, (2, 3), padding="same", strides=(1, 2))
    valid = ConvSpec(2, 2, (2, 3), strides=(1, 2))
    w, x, init = conv_case(same, spatial=(5, 7))
    padded = np.pad(x, [(0, 0), (0, 0), (0, 1), (1, 1), (0, 0)])
    np.testing.assert_allclose(conv_lstm(same, w, x, initial_state=init).sequence,
                               conv_lstm(valid, w, padded, initial_state=init).sequence, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("rank,strides", [(1, 1), (2, 1), (2, 2), (3, 1)])
def test_conv_1x1_kernel_is_dense_lstm_at_every_position(rank, strides):
    spatial = (5, 4, 3)[:rank]
    spec = ConvSpec(rank, 3, 1, strides=strides)
    w, x, init = conv_case(spec, spatial=spatial, C=2)
    r = conv_lstm(spec, w, x, initial_state=init)
    # a 1x1 kernel is a matrix: kernel[0, ..., 0] (in, 4f); strides pick every strides-th position
    dense_w = [w[0].reshape(2, 12), w[1].reshape(3, 12), w[2]]
    picked = x[(slice(None), slice(None)) + (slice(None, None, strides),) * rank]
    B, T = x.shape[:2]
    out_sp = picked.shape[2:-1]
    assert out_sp == conv_output_spatial(spec, spatial)
    # (B, T, *S, C) -> (B * prod(S), T, C): each position becomes a batch row
    rows = np.moveaxis(picked, 1, -2).reshape(-1, T, 2)
    flat_init = [s.reshape(-1, 3) for s in init]
    ref = rnn([CellSpec("lstm", 3)], dense_w, rows, initial_state=flat_init)
    np.testing.assert_allclose(np.moveaxis(r.sequence, 1, -2).reshape(-1, T, 3), ref.sequence, rtol=1e-12)
    np.testing.assert_allclose(r.states[0][0].reshape(-1, 3), ref.states[0][0], rtol=1e-12)
    np.testing.assert_allclose(r.states[0][1].reshape(-1, 3), ref.states[0][1], rtol=1e-12)
    np.testing.assert_array_equal(r.last_output, r.sequence[:, -1])


@pytest.mark.parametrize("spec", [ConvSpec(1, 2, 3, padding="same"), ConvSpec(2, 2, (2, 3), strides=(1, 2)),
                                  ConvSpec(1, 2, 2, dilation_rate=2, use_bias=False)],
                         ids=["1d-same", "2d-strided", "1d-dilated-nobias"])
def test_conv_go_backwards_equals_forward_on_reversed_time(spec):
    w, x, init = conv_case(spec, T=4, spatial=(6,) * spec.rank)
    back = conv_lstm(spec, w, x, initial_state=init, go_backwards=True)
    fwd = conv_lstm(spec, w, x[:, ::-1], initial_state=init)
    np.testing.assert_array_equal(back.sequence, fwd.sequence)
    np.testing.assert_array_equal(back.states[0][1], fwd.states[0][1])
    np.testing.assert_array_equal(back.last_output, back.sequence[:, -1])
    assert isinstance(back, Result) and back.sequence.dtype == np.float64


def test_conv_no_bias_equals_zero_bias():
    spec = ConvSpec(1, 2, 3, padding="same")
    w, x, init = conv_case(spec)
    nobias = conv_lstm(ConvSpec(1, 2, 3, padding="same", use_bias=False), w[:2], x, initial_state=init)
    zero = conv_lstm(spec, [w[0], w[1], np.zeros(8)], x, initial_state=init)
    np.testing.assert_array_equal(nobias.sequence, zero.sequence)


def test_conv_by_hand_one_step_three_tap_kernel():
    # ConvLSTM1D(filters=1, kernel_size=3, padding="valid"), 1 input channel, spatial width 3 -> 1 output
    # position; one step, x = [1, 2, -1]. Kernel taps (tap 0, 1, 2) per gate, all different:
    #   i: [0.1, 0.2, 0.3]   -> 1*0.1 + 2*0.2 + (-1)*0.3   = 0.1 + 0.4 - 0.3 = 0.2
    #   f: [0.3, -0.1, 0.2]  -> 1*0.3 + 2*(-0.1) + (-1)*0.2 = 0.3 - 0.2 - 0.2 = -0.1
    #   c: [0.2, 0.3, -0.4]  -> 1*0.2 + 2*0.3 + (-1)*(-0.4) = 0.2 + 0.6 + 0.4 = 1.2
    #   o: [-0.1, 0.4, 0.1]  -> 1*(-0.1) + 2*0.4 + (-1)*0.1 = -0.1 + 0.8 - 0.1 = 0.6
    # (a flipped kernel -- convolution instead of cross-correlation -- would give i: 0.3 + 0.4 - 0.1 = 0.6)
    # The recurrent conv is "same" on the 1-wide output grid: one zero each side, so only the centre tap
    # [0.5, -0.5, 0.25, 1.0] sees h0 = 0.4; the outer taps (9.0) only ever see padding.
    # bias [0.1, 0.2, 0.3, -0.4]; c0 = 0.5.
    #   i: 0.2  + 0.4*0.5    + 0.1    = 0.5  -> sigma = 0.62245933
    #   f: -0.1 + 0.4*(-0.5) + 0.2    = -0.1 -> sigma = 0.47502081
    #   c: 1.2  + 0.4*0.25   + 0.3    = 1.6  -> tanh  = 0.92166855
    #   o: 0.6  + 0.4*1.0    + (-0.4) = 0.6  -> sigma = 0.64565631
    # c = 0.47502081*0.5 + 0.62245933*0.92166855 = 0.23751041 + 0.57370119 = 0.81121160
    # h = 0.64565631 * tanh(0.81121160) = 0.64565631 * 0.67025809 = 0.43275637
    kernel = np.array([[0.1, 0.3, 0.2, -0.1],
                       [0.2, -0.1, 0.3, 0.4],
                       [0.3, 0.2, -0.4, 0.1]]).reshape(3, 1, 4)  # (tap, in, gates i f c o)
    recurrent = np.array([[9.0] * 4, [0.5, -0.5, 0.25, 1.0], [9.0] * 4]).reshape(3, 1, 4)
    bias = np.array([0.1, 0.2, 0.3, -0.4])
    x = np.array([1.0, 2.0, -1.0]).reshape(1, 1, 3, 1)
    r = conv_lstm(ConvSpec(1, 1, 3), [kernel, recurrent, bias], x,
                  initial_state=[np.full((1, 1, 1), 0.4), np.full((1, 1, 1), 0.5)])
    np.testing.assert_allclose(r.states[0][1], [[[0.811211598226]]], **HAND)
    np.testing.assert_allclose(r.states[0][0], [[[0.432756365387]]], **HAND)
    np.testing.assert_allclose(r.sequence, [[[[0.432756365387]]]], **HAND)


def test_conv_by_hand_recurrent_same_conv_sees_neighbours():
    # Zero input, kernel and bias; c0 = 0; h0 = [1, 2, 3] on a width-3 grid; every gate's recurrent
    # taps are [0.1, 0.2, 0.4], so every gate at position j has the same pre-activation
    #   p_j = 0.1*h0[j-1] + 0.2*h0[j] + 0.4*h0[j+1]   (zero outside the grid: "same", one zero each side)
    #   p = [0.2*1 + 0.4*2, 0.1*1 + 0.2*2 + 0.4*3, 0.1*2 + 0.2*3] = [1.0, 1.7, 0.8]
    # then c = sigma(p)*tanh(p), h = sigma(p)*tanh(c):
    #   p = 1.0: sigma 0.73105858, tanh 0.76159416 -> c 0.55676994, h 0.36960635
    #   p = 1.7: sigma 0.84553473, tanh 0.93540907 -> c 0.79092086, h 0.55714853
    #   p = 0.8: sigma 0.68997448, tanh 0.66403677 -> c 0.45816843, h 0.29571634
    for padding in ("same", "valid"):  # the input conv's padding does not change the recurrent conv
        spec = ConvSpec(1, 1, 3, padding=padding)
        width = 3 if padding == "same" else 5  # "valid" on 5 positions gives the same 3-wide grid
        recurrent = np.tile(np.array([0.1, 0.2, 0.4])[:, None, None], (1, 1, 4))
        w = [np.zeros((3, 1, 4)), recurrent, np.zeros(4)]
        h0 = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)
        r = conv_lstm(spec, w, np.zeros((1, 1, width, 1)), initial_state=[h0, np.zeros((1, 3, 1))])
        np.testing.assert_allclose(r.states[0][1][0, :, 0], [0.5567699411, 0.7909208606, 0.4581684260],
                                   rtol=1e-9)
        np.testing.assert_allclose(r.states[0][0][0, :, 0], [0.369606352936, 0.557148528368, 0.295716337388],
                                   **HAND)


def test_conv_bad_arguments_raise():
    spec = ConvSpec(2, 2, 3, padding="same")
    w, x, init = conv_case(spec, spatial=(4, 4))
    with pytest.raises(ValueError, match="x must be"):
        conv_lstm(spec, w, x[:, :, 0])  # a 1-D input for a rank-2 layer
    with pytest.raises(ValueError, match="x must be"):
        conv_lstm(ConvSpec(1, 2, 3), w, x)
    with pytest.raises(ValueError, match="strides > 1 together with dilation_rate > 1"):
        ConvSpec(1, 1, 1, strides=2, dilation_rate=3)
    with pytest.raises(ValueError, match="padding"):
        ConvSpec(1, 1, 3, padding="causal")
    with pytest.raises(ValueError, match="rank"):
        ConvSpec(4, 1, 3)
    with pytest.raises(ValueError, match="kernel_size"):
        ConvSpec(2, 1, (3,))
    with pytest.raises(ValueError, match="strides"):
        ConvSpec(1, 1, 3, strides=0)
    with pytest.raises(ValueError, match="weights"):
        conv_lstm(spec, w[:2], x)  # missing bias
    with pytest.raises(ValueError, match="weights"):
        conv_lstm(spec, [w[0][..., :1, :], w[1], w[2]], x)  # kernel for 1 input channel, x has 2
    with pytest.raises(ValueError, match="weights"):
        conv_lstm(spec, [w[0], w[1][..., :4], w[2]], x)  # recurrent kernel with 1 gate's columns
    with pytest.raises(ValueError, match="initial_state"):
        conv_lstm(spec, w, x, initial_state=init[:1])
    with pytest.raises(ValueError, match="initial_state"):
        conv_lstm(ConvSpec(2, 2, 3), w, x, initial_state=init)  # "valid" states are (2, 2, 2), not (4, 4, 2)
    with pytest.raises(ValueError, match="output size"):
        conv_output_spatial(ConvSpec(1, 1, 5), (3,))
    with pytest.raises(ValueError):
        conv_output_spatial(ConvSpec(1, 1, 3), (3, 3))


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_conv_channels_first_reads_and_returns_channels_after_time_and_batch(rank):
    """data_format="channels_first": element [b, t, c, *s] of the input is element [b, t, *s, c] of
    the channels_last input, and likewise for the sequence [b, t, f, *s], the states [b, f, *s]
    and the initial states; the weights are the same arrays. Checked element by element, by
    indices written out, not by the oracle's own axis moves."""
    spatial = (5, 4, 3)[:rank]
    last = ConvSpec(rank, 2, 3, padding="same")
    first = ConvSpec(rank, 2, 3, padding="same", data_format="channels_first")
    w, x, init = conv_case(last, spatial=spatial, C=3)
    x_cf = np.empty((x.shape[0], x.shape[1], x.shape[-1], *spatial))
    for b, t, c, *s in np.ndindex(*x_cf.shape):
        x_cf[(b, t, c, *s)] = x[(b, t, *s, c)]
    init_cf = []
    for state in init:
        cf = np.empty((state.shape[0], state.shape[-1], *state.shape[1:-1]))
        for b, f, *s in np.ndindex(*cf.shape):
            cf[(b, f, *s)] = state[(b, *s, f)]
        init_cf.append(cf)
    ref = conv_lstm(last, w, x, initial_state=init)
    got = conv_lstm(first, w, x_cf, initial_state=init_cf)
    assert got.sequence.shape == (x.shape[0], x.shape[1], 2, *spatial)
    for b, t, f, *s in np.ndindex(*got.sequence.shape):
        assert got.sequence[(b, t, f, *s)] == ref.sequence[(b, t, *s, f)]
    for mine, theirs in zip(got.states[0], ref.states[0]):
        assert mine.shape == (x.shape[0], 2, *spatial)
        for b, f, *s in np.ndindex(*mine.shape):
            assert mine[(b, f, *s)] == theirs[(b, *s, f)]
    np.testing.assert_array_equal(got.last_output, got.states[0][0])


def test_conv_spec_refuses_an_unknown_data_format():
    with pytest.raises(ValueError, match="data_format must be"):
        ConvSpec(2, 2, 3, data_format="NCHW")
