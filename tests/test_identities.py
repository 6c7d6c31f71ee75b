"""Identities between what one call returns, and between the four flag combinations.

- the last processed step of the output *is* the final hidden state (bit for bit);
- LSTM's cell state is returned, has the state's shape and is not the hidden state;
- with the same weights and input the combinations agree: the ``return_sequences=False`` output
  is the last step of the ``True`` run, and the states do not depend on either flag.
"""

import itertools

import pytest

from rnnconf.spec import contract
from rnnconf.harness.asserts import assert_identical
from rnnconf.harness.checks import roles_of


def _roles(run, return_sequences, return_state):
    return roles_of(run, return_sequences, return_state)[0]


def test_last_step_is_final_state(run, entry, return_sequences, shape, device):
    roles = _roles(run, return_sequences, True)
    pairs = contract.last_step_identities(entry, shape, return_sequences, roles)
    if not pairs and entry.custom:
        pytest.skip(f"{entry.label}'s output is not one of its states (output_size != state_size): the "
                    "documented rule is that the last output is the sequence's last step "
                    "(test_flag_combinations_agree) and the state is the cell's new state (test_values)")
    if not pairs:
        pytest.skip(f"merge_mode={entry.merge_mode!r} with return_sequences=True mixes both halves at "
                    "every step: no state identity exists (test_values checks these numbers)")
    for what, lhs, rhs in pairs:
        assert_identical(lhs, rhs, what, run.describe(return_sequences, True))


@pytest.mark.entries(lambda e: e.has_cell_state)
def test_cell_state_is_not_hidden_state(run, entry, return_sequences, shape, device):
    roles = _roles(run, return_sequences, True)
    pairs = contract.cell_state_pairs(roles)
    context = run.describe(return_sequences, True)
    assert pairs, f"no cell state (c) was returned for {context}"
    for c_role, h_role in pairs:
        c, h = roles[c_role], roles[h_role]
        assert c.shape == h.shape, f"{c_role}.shape={c.shape}, expected {h.shape} like {h_role}, for {context}"
        assert not (c == h).all(), f"{c_role} is identical to {h_role} for {context}: the cell state is not returned"


def test_flag_combinations_agree(run, entry, shape, device, record):
    views = {}
    for rs, st in itertools.product((False, True), repeat=2):
        views[(rs, st)] = contract.views(entry, shape, rs, _roles(run, rs, st))
    checked = []
    for a, b in itertools.combinations(views, 2):
        for key in sorted(views[a].keys() & views[b].keys()):
            what = (f"{key} with {contract.flags_text(*a)} == {key} with {contract.flags_text(*b)}")
            assert_identical(views[a][key], views[b][key], what, run.describe(*a).split(" with ")[0]
                             + f" on {device}, input {entry.input_shape(shape)}")
            checked.append(f"{key}: {contract.flags_id(*a)} == {contract.flags_id(*b)}")
    record.note(checked=checked)
    assert checked, f"no quantity is shared between flag combinations of {entry.label}"
