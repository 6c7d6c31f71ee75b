"""Symbolic shapes agree with the contract, and so with eager calls.

``compute_output_shape`` on the concrete input shape, and a call on ``Input(shape=(None, ...))``
(unknown batch and time) as a functional model would make, must give the same structure as an
eager call: the same arity and nesting, the same known dimensions.
"""

from rnnconf.spec import contract
from rnnconf.harness.asserts import assert_structure


def test_compute_output_shape(run, entry, return_sequences, return_state, shape, device, record):
    got = run.compute_output_shape(return_sequences, return_state)
    expected = contract.expected_tree(entry, shape, return_sequences, return_state)
    record.returned(expected, got, view="compute_output_shape")
    assert_structure(expected, got, "compute_output_shape of " + run.describe(return_sequences, return_state))


def test_functional_input(run, entry, return_sequences, return_state, shape, device, record):
    got = run.symbolic(return_sequences, return_state)
    expected = contract.expected_tree(entry, shape, return_sequences, return_state, symbolic=True)
    record.returned(expected, got, view="symbolic")
    assert_structure(expected, got, "a call on Input(shape=(None, ...)) of "
                     + run.describe(return_sequences, return_state))
