"""One layer's returned states as another's ``initial_state`` in a functional model: the encoder-
decoder wiring that ``return_state`` exists for (rnnconf/spec/models.py: LSTM, GRU, SimpleRNN,
stacked cells, a Bidirectional LSTM's halves concatenated into a decoder of twice the units,
ConvLSTM2D). The RNN docstring: "You can specify the initial state of RNN layers symbolically by
calling them with the keyword argument ``initial_state``".

Each decoder flag combination, against the oracle chain (the encoder's final states as the
decoder's initial state): symbolically, eagerly, by ``model.predict``, and after a ``.keras``
round trip, which must keep the wiring.
"""

import pytest

from rnnconf.harness.asserts import assert_structure
from rnnconf.harness.checks import check_composed
from rnnconf.spec import contract

wirings = pytest.mark.compositions(lambda c: c.kind == "wiring")
# model.predict costs a compiled function per model (~1.3 s a wiring on TensorFlow, 2 cores): the
# default lane predicts the LSTM encoder-decoder and the Bidirectional one (the seq2seq wiring);
# --full every wiring.
PREDICT_LANE = pytest.mark.default_lane(lambda p: p["composition"].id in ("Wire_LSTM_LSTM", "Wire_BiLSTM_LSTM"))


@wirings
@pytest.mark.shapes("options")
def test_wiring_symbolic_shapes(composed, composition, return_sequences, return_state, shape, device):
    """The decoder's outputs on symbolic inputs (batch and time unknown): its documented structure."""
    got = composed.symbolic().arrays(return_sequences, return_state)
    expected = contract.flatten(composition.expected(shape, return_sequences, return_state, symbolic=True))
    assert_structure(expected, got, f"{composed.describe(return_sequences, return_state)}, symbolic outputs")


@wirings
@pytest.mark.shapes("options")
def test_wiring_matches_oracle(composed, composition, return_sequences, return_state, shape, device, record):
    """The model called eagerly: the decoder started from the encoder's final states."""
    check_composed(composed, composed.eager(), return_sequences, return_state, "called eagerly", record)


@wirings
@PREDICT_LANE
@pytest.mark.mode("compiled")
@pytest.mark.shapes("options")
def test_wiring_predict_matches_oracle(composed, composition, return_sequences, return_state, shape, device,
                                       record):
    """``model.predict`` (a partial last batch): the same values as the oracle chain."""
    check_composed(composed, composed.predicted(), return_sequences, return_state, "model.predict", record)


@wirings
@pytest.mark.shapes("options")
def test_wiring_keras_file_matches_oracle(composed, composition, return_sequences, return_state, shape, device,
                                          tmp_path_factory, record):
    """The model saved as a ``.keras`` file and loaded back: the same wiring, the oracle's values."""
    reloaded = composed.reloaded(tmp_path_factory.mktemp("wiring"))
    check_composed(composed, reloaded, return_sequences, return_state, "after a .keras save and load", record)
