"""The options in pairs: for every entry, a covering array over the options that change what a
layer returns or computes (rnnconf/spec/option_pairs.py lists them): every pair of option values
meets in some case. Each case builds the layer with its row's options, calls it (a stateful row:
the sequence in two calls, the states carried; ``initial_state`` given to the first call; a mask
cut with the sequence) and checks, in two tests (two claims, so that an expectation on one never
covers the other):

- ``test_option_pairs``, the rows without dropout: every returned tensor of every call against
  the oracle run the same way (chunk by chunk from the carried states), at the row's dtype
  tolerance;
- ``test_option_pairs_in_training``, the rows with dropout in training, where the oracle has no
  model: the documented structure, finite
  values, the last processed step equal to the final state (without a mask; with one, the last
  output of ``return_sequences=False``), and zeros at masked steps with ``zero_output_for_mask``.

The default lane runs the notebook's three layers and Bidirectional(LSTM); ``--full`` every entry.
"""

import numpy as np
import pytest

from rnnconf.spec import catalog, contract, option_pairs, reference, unspecified
from rnnconf.spec.seeds import seed_for
from rnnconf.harness.asserts import assert_identical, assert_matches_oracle
from rnnconf.harness.checks import judge_open_behaviours, roles_in
from rnnconf.harness.outcomes import skip_without_float64

PAIRS_LANE = ("SimpleRNN", "LSTM", "GRU", "Bi_LSTM_concat")
COMPUTE = {"float32": "float32", "float64": "float64", "mixed_float16": "float16"}


def _chunks(row, run):
    """(input, mask or None) per call: one, or CHUNKS consecutive pieces for a stateful row."""
    x = run.x
    mask = (None if row.get("mask", "none") == "none"
            else reference.make_mask(row["mask"], run.shape.batch, run.shape.timesteps, seed=run.shape.timesteps))
    n = option_pairs.CHUNKS if row["stateful"] else 1
    edges = np.linspace(0, x.shape[1], n + 1).astype(int)
    return [(x[:, a:b], None if mask is None else mask[:, a:b]) for a, b in zip(edges[:-1], edges[1:])]


def _state_roles(entry, shape):
    return [leaf.role for leaf in contract.flatten(contract.expected_tree(entry, shape, True, True))
            if not leaf.role.startswith("output")]


def _oracle(run, row, chunks, initial, choices):
    """role -> value per call, the oracle carrying its final states from call to call."""
    entry, shape = run.entry, run.shape
    states, out = initial, []
    for x, mask in chunks:
        piece = catalog.Shape(shape.batch, x.shape[1], shape.features, shape.units)
        roles = reference.expected_roles(entry, piece, run.weights, x, return_sequences=row["return_sequences"],
                                         initial_state=states, mask=mask, go_backwards=row.get("go_backwards", False),
                                         zero_output_for_mask=row.get("zero_output_for_mask", False),
                                         choices=choices)
        out.append(roles)
        states = [roles[r] for r in _state_roles(entry, piece)]
    return out


def _run_row(make_run, entry, return_sequences, return_state, row, shape, device):
    """Build the layer with the row's options and call it as the row says: (run, chunks, the
    initial states given, each call's roles, the context for messages)."""
    run = make_run(**option_pairs.layer_options(row))
    if row["dtype"] == "float64":
        skip_without_float64(run.impl)
    layer = run.new_layer(return_sequences, return_state)  # its own: a stateful row changes its states
    chunks = _chunks(row, run)
    initial = (reference.initial_state_arrays(entry, shape, seed_for("initial", entry.id, shape.id))
               if row["initial_state"] else None)
    context = f"{run.describe(return_sequences, return_state)}, options {option_pairs.row_id(row)}"
    got = []
    with run.impl.device(device):
        nested = (contract.nest_like_states(entry, shape, initial, run.impl.to_tensor)
                  if initial is not None else None)
        for i, (x, mask) in enumerate(chunks):
            kwargs = {}
            if mask is not None:
                kwargs["mask"] = mask
            if i == 0 and nested is not None:
                kwargs["initial_state"] = nested
            if row.get("dropout"):
                kwargs["training"] = True
            returned = run.impl.normalise(layer(x, **kwargs)).tree
            piece = catalog.Shape(shape.batch, x.shape[1], shape.features, shape.units)
            got.append(roles_in(run, returned, return_sequences, return_state, f" (call {i + 1} of {len(chunks)})",
                                shape=piece))
    return run, chunks, initial, got, context


@pytest.mark.default_lane(lambda p: p["entry"].id in PAIRS_LANE)
@pytest.mark.pair_rows(lambda row: not row.get("dropout"))
@pytest.mark.shapes("options")
def test_option_pairs(make_run, entry, return_sequences, return_state, pair_row, shape, device, record):
    """The rows without dropout: every returned tensor of every call against the oracle."""
    row = pair_row
    run, chunks, initial, got, context = _run_row(make_run, entry, return_sequences, return_state, row, shape, device)
    label = (lambda i, r: f"call {i + 1}: {r}") if len(chunks) > 1 else (lambda i, r: r)
    groups = [_last_step_groups(entry, row, mask, return_sequences) for _, mask in chunks]

    def claims(i, roles):
        """role -> value, the last output cut into its row groups (each its own claim)."""
        out = {}
        for r, v in roles.items():
            if r == "output" and groups[i]:
                out.update({label(i, f"output ({name})"): np.asarray(v)[rows] for name, rows in groups[i].items()})
            else:
                out[label(i, r)] = v
        return out

    def compare(expected):
        have, want = {}, {}
        for i, roles in enumerate(got):
            have.update(claims(i, roles))
            want.update(claims(i, {r: expected[i][r] for r in roles}))
        return assert_matches_oracle(have, want, context, **reference.tolerance(COMPUTE[row["dtype"]]))

    leading = next((m for _, m in chunks if m is not None
                    and unspecified.leading_masked_steps(m, row.get("go_backwards", False)).any()), None)
    worst = judge_open_behaviours(run, record, compare, lambda choices: _oracle(run, row, chunks, initial, choices),
                                  mask=leading, go_backwards=row.get("go_backwards", False))
    record.deviation(worst, reference.tolerance_text(COMPUTE[row["dtype"]]))


@pytest.mark.default_lane(lambda p: p["entry"].id in PAIRS_LANE)
@pytest.mark.pair_rows(lambda row: row.get("dropout"))
@pytest.mark.mode("training")
@pytest.mark.shapes("options")
def test_option_pairs_in_training(make_run, entry, return_sequences, return_state, pair_row, shape, device):
    """The rows with dropout in training, where the oracle has no model: the documented identities."""
    row = pair_row
    run, chunks, _, got, context = _run_row(make_run, entry, return_sequences, return_state, row, shape, device)
    _check_identities(run, row, chunks, got, return_sequences, return_state, context)


def _last_step_groups(entry, row, mask, return_sequences):
    """A last output (return_sequences=False) under a mask is two claims, as in test_masking: the
    rows whose last processed step is masked (the output is the one after their last unmasked
    step) and the others. None where the output is one claim."""
    if return_sequences or mask is None or entry.bidirectional:
        return None
    last = mask[:, 0] if row.get("go_backwards") else mask[:, -1]
    return {name: rows for name, rows in (("rows whose last step is masked", ~last),
                                          ("rows whose last step is unmasked", last)) if rows.any()}


def _check_identities(run, row, chunks, got, return_sequences, return_state, context):
    """Dropout in training: what holds whatever the masks drew."""
    entry = run.entry
    for i, ((x, mask), roles) in enumerate(zip(chunks, got)):
        where = f"{context}, call {i + 1}, training=True with dropout"
        for role, value in roles.items():
            assert np.all(np.isfinite(np.asarray(value, np.float64))), f"{role} is not finite for {where}"
        # the last processed step is the final state; under a mask the last output is the one
        # after the row's last unmasked step, which is the final state too (a row with no
        # unmasked step in this call has none: the documentation leaves its output open)
        if return_state and (mask is None or not (return_sequences or row.get("zero_output_for_mask"))):
            rows = np.ones(run.shape.batch, bool) if mask is None else mask.any(axis=1)
            piece = catalog.Shape(int(rows.sum()), x.shape[1], run.shape.features, run.shape.units)
            kept = {r: np.asarray(v)[rows] for r, v in roles.items()}
            for what, lhs, rhs in contract.last_step_identities(entry, piece, return_sequences, kept):
                assert_identical(lhs, rhs, what, where + ("" if mask is None else " (rows with an unmasked step)"))
        if row.get("zero_output_for_mask") and mask is not None and return_sequences:
            out = np.asarray(roles["output"])
            # the sequence is in processing order: reversed time with go_backwards
            masked = out[~(mask[:, ::-1] if row.get("go_backwards") else mask)]
            assert np.all(masked == 0), (f"output at masked steps: {int(np.sum(masked != 0))} nonzero values with "
                                         f"zero_output_for_mask=True for {where}")
