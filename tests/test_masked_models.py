"""A recurrent layer behind the layer that makes its mask, in a functional model: ``Masking`` and
``Embedding(mask_zero=True)`` (rnnconf/spec/models.py quotes their docstrings).

The masking-and-padding guide: "There are three ways to introduce input masks in Keras models:
Add a ``keras.layers.Masking`` layer. Configure a ``keras.layers.Embedding`` layer with
``mask_zero=True``. Pass a ``mask`` argument manually when calling layers that support this
argument (e.g. RNN layers)". The third is tests/test_masking.py; here the first two must give the
same values -- the oracle's, with the front's mask -- and the mask must reach the layer after the
recurrent one: the input mask after a sequence, none after a last output or a state (the RNN
docstring's "Masking" section; ``Layer.compute_mask``: one mask per output tensor).

Every catalog entry the oracle can mask, in its four flag combinations, each behind both fronts
(Masking with an arbitrary mask, Embedding with right padding; ``--full``: both kinds each).
"""

import pytest

from rnnconf.harness.asserts import assert_matches_oracle
from rnnconf.harness.checks import roles_in
from rnnconf.harness.composed import fronted
from rnnconf.harness.masks import expected_masks, mask_problems
from rnnconf.spec import catalog, contract, models, reference

fronts = pytest.mark.parametrize("front", models.FRONT_CASES)
default_fronts = pytest.mark.default_lane(lambda p: p["front"] in models.DEFAULT_FRONT_CASES)


@fronts
@default_fronts
@pytest.mark.entries(lambda e: e in catalog.MASK_ENTRIES)
@pytest.mark.shapes("masks")
def test_front_matches_oracle(run, entry, return_sequences, return_state, shape, device, front, record):
    """What the layer returns behind the front: the oracle's values for the front's input and mask."""
    got = fronted(run, front)
    context = f"{run.describe(return_sequences, return_state)} behind {front}"
    roles = roles_in(run, got.arrays(return_sequences, return_state), return_sequences, return_state,
                     how=f" behind {front}")
    expected = reference.expected_roles(entry, shape, run.weights, got.feed.x, return_sequences=return_sequences,
                                        mask=got.feed.mask)
    worst = assert_matches_oracle(roles, expected, context, **reference.tolerance("float32"))
    record.deviation(worst, reference.tolerance_text("float32"))


@fronts
@default_fronts
@pytest.mark.entries(lambda e: e in catalog.MASK_ENTRIES)
@pytest.mark.shapes("masks")
def test_front_mask_reaches_next_layer(run, entry, return_sequences, return_state, shape, device, front):
    """The mask each layer after the recurrent one is called with (a probe layer that supports
    masking, one after every returned tensor)."""
    got = fronted(run, front)
    expected, _ = expected_masks(contract.expected_tree(entry, shape, return_sequences, return_state),
                                 return_sequences, got.feed.mask)
    problems = mask_problems(run.impl.to_numpy, got.masks(return_sequences, return_state), expected, True)
    assert not problems, (f"{run.describe(return_sequences, return_state)} behind {front}, in a functional "
                          "model: the layers after it were called with the wrong masks: " + "; ".join(problems))
