"""Arity, nesting and shape of what every catalog entry returns, in all four flag combinations.

The expected structure comes from the documented contract (``rnnconf.spec.contract``): the output
alone, or the output followed by the final states (``h``; ``h, c`` for LSTM; one entry per
stacked cell; forward then backward states for Bidirectional).
"""

from rnnconf.spec import contract
from rnnconf.harness.asserts import assert_structure


def _returned(run, return_sequences, return_state, record):
    got = run.call(return_sequences, return_state)
    expected = contract.expected_tree(run.entry, run.shape, return_sequences, return_state)
    record.returned(expected, got.tree, view="eager", containers=got.containers, dtypes=got.dtypes,
                    placements=got.placements)
    return expected, got


def test_arity(run, entry, return_sequences, return_state, shape, device, record):
    """The number of returned items and their nesting (shapes aside)."""
    expected, got = _returned(run, return_sequences, return_state, record)
    assert_structure(expected, got.tree, run.describe(return_sequences, return_state), shapes=False)


def test_shapes(run, entry, return_sequences, return_state, shape, device, record):
    """The shape of every output and every state, in order. Nesting is test_arity's claim: the
    returned tensors are compared flat, so a nesting bug is reported once, there."""
    expected, got = _returned(run, return_sequences, return_state, record)
    assert_structure(contract.flatten(expected), contract.flatten(got.tree),
                     run.describe(return_sequences, return_state))
