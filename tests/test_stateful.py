"""stateful=True: the final states carry into the next call, so two calls on the halves of a
sequence equal one call on the whole (checked against the oracle), and reset_state() starts over."""

import pytest

from rnnconf import catalog, contract, reference
from rnnconf.asserts import assert_identical, assert_matches_oracle


@pytest.mark.entries(lambda e: e in catalog.ORACLE_ENTRIES and not e.bidirectional)
@pytest.mark.shapes("options")
def test_stateful_halves_equal_whole(make_run, entry, return_sequences, return_state, shape, device, record):
    run = make_run(stateful=True)
    impl = run.impl
    layer = run.layer(return_sequences, return_state)
    split = shape.timesteps // 2
    context = run.describe(return_sequences, return_state)
    expected_tree = contract.expected_tree(entry, shape, return_sequences, return_state)

    def call(x):
        with impl.device(device):
            return impl.normalise(layer(x)).tree

    impl.reset_state(layer)
    first = call(run.x[:, :split])
    second = call(run.x[:, split:])
    roles = contract.by_role(expected_tree, second)
    assert roles is not None, f"second stateful call returned {contract.describe(second)} for {context}"
    whole = reference.expected_roles(entry, shape, run.weights, run.x, return_sequences=return_sequences)
    if return_sequences:  # the second call returns the steps after the split
        whole = {k: (v[:, split:] if k.startswith("output") else v) for k, v in whole.items()}
    record["max_abs_diff"] = assert_matches_oracle(roles, whole, context + ", second of two stateful calls",
                                                   **reference.tolerance("float32"))
    record["tolerance"] = reference.tolerance_text("float32")
    impl.reset_state(layer)
    again = call(run.x[:, :split])
    for a, b in zip(contract.flatten(first), contract.flatten(again)):
        assert_identical(a, b, "first call after reset_state() == first call", context)


@pytest.mark.entries(lambda e: e.bidirectional)
@pytest.mark.shapes("options")
def test_bidirectional_stateful_forward_half_carries(make_run, entry, return_sequences, shape, device, record):
    """Bidirectional(stateful=True, return_state=True): the call works, returns the documented
    structure, and the forward half's state after two calls is the whole sequence's."""
    run = make_run(stateful=True)
    impl = run.impl
    layer = run.layer(return_sequences, True)
    split = shape.timesteps // 2
    with impl.device(device):
        impl.reset_state(layer)
        layer(run.x[:, :split])
        second = impl.normalise(layer(run.x[:, split:])).tree
    roles = contract.by_role(contract.expected_tree(entry, shape, return_sequences, True), second)
    assert roles is not None, f"stateful Bidirectional returned {contract.describe(second)}"
    whole = reference.expected_roles(entry, shape, run.weights, run.x, return_sequences=return_sequences)
    forward = {k: v for k, v in roles.items() if k.startswith("forward.")}
    record["max_abs_diff"] = assert_matches_oracle(forward, whole, run.describe(return_sequences, True),
                                                   **reference.tolerance("float32"))
