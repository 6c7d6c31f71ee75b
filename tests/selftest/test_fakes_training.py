"""Every TRAINING family of the suite fails on a fake that has the bug it exists to catch.

The training tests (gradients against the oracle, the exact zero at masked steps, one SGD step,
stateful fit) each get a fake in fixtures/broken/train_*.py: real Keras 3 except for one bug.
As in test_fakes_options.py, a :class:`~tests.selftest.test_fakes.Caught` spells out -- from the
contract, not from a run -- which node ids of a narrow default-lane selection must fail, with
which message, and which must pass in the same run (the same layer's values, or the family next
to the broken one), and the control runs every must-fail node id on real Keras, where each passes.
"""

from __future__ import annotations

import pytest


from .test_fakes import assert_fake_caught, assert_keras_passes_what_fakes_fail, caught
from .test_fakes_options import B3, VALUES, STATEFUL, ids, values

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.selftest

GRADIENTS = "tests/test_gradients.py"
FIT = "tests/test_fit.py"
SEQ_STATE = dict(return_sequences=[True], return_state=[True])
NO_FLAGS = dict(return_sequences=None, return_state=None)
GRADIENT = (r"differs from central differences of the NumPy oracle for the gradient of a seeded weighted sum "
            r"of the returned tensors")
# The selections are in the default lane (tests/test_fit.py: FIT_DEFAULT_LANE has LSTM,
# STATEFUL_DEFAULT_LANE has GRU; tests/test_gradients.py runs return_sequences=True with
# return_state=True and the "arbitrary" mask kind there): a node id outside it would not run.

CAUGHT = [
    caught(
        "train_grad_cut_through_time", "test_gradients::test_gradients_match_oracle (backpropagation through time)",
        (GRADIENTS, VALUES),
        "(test_gradients_match_oracle or test_masked_steps_get_no_input_gradient or test_values_match_oracle)"
        " and [SimpleRNN- and " + B3.id,
        failed={
            # every term through the recurrence is lost: the initial state's gradient most plainly
            r"dL/dinitial_state\[0\] \(element by element\) " + GRADIENT + r", SimpleRNN\(units\)":
                ids(GRADIENTS, "test_gradients_match_oracle", "SimpleRNN", B3, **SEQ_STATE)},
        passed=values("SimpleRNN", B3)
        | ids(GRADIENTS, "test_masked_steps_get_no_input_gradient", "SimpleRNN", B3, params=["arbitrary"],
              **SEQ_STATE),
    ),
    caught(
        "train_masked_steps_leak", "test_gradients::test_masked_steps_get_no_input_gradient",
        (GRADIENTS, VALUES),
        "(test_gradients_match_oracle or test_masked_steps_get_no_input_gradient or test_values_match_oracle"
        " or test_masked_gradients_match_oracle) and [GRU- and " + B3.id,
        failed={
            r"the gradient w.r.t. the input at masked steps is not zero for GRU\(units\) .*mask=<ndarray>: "
            r"\d+ of \d+ masked \(row, step\) pairs get a gradient":
                ids(GRADIENTS, "test_masked_steps_get_no_input_gradient", "GRU", B3, params=["arbitrary"],
                    **SEQ_STATE),
            r"dL/dinput \(element by element\) " + GRADIENT: ids(
                GRADIENTS, "test_gradients_match_oracle", "GRU", B3, **SEQ_STATE),
            r"dL/dinput \(element by element\) " + GRADIENT + r", GRU\(units\) .*mask=<ndarray>": ids(
                GRADIENTS, "test_masked_gradients_match_oracle", "GRU", B3, params=["arbitrary"], **SEQ_STATE),
        },
        passed=values("GRU", B3),
    ),
    caught(
        "train_sgd_skips_bias", "test_fit::test_sgd_step_matches_oracle (the update, not the gradient)",
        (GRADIENTS, FIT),
        "(test_gradients_match_oracle or test_sgd_step_matches_oracle) and [LSTM- and " + B3.id,
        failed={
            r"one SGD step: \(w - w_new\) / lr of weight\[2\] \(element by element\) differs from the NumPy "
            r"oracle's SGD step for LSTM\(units\)":
                ids(FIT, "test_sgd_step_matches_oracle", "LSTM", B3, **SEQ_STATE)},
        passed=ids(GRADIENTS, "test_gradients_match_oracle", "LSTM", B3, **SEQ_STATE),
    ),
    caught(
        "train_fit_skips_batches", "test_fit::test_stateful_fit_* (every batch of every epoch is run)",
        (FIT,),
        "(test_stateful_fit or test_sgd_step_matches_oracle) and ([GRU- or [LSTM-) and " + B3.id,
        failed={
            r"1 batches ended in epoch 1 of model\.fit, expected 2":
                ids(FIT, "test_stateful_fit_carries_states_across_batches", "GRU", B3, **NO_FLAGS),
            r"1 and 1 batches ended in the two epochs of model\.fit, expected 2 each":
                ids(FIT, "test_stateful_fit_after_reset_state_starts_over", "GRU", B3, **NO_FLAGS),
        },
        # one train_on_batch is not fit
        passed=ids(FIT, "test_sgd_step_matches_oracle", "LSTM", B3, **SEQ_STATE),
    ),
    caught(
        "train_stateful_reset_in_training", "test_fit::test_stateful_fit_* (states carried in training)",
        (STATEFUL, FIT),
        "(test_stateful_fit or test_stateful_halves_equal_whole) and [GRU- and " + B3.id,
        failed={
            r"epoch 1, batch 1: .* differs from the oracle carrying the states from chunk to chunk for GRU\(units\)":
                ids(FIT, "test_stateful_fit_carries_states_across_batches", "GRU", B3, **NO_FLAGS),
            r"epoch 2, after reset_state\(\), batch 1: .* differs from the oracle carrying the states":
                ids(FIT, "test_stateful_fit_after_reset_state_starts_over", "GRU", B3, **NO_FLAGS),
        },
        # at inference the states are carried
        passed=ids(STATEFUL, "test_stateful_halves_equal_whole", "GRU", B3),
    ),
]


@pytest.mark.parametrize("spec", CAUGHT, ids=[c.fake for c in CAUGHT])
def test_training_fake_is_caught(pytester, monkeypatch, spec):
    assert_fake_caught(pytester, monkeypatch, spec)


def test_real_keras_passes_what_the_training_fakes_fail(pytester, monkeypatch, impl):
    """The control: every node id a fake above must fail passes on Keras itself (a known
    nonconformance would xfail, as read from the expectation files)."""
    assert_keras_passes_what_fakes_fail(pytester, monkeypatch, impl, CAUGHT)

