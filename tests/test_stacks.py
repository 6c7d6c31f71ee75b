"""Stacks of recurrent layers (rnnconf/spec/models.py): two and three layers of mixed types, each
layer's sequence feeding the next, in a functional model and in ``Sequential``; the last layer in
every combination of its flags (``Sequential``: without ``return_state``, which Keras documents
it for).

Against the oracle chain (each layer of the oracle fed the previous one's sequence), bare and
behind a front that makes a mask (``Masking``, ``Embedding(mask_zero=True)``): the mask must
reach every layer of the stack ("masked (skipped) in all downstream layers (as long as they
support masking)", the Masking docstring) and the layer after it.
"""

import pytest

from rnnconf.harness.asserts import assert_structure
from rnnconf.harness.checks import check_composed
from rnnconf.harness.masks import expected_masks, mask_problems
from rnnconf.spec import contract, models

stacks = pytest.mark.compositions(lambda c: c.kind == "stack")
default_fronts = pytest.mark.default_lane(lambda p: p["front"] in (None, *models.DEFAULT_FRONT_CASES))


@stacks
@pytest.mark.parametrize("front", (None, *models.FRONT_CASES), ids=("bare", *models.FRONT_CASES))
@default_fronts
@pytest.mark.shapes("masks")
def test_stack_matches_oracle(composed, composition, return_sequences, return_state, shape, device, front,
                              record):
    """The last layer's returned tensors: the oracle chain's (with the front's mask, if any)."""
    check_composed(composed, composed.eager(front), return_sequences, return_state, "called eagerly", record,
                   front=front)


@stacks
@pytest.mark.shapes("masks")
def test_stack_symbolic_shapes(composed, composition, return_sequences, return_state, shape, device):
    """The model's outputs on ``Input(shape=(None, features))``: the last layer's structure, batch
    and time unknown."""
    got = composed.symbolic().arrays(return_sequences, return_state)
    expected = contract.flatten(composition.expected(shape, return_sequences, return_state, symbolic=True))
    assert_structure(expected, got, f"{composed.describe(return_sequences, return_state)}, symbolic outputs")


@stacks
@pytest.mark.parametrize("front", models.FRONT_CASES)
@pytest.mark.default_lane(lambda p: p["front"] in models.DEFAULT_FRONT_CASES)
@pytest.mark.shapes("masks")
def test_stack_mask_reaches_next_layer(composed, composition, return_sequences, return_state, shape, device,
                                       front):
    """The mask the layer after the stack is called with: the front's after a sequence, none after
    a last output or a state."""
    got = composed.eager(front)
    expected, _ = expected_masks(composition.expected(shape, return_sequences, return_state), return_sequences,
                                 got.feed.mask)
    problems = mask_problems(composed.impl.to_numpy, got.masks(return_sequences, return_state), expected, True)
    assert not problems, (f"{composed.describe(return_sequences, return_state, front)}: the layers after it were "
                          "called with the wrong masks: " + "; ".join(problems))
