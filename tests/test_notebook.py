"""The notebook ("RNN 기초") claims, literally, on its own input: one sequence of shape
(1, 4, 5) and units=3, for SimpleRNN, RNN(SimpleRNNCell), LSTM and GRU.

The return_sequences, return_state and device axes come from the plugin (as everywhere).
The shapes asserted here are the ones the notebook printed and the Keras documentation states;
they are written out in full on purpose, so the notebook can be read next to this file.
"""

import re

import numpy as np
import pytest

from rnnconf.harness.asserts import assert_identical, assert_structure
from rnnconf.spec.contract import Leaf, describe
from rnnconf.harness.outcomes import skip_without_gpu
from rnnconf.harness.runner import CaseContext

UNITS = 3
NOTEBOOK_INPUT_SHAPE = (1, 4, 5)
# The notebook's four layers, as (id, builder over the implementation's layers).
NOTEBOOK_LAYERS = {
    "SimpleRNN": lambda impl, **kw: impl.layer("SimpleRNN")(UNITS, **kw),
    "RNN_SimpleRNNCell": lambda impl, **kw: impl.layer("RNN")(impl.layer("SimpleRNNCell")(UNITS), **kw),
    "LSTM": lambda impl, **kw: impl.layer("LSTM")(UNITS, **kw),
    "GRU": lambda impl, **kw: impl.layer("GRU")(UNITS, **kw),
}
# What the notebook printed for each combination (states: h, and c for LSTM).
PRINTED = {
    (False, False): Leaf("output", (1, 3)),
    (True, False): Leaf("output", (1, 4, 3)),
    (False, True): [Leaf("output", (1, 3)), Leaf("h", (1, 3))],
    (True, True): [Leaf("output", (1, 4, 3)), Leaf("h", (1, 3))],
}
PRINTED_LSTM_STATE = {
    False: [Leaf("output", (1, 3)), Leaf("h", (1, 3)), Leaf("c", (1, 3))],
    True: [Leaf("output", (1, 4, 3)), Leaf("h", (1, 3)), Leaf("c", (1, 3))],
}

layer_names = pytest.mark.parametrize("name", list(NOTEBOOK_LAYERS))


@pytest.fixture
def notebook_input():
    # Non-integer values; the notebook used one random sequence of this shape.
    return np.random.default_rng(20240501).random(NOTEBOOK_INPUT_SHAPE).astype(np.float32)


def _call(impl, device, name, x, **flags):
    skip_without_gpu(impl, device)
    with CaseContext(f"{name}(3) with {flags} on {device}"), impl.device(device):
        layer = NOTEBOOK_LAYERS[name](impl, **flags)
        return layer, impl.normalise(layer(x))


@layer_names
def test_flags_default_to_false(impl, name, device, notebook_input):
    layer, _ = _call(impl, device, name, notebook_input)
    assert layer.return_sequences is False, f"{name}: return_sequences defaults to {layer.return_sequences!r}"
    assert layer.return_state is False, f"{name}: return_state defaults to {layer.return_state!r}"
    # What a call with both flags False returns is test_printed_shapes[last-nostate]'s claim.


RANK_3 = re.compile(r"ndim=3|rank 3|\b3-?D\b|3 dimensions")


@layer_names
def test_input_must_be_3d(impl, name, device, notebook_input):
    """A (timesteps, features) input without the batch axis is rejected.

    SimpleRNN, LSTM and GRU declare ``ndim=3`` and raise ``ValueError`` naming the expected rank
    before any computation. ``RNN(cell)`` accepts nested inputs for custom cells, so it declares
    no rank; the claim for it is only that the input is rejected, whatever the error type.
    """
    skip_without_gpu(impl, device)
    expected = Exception if name.startswith("RNN_") else ValueError
    two_d = notebook_input[0]  # (4, 5): timesteps and features, no batch axis
    with CaseContext(f"{name}(3) on {device}"), impl.device(device):
        layer = NOTEBOOK_LAYERS[name](impl)
        try:
            returned = layer(two_d)
        except expected as exc:
            error = exc
        else:
            pytest.fail(f"{name}(3) accepted a 2-D input {two_d.shape} on {device} and returned "
                        f"{describe(impl.normalise(returned).tree)}; expected {expected.__name__} "
                        "(input must be 3-D: batch, timesteps, features)", pytrace=False)
    if expected is ValueError:
        assert RANK_3.search(str(error)), (
            f"{name}(3) rejected a 2-D input with a ValueError that does not name the expected rank 3 "
            f"(ndim=3 / rank 3 / 3-D): {error}")


@layer_names
def test_printed_shapes(impl, name, return_sequences, return_state, device, notebook_input):
    _, got = _call(impl, device, name, notebook_input,
                   return_sequences=return_sequences, return_state=return_state)
    expected = PRINTED_LSTM_STATE[return_sequences] if (name == "LSTM" and return_state) \
        else PRINTED[(return_sequences, return_state)]
    assert_structure(expected, got.tree, f"{name}(3, return_sequences={return_sequences}, "
                                          f"return_state={return_state}) on {device}")


def test_lstm_returns_output_h_and_c(impl, return_sequences, device, notebook_input):
    _, got = _call(impl, device, "LSTM", notebook_input,
                   return_sequences=return_sequences, return_state=True)
    assert isinstance(got.tree, list) and len(got.tree) == 3, \
        f"LSTM(return_state=True) returned {len(got.tree) if isinstance(got.tree, list) else 1} item(s), expected 3"
    out, h, c = got.tree
    assert h.shape == c.shape == (1, UNITS)
    assert not np.array_equal(h, c), "LSTM's c is identical to h: the cell state is not returned"


@layer_names
def test_last_step_is_hidden_state(impl, name, device, notebook_input):
    _, got = _call(impl, device, name, notebook_input, return_sequences=True, return_state=True)
    assert_identical(got.tree[0][:, -1], got.tree[1], "output[:, -1] == h",
                     f"{name}(3, return_sequences=True, return_state=True) on {device}")


@layer_names
def test_output_is_hidden_state_without_sequences(impl, name, device, notebook_input):
    _, got = _call(impl, device, name, notebook_input, return_sequences=False, return_state=True)
    assert_identical(got.tree[0], got.tree[1], "output == h",
                     f"{name}(3, return_sequences=False, return_state=True) on {device}")
