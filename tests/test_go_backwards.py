"""go_backwards: the sequence is processed from the end; the returned sequence is in processing
order (reversed time), its last step is still the final state, and the values equal the oracle's
forward run on the reversed input."""

import pytest

from rnnconf.spec import contract
from rnnconf.harness.asserts import assert_identical
from rnnconf.harness.checks import check_against_oracle, roles_of

UNIDIRECTIONAL = lambda e: not e.bidirectional  # noqa: E731


@pytest.mark.entries(UNIDIRECTIONAL)
@pytest.mark.shapes("options")
def test_go_backwards_matches_oracle(make_run, entry, return_sequences, return_state, shape, device, record):
    check_against_oracle(make_run(go_backwards=True), return_sequences, return_state, record,
                         go_backwards=True)


@pytest.mark.entries(lambda e: UNIDIRECTIONAL(e) and e.cells[-1].output_state is not None)
@pytest.mark.shapes("options")
def test_go_backwards_last_step_is_final_state(make_run, entry, return_sequences, shape, device):
    run = make_run(go_backwards=True)
    roles, _ = roles_of(run, return_sequences, True)
    for what, lhs, rhs in contract.last_step_identities(entry, shape, return_sequences, roles):
        assert_identical(lhs, rhs, what, run.describe(return_sequences, True))
