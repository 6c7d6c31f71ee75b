"""initial_state: the final states of a call can be passed back as the next call's initial
state, in the same structure ([h0], [h0, c0] for LSTM, one entry per stacked cell, forward then
backward halves for Bidirectional), and the values follow from it."""

import pytest

from rnnconf.spec import contract, reference
from rnnconf.spec.seeds import seed_for
from rnnconf.harness.checks import check_against_oracle


def nest_like_states(entry, shape, flat, to_tensor):
    """Arrange flat initial states like the returned states (the contract's state subtree)."""
    return contract.nest_like_states(entry, shape, flat, to_tensor)


@pytest.mark.shapes("options")
def test_initial_state_matches_oracle(run, entry, return_sequences, return_state, shape, device, record):
    flat = reference.initial_state_arrays(entry, shape, seed_for("initial", entry.id, shape.id))
    with run.impl.device(device):
        nested = nest_like_states(entry, shape, flat, run.impl.to_tensor)
    check_against_oracle(run, return_sequences, return_state, record, initial_state=flat,
                         call_kwargs={"initial_state": nested})
