"""Arity, nesting and shape of what every catalog entry returns, in all four flag combinations.

The expected structure comes from the documented contract (``rnnconf.contract``): the output
alone, or the output followed by the final states (``h``; ``h, c`` for LSTM; one entry per
stacked cell; forward then backward states for Bidirectional).
"""

from rnnconf import contract
from rnnconf.asserts import assert_structure


def test_arity(run, entry, return_sequences, return_state, shape, device, record):
    """The number of returned items and their nesting (shapes aside)."""
    got = run.call(return_sequences, return_state)
    expected = contract.expected_tree(entry, shape, return_sequences, return_state)
    record.update(expected=contract.describe(expected), got=contract.describe_returned(expected, got.tree),
                  containers=got.containers, dtypes=sorted(set(contract.flatten(got.dtypes))),
                  placements=got.placements)
    assert_structure(expected, got.tree, run.describe(return_sequences, return_state), shapes=False)


def test_shapes(run, entry, return_sequences, return_state, shape, device, record):
    """The shape of every output and every state."""
    got = run.call(return_sequences, return_state)
    expected = contract.expected_tree(entry, shape, return_sequences, return_state)
    record.update(expected=contract.describe(expected), got=contract.describe_returned(expected, got.tree),
                  containers=got.containers, dtypes=sorted(set(contract.flatten(got.dtypes))),
                  placements=got.placements)
    assert_structure(expected, got.tree, run.describe(return_sequences, return_state))
