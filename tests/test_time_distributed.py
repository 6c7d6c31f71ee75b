"""``TimeDistributed`` around a recurrent layer (rnnconf/spec/models.py quotes its docstring):
the layer applied to every slice of ``(batch, OUTER, T, features)`` with the same weights, so the
output is the layer's own, slice by slice, and the wrapper passes its ``mask`` on to the wrapped
layer ("This argument is passed to the wrapped layer (only if the layer supports this
argument)").

SimpleRNN, LSTM, GRU, stacked cells and Bidirectional(LSTM) inside, each with
``return_sequences`` False and True (the wrapper returns one tensor: ``return_state`` is not a
case), against the oracle run on every slice: symbolically (batch, outer and inner steps
unknown), eagerly, by ``model.predict``, after a ``.keras`` round trip, and behind ``Masking``
and ``Embedding(mask_zero=True)``, whose ``(batch, OUTER, T)`` mask must mask each slice's steps.
A mask of another shape must be refused: tests/test_validation.py's ``td_mask_*`` rules.
"""

import pytest

from rnnconf.harness.asserts import assert_structure
from rnnconf.harness.checks import check_composed
from rnnconf.spec import contract, models

wrapped = pytest.mark.compositions(lambda c: c.kind == "timedistributed")


@wrapped
@pytest.mark.shapes("options")
def test_td_symbolic_shapes(composed, composition, return_sequences, return_state, shape, device):
    """The output on ``Input(shape=(None, None, features))``: the layer's, after batch and outer axis."""
    got = composed.symbolic().arrays(return_sequences, return_state)
    expected = contract.flatten(composition.expected(shape, return_sequences, return_state, symbolic=True))
    assert_structure(expected, got, f"{composed.describe(return_sequences, return_state)}, symbolic outputs")


@wrapped
@pytest.mark.parametrize("front", (None, *models.FRONT_CASES), ids=("bare", *models.FRONT_CASES))
@pytest.mark.default_lane(lambda p: p["front"] in (None, *models.DEFAULT_FRONT_CASES))
@pytest.mark.shapes("options")
def test_td_matches_oracle(composed, composition, return_sequences, return_state, shape, device, front, record):
    """Called eagerly: the oracle on every slice (behind a front: with the front's mask, slice by slice)."""
    check_composed(composed, composed.eager(front), return_sequences, return_state, "called eagerly", record,
                   front=front)


@wrapped
@pytest.mark.mode("compiled")
@pytest.mark.shapes("options")
def test_td_predict_matches_oracle(composed, composition, return_sequences, return_state, shape, device,
                                   record):
    """``model.predict`` (a partial last batch): the oracle on every slice."""
    check_composed(composed, composed.predicted(), return_sequences, return_state, "model.predict", record)


@wrapped
@pytest.mark.shapes("options")
def test_td_keras_file_matches_oracle(composed, composition, return_sequences, return_state, shape, device,
                                      tmp_path_factory, record):
    """Saved as a ``.keras`` file and loaded back: the wrapper and its layer, the oracle's values."""
    reloaded = composed.reloaded(tmp_path_factory.mktemp("td"))
    check_composed(composed, reloaded, return_sequences, return_state, "after a .keras save and load", record)

