"""Property-based: every catalog entry (one test each), any flags, any small shape — the returned structure and
shapes follow the contract, compute_output_shape agrees, and the last processed step is the
final state. Hypothesis profile: "ci" (derandomized) when $CI is set, else "dev"."""

from hypothesis import example, given, settings

from rnnconf.spec import contract, strategies
from rnnconf.harness.asserts import assert_identical, assert_structure
from rnnconf.harness.outcomes import skip_without_gpu
from rnnconf.harness.runner import CaseRun


@settings(max_examples=strategies.EXAMPLES_PER_ENTRY)
@given(flags=strategies.flags, shape=strategies.shapes)
@example(flags=(True, True), shape=strategies.EVERY_AXIS_MATTERS)
def test_any_shape_follows_the_contract(impl, entry, device, flags, shape):
    skip_without_gpu(impl, device)
    return_sequences, return_state = flags
    run = CaseRun(impl, entry, shape, device)
    context = run.describe(return_sequences, return_state)
    got = run.call(return_sequences, return_state)
    expected = contract.expected_tree(entry, shape, return_sequences, return_state)
    # Every returned tensor, in order, has its documented shape. (Nesting is test_structure's
    # job, where a known Keras 3 nesting bug is an expected failure.)
    assert_structure(contract.flatten(expected), contract.flatten(got.tree), context)
    assert_structure(expected, run.compute_output_shape(return_sequences, return_state),
                     "compute_output_shape of " + context)
    if return_state:
        roles = contract.by_role(expected, got.tree)
        for what, lhs, rhs in contract.last_step_identities(entry, shape, return_sequences, roles):
            assert_identical(lhs, rhs, what, context)
