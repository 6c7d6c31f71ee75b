"""Options that must not change the values: unroll=True (a different graph, the same numbers),
and dropout / recurrent_dropout at inference (deterministic, equal to no dropout)."""

import pytest

from rnnconf.spec import contract, reference
from rnnconf.harness.asserts import assert_close, assert_identical
from rnnconf.harness.checks import check_against_oracle, roles_in


@pytest.mark.shapes("options")
def test_unroll_matches_oracle_and_loop(make_run, entry, return_sequences, return_state, shape, device, record):
    # Keras 2's ConvLSTM takes no unroll (its ConvRNN refuses it): not applicable there
    unrolled = make_run(unroll=True)
    check_against_oracle(unrolled, return_sequences, return_state, record)
    loop = make_run().call(return_sequences, return_state).tree
    for a, b in zip(contract.flatten(unrolled.call(return_sequences, return_state).tree), contract.flatten(loop)):
        assert_close(a, b, "unroll=True", unrolled.describe(return_sequences, return_state),
                     **reference.SELF_TOLERANCE, against="the loop (unroll=False, same weights)")


@pytest.mark.entries(lambda e: not e.custom)  # the suite's own cells take no dropout
@pytest.mark.shapes("options")
def test_dropout_inactive_at_inference(make_run, entry, return_sequences, shape, device, record):
    """With return_state=True: the call that returns the states returns the output too, so it
    covers what a return_state=False call could show."""
    return_state = True
    dropped = make_run(dropout=0.5, recurrent_dropout=0.5)
    plain = make_run().call(return_sequences, return_state).tree
    context = dropped.describe(return_sequences, return_state)
    default = dropped.call(return_sequences, return_state).tree
    explicit = dropped.call(return_sequences, return_state, training=False).tree
    for a, b in zip(contract.flatten(default), contract.flatten(explicit)):
        assert_identical(a, b, "call() == call(training=False)", context)
    worst = 0.0
    roles_in(dropped, default, return_sequences, return_state, " (with dropout, at inference)")
    for a, b in zip(contract.flatten(default), contract.flatten(plain)):
        worst = max(worst, assert_close(a, b, "inference with dropout", context, **reference.SELF_TOLERANCE,
                                        against="the same weights without dropout"))
    record.deviation(worst, reference.self_tolerance_text(), against="self")
