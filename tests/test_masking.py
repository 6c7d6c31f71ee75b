"""Masks (passed as ``mask=``): right-padded, arbitrary, and with a fully masked row.

At a masked step the states are frozen and the sequence output repeats the previous output
(zeros with ``zero_output_for_mask=True``); the last output and the final state are those after
the last unmasked step. Bidirectional zero-fills masked steps of its sequences (documented)."""

import numpy as np
import pytest

from rnnconf.spec import catalog, contract, reference
from rnnconf.harness.asserts import assert_close
from rnnconf.harness.checks import check_against_oracle, roles_of

mask_kinds = pytest.mark.parametrize("mask_kind", reference.MASK_KINDS)


def _mask(run, kind):
    return reference.make_mask(kind, run.shape.batch, run.shape.timesteps, seed=run.shape.timesteps)


@mask_kinds
@pytest.mark.entries(lambda e: e in catalog.MASK_ENTRIES)
@pytest.mark.shapes("masks")
def test_mask_matches_oracle(run, entry, return_sequences, return_state, shape, device, mask_kind, record):
    mask = _mask(run, mask_kind)
    check_against_oracle(run, return_sequences, return_state, record, mask=mask, call_kwargs={"mask": mask})


def _zero_output_for_mask(make_run, return_sequences, return_state, mask_kind, record, only):
    run = make_run(zero_output_for_mask=True)
    mask = _mask(run, mask_kind)
    # the last output: rows whose last step is masked and the others are two claims (a known bug
    # of the first group never covers the second)
    rows = None if return_sequences else {"rows whose last step is masked": ~mask[:, -1],
                                          "rows whose last step is unmasked": mask[:, -1]}
    check_against_oracle(run, return_sequences, return_state, record, mask=mask, only=only, rows=rows,
                         zero_output_for_mask=True, call_kwargs={"mask": mask})


@mask_kinds
@pytest.mark.entries(lambda e: e in catalog.MASK_ENTRIES and not e.bidirectional)
@pytest.mark.shapes("masks")
def test_zero_output_for_mask_output(make_run, entry, return_sequences, return_state, shape, device,
                                     mask_kind, record):
    """The output: masked steps of the sequence are zeros; the last output (return_sequences
    =False) is the output after the last unmasked step, as without the option (documented)."""
    _zero_output_for_mask(make_run, return_sequences, return_state, mask_kind, record, "output")


@mask_kinds
@pytest.mark.entries(lambda e: e in catalog.MASK_ENTRIES and not e.bidirectional)
@pytest.mark.shapes("masks")
def test_zero_output_for_mask_states(make_run, entry, return_sequences, shape, device, mask_kind, record):
    """The states are those after the last unmasked step: the option changes outputs only."""
    _zero_output_for_mask(make_run, return_sequences, True, mask_kind, record, "states")


@pytest.mark.entries(lambda e: e in catalog.MASK_ENTRIES and not e.bidirectional)
@pytest.mark.shapes("masks")
def test_final_state_is_state_after_last_unmasked_step(run, entry, return_sequences, shape, device, record):
    """Implementation against itself: a right-padded row ends in the state of the unmasked run
    on that row truncated to its length."""
    mask = _mask(run, "right_padded")
    masked, _ = roles_of(run, return_sequences, True, mask=mask)
    layer = run.layer(return_sequences, True)
    expected = contract.expected_tree(entry, shape, return_sequences, True)
    worst = 0.0
    for row, length in enumerate(mask.sum(axis=1)):
        with run.impl.device(device):
            alone = run.impl.normalise(layer(run.x[row:row + 1, :length]))
        roles = contract.by_role(expected, alone.tree)
        for role, value in roles.items():
            if role == "output":
                continue
            worst = max(worst, assert_close(masked[role][row:row + 1], value,
                                            f"{role} of row {row} (length {length})",
                                            run.describe(return_sequences, True) + " with a right-padded mask",
                                            **reference.SELF_TOLERANCE,
                                            against="the same layer on the row cut to its length"))
    record.deviation(worst, reference.self_tolerance_text(), against="self")
    assert np.any(~mask), "the mask must mask something"
