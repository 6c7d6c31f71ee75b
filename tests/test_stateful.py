"""stateful=True: the final states carry into the next call, so two calls on the halves of a
sequence equal one call on the whole (checked against the oracle); reset_state() starts over, on
every entry (a Bidirectional resets both halves). Each test builds its own layer, so no other call
has touched its states."""

import numpy as np
import pytest

from rnnconf.spec import contract, reference
from rnnconf.harness.asserts import assert_identical, assert_matches_oracle
from rnnconf.harness.checks import roles_in
from rnnconf.spec.seeds import seed_for

UNIDIRECTIONAL = lambda e: not e.bidirectional  # noqa: E731


def _caller(run, layer):
    def call(x):
        with run.impl.device(run.device):
            return run.impl.normalise(layer(x)).tree
    return call


@pytest.mark.entries(UNIDIRECTIONAL)
@pytest.mark.shapes("options")
def test_stateful_halves_equal_whole(make_run, entry, return_sequences, return_state, shape, device, record):
    run = make_run(stateful=True)
    call = _caller(run, run.new_layer(return_sequences, return_state))
    split = shape.timesteps // 2
    context = run.describe(return_sequences, return_state)
    call(run.x[:, :split])
    roles = roles_in(run, call(run.x[:, split:]), return_sequences, return_state, ", second stateful call,")
    whole = reference.expected_roles(entry, shape, run.weights, run.x, return_sequences=return_sequences)
    if return_sequences:  # the second call returns the steps after the split
        whole = {k: (v[:, split:] if k.startswith("output") else v) for k, v in whole.items()}
    record.deviation(assert_matches_oracle(roles, whole, context + ", second of two stateful calls",
                                           **reference.tolerance("float32")),
                     reference.tolerance_text("float32"))


@pytest.mark.entries(lambda e: e.cells[0].kind != "init")
@pytest.mark.shapes("options")
def test_reset_state_starts_over(make_run, entry, return_sequences, return_state, shape, device):
    """After two calls have moved the states, reset_state() makes the next call return what the
    first call of a new layer returned (the states are zeros again). Not for a cell whose
    get_initial_state is not zeros: reset_state() zeroes (test_reset_state_zeroes_states)."""
    run = make_run(stateful=True)
    layer = run.new_layer(return_sequences, return_state)
    call = _caller(run, layer)
    split = shape.timesteps // 2
    first = call(run.x[:, :split])
    call(run.x[:, split:])
    run.impl.reset_state(layer)
    again = call(run.x[:, :split])
    context = run.describe(return_sequences, return_state)
    for a, b in zip(contract.flatten(first), contract.flatten(again)):
        assert_identical(a, b, "first call after reset_state() == first call", context)


@pytest.mark.shapes("options")
def test_reset_state_zeroes_states(make_run, entry, shape, device):
    """After a call has moved them, reset_state() sets every state to zeros (the layer's
    ``states``, read directly; for a cell whose get_initial_state is not zeros too; both halves
    of a Bidirectional, whose reset_state resets its forward and backward layers)."""
    run = make_run(stateful=True)
    layer = run.new_layer(False, False)
    _caller(run, layer)(run.x)
    run.impl.reset_state(layer)
    states = run.impl.state_values(layer)
    nonzero = {i: float(np.max(np.abs(s))) for i, s in enumerate(states) if np.any(s != 0)}
    assert states and not nonzero, (
        f"after reset_state() the states are not zeros for {run.describe(False, False)}: "
        f"{len(nonzero)} of {len(states)} states hold values (state index: max |value|) {nonzero}")


@pytest.mark.shapes("options")
def test_reset_state_sets_given_states(make_run, entry, shape, device, record):
    """The RNN docstring: "You can specify the initial state of RNN layers numerically by calling
    reset_state() with the keyword argument states" (a NumPy array or a list of them). After a
    call has moved the states, reset_state(states=<seeded arrays>) and a call on the input must
    equal the oracle started from those states."""
    run = make_run(stateful=True)
    layer = run.new_layer(True, True)
    call = _caller(run, layer)
    call(run.x)
    flat = reference.initial_state_arrays(entry, shape, seed_for("reset_state", entry.id, shape.id))
    context = run.describe(True, True) + ", after reset_state(states=<seeded arrays>)"
    with run.impl.device(device):
        run.impl.reset_state(layer, states=contract.nest_like_states(entry, shape, flat))
    roles = roles_in(run, call(run.x), True, True, ", after reset_state(states=...),")
    expected = reference.expected_roles(entry, shape, run.weights, run.x, return_sequences=True,
                                        initial_state=flat)
    record.deviation(assert_matches_oracle(roles, expected, context, **reference.tolerance("float32")),
                     reference.tolerance_text("float32"))


@pytest.mark.entries(lambda e: e.bidirectional)
@pytest.mark.shapes("options")
def test_bidirectional_stateful_forward_half_carries(make_run, entry, return_sequences, return_state, shape,
                                                    device, record):
    """Bidirectional over a stateful layer: the call works, returns the documented structure, and
    after two calls on the halves the forward half (its output, and its states with
    return_state=True) is the whole sequence's. The backward half restarts from its own carried
    state on each reversed half, so no whole-sequence identity holds for it."""
    run = make_run(stateful=True)
    call = _caller(run, run.new_layer(return_sequences, return_state))
    split = shape.timesteps // 2
    context = run.describe(return_sequences, return_state)
    call(run.x[:, :split])
    roles = roles_in(run, call(run.x[:, split:]), return_sequences, return_state, ", second stateful call,")
    fw = reference.forward_half(entry, shape, run.weights, run.x)
    # the forward layer's own states (an explicit backward layer may carry other ones)
    expected = {f"forward.{name}": value for (name, _), value in zip(entry.cells[0].state_leaves(), fw.states[0])}
    out = fw.sequence[:, split:] if return_sequences else fw.last_output
    got = {k: v for k, v in roles.items() if k.startswith("forward.")}
    if entry.merge_mode is None:
        got["output_forward"], expected["output_forward"] = roles["output_forward"], out
    elif entry.merge_mode == "concat":  # the forward half is the first (forward units) columns
        u = entry.cell_units(shape)[0]
        got["output[..., :units]"], expected["output[..., :units]"] = roles["output"][..., :u], out
    if not got:
        pytest.skip(f"merge_mode={entry.merge_mode!r} without return_state mixes both halves: "
                    "nothing of the forward half can be compared")
    record.deviation(assert_matches_oracle(got, expected, context + ", second of two stateful calls",
                                           **reference.tolerance("float32")),
                     reference.tolerance_text("float32"))
