"""Every TRAINING-MODE and COMPILED family of the suite fails on a fake that has its bug.

tests/test_training_mode.py (training=True without and with dropout; the dropout masks' rate,
scaling and constancy over the steps of one call) and tests/test_compiled.py (structure,
identity, oracle values and stateful halves inside model.predict and the backend's compiled
function) each get fakes in fixtures/broken/ (train_*.py, compiled_*.py): real Keras 3 except
for one bug. As in test_fakes_options.py, a :class:`~tests.selftest.test_fakes.Caught` spells
out -- from the contract, not from a run -- which node ids must fail with which message and which
must pass in the same run (the same family on a layer the bug does not touch, or the eager
counterpart); the control runs every must-fail node id on real Keras, where each passes.
"""

from __future__ import annotations

import pytest

from rnnconf.spec import catalog

from .suite import catalog_ids
from .test_fakes import assert_fake_caught, assert_keras_passes_what_fakes_fail, caught

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.selftest

TRAINING = "tests/test_training_mode.py"
COMPILED = "tests/test_compiled.py"
STATEFUL = "tests/test_stateful.py"
B3 = catalog.OPTION_SHAPES[0]  # the default lane's option shape, where compiled execution runs LSTM
# (tests/test_compiled.py's default_lane marker): the compiled fakes break LSTM
PATHS = ["predict", "function"]
ORACLE = r"differs from the NumPy oracle for "
WITHOUT = "test_training_without_dropout_equals_inference"
WITH = "test_dropout_in_training_changes_values"
INPUT_MASK = "test_input_dropout_mask"
RECURRENT_MASK = "test_recurrent_dropout_mask"
COMPILED_SITES = "(test_compiled_matches_oracle or test_compiled_last_step_is_final_state or test_compiled_structure)"


def ids(module: str, test: str, entry: str, *, params=(None,), **axes) -> set[str]:
    return catalog_ids(module, test, [entry], shapes=[B3], extra=params, **axes)


def with_dropout(entry: str) -> set[str]:
    """test_dropout_in_training_changes_values in the default lane: return_sequences=True with
    return_state=True (its default_lane marker; --full runs the four combinations)."""
    return ids(TRAINING, WITH, entry, return_sequences=[True], return_state=[True])


def masks(test: str, entry: str) -> set[str]:
    """The observable-layer tests: no flag or shape axis (their input is their own)."""
    return catalog_ids(TRAINING, test, [entry], return_sequences=None, return_state=None, shapes=[None])


def identity(entry: str, path_params=PATHS) -> set[str]:
    return ids(COMPILED, "test_compiled_last_step_is_final_state", entry, params=path_params, return_state=None)


def mask_fake(fake: str, test: str, layer: str, cell: str, pattern: str, family: str):
    """A fake breaking one mask property of ``layer``: ``test`` fails on it; the other mask test
    on it, and both on ``RNN(<cell>)`` (real Keras), pass."""
    other = RECURRENT_MASK if test == INPUT_MASK else INPUT_MASK
    return caught(
        fake, f"test_training_mode::{test} ({family})", (TRAINING,),
        f"({INPUT_MASK} or {RECURRENT_MASK}) and ([{layer}- or [{cell}-)",
        failed={pattern: masks(test, layer)},
        passed=masks(other, layer) | masks(INPUT_MASK, cell) | masks(RECURRENT_MASK, cell))


CAUGHT = [
    caught(
        "train_changes_values", f"test_training_mode::{WITHOUT}", (TRAINING,),
        f"({WITHOUT} or {WITH}) and ([GRU- or [LSTM-) and {B3.id}",
        failed={r"training=True without dropout differs from the inference call \(same layer, no dropout\) "
                r"for GRU\(units\)": ids(TRAINING, WITHOUT, "GRU")},
        passed=ids(TRAINING, WITHOUT, "LSTM") | with_dropout("GRU") | with_dropout("LSTM"),
    ),
    caught(
        "train_dropout_ignored", f"test_training_mode::{WITH}", (TRAINING,),
        f"({WITHOUT} or {WITH}) and ([GRU- or [LSTM-) and {B3.id}",
        failed={r"for LSTM\(units\) .*dropout=0\.5.*: every output must differ from inference": with_dropout("LSTM")},
        passed=ids(TRAINING, WITHOUT, "LSTM") | with_dropout("GRU") | ids(TRAINING, WITHOUT, "GRU"),
    ),
    mask_fake("train_input_rate_halved", INPUT_MASK, "SimpleRNN", "RNN_SimpleRNNCell",
              r"input mask: \d+ of 4000 entries dropped .*, expected 1200 \+- 145 \(rate 0\.3, 5 sigma",
              "the drawn rate"),
    mask_fake("train_kept_unscaled", INPUT_MASK, "GRU", "RNN_GRUCell",
              r"input mask: \d+ kept entries are not the value 1/\(1 - rate\) scaling gives",
              "the scaling of kept entries"),
    mask_fake("train_recurrent_mask_redrawn", RECURRENT_MASK, "LSTM", "RNN_LSTMCell",
              r"recurrent mask: the dropped entries at steps \[1, 2, 3\] are not those of step 0",
              "one mask for every step"),
    mask_fake("train_mask_broadcast_units", INPUT_MASK, "GRU", "RNN_GRUCell",
              r"input mask: \d+ of 500 batch rows drop all 8 units or none, at most \d+ for a mask drawn element "
              r"by element .*: the mask is shared across units", "elementwise: independent across units"),
    mask_fake("train_mask_shared_rows", RECURRENT_MASK, "SimpleRNN", "RNN_SimpleRNNCell",
              r"recurrent mask: \d+ of 499 neighbouring batch rows carry the same mask, at most \d+ .*: the mask is "
              r"shared across batch rows", "elementwise: independent across batch rows"),
    caught(
        "compiled_values_differ", "test_compiled (values and the last-step identity, compiled only)",
        (COMPILED,), f"{COMPILED_SITES} and [LSTM-",
        failed={
            ORACLE + r"LSTM\(units\) .*, inside (model\.predict|the backend's compiled function)": ids(
                COMPILED, "test_compiled_matches_oracle", "LSTM", params=PATHS),
            r"output(\[:, -1\])? == h does not hold for LSTM\(units\) .*, inside": identity("LSTM"),
        },
        passed=ids(COMPILED, "test_compiled_structure", "LSTM", params=PATHS),
    ),
    caught(
        "compiled_c_short", "test_compiled::test_compiled_structure (and the count/shape guard of the others)",
        (COMPILED,), f"{COMPILED_SITES} and [LSTM-",
        failed={
            r"inside [^\n]*:\s+returned\[2\] \(c\)\.shape=\(\d+, 2\), expected \(\d+, 3\)": ids(
                COMPILED, "test_compiled_structure", "LSTM", params=PATHS, return_state=[True]),
            r"\(c\)\.shape=\(\d+, 2\), expected \(\d+, 3\) \(test_compiled_structure reports the difference\)":
                ids(COMPILED, "test_compiled_matches_oracle", "LSTM", params=PATHS, return_state=[True])
                | identity("LSTM"),
        },
        passed=ids(COMPILED, "test_compiled_structure", "LSTM", params=PATHS, return_state=[False])
        | ids(COMPILED, "test_compiled_matches_oracle", "LSTM", params=PATHS, return_state=[False]),
    ),
    caught(
        "compiled_state_not_carried", "test_compiled::test_compiled_stateful_halves_equal_whole",
        (COMPILED, STATEFUL),
        f"(stateful_halves_equal_whole or test_compiled_matches_oracle) and [LSTM- and {B3.id}",
        failed={ORACLE + r"LSTM\(units\) .*stateful=True .*, second of two (model\.predict calls on one model|"
                         r"calls of one compiled function)": ids(
                    COMPILED, "test_compiled_stateful_halves_equal_whole", "LSTM", params=PATHS)},
        passed=ids(STATEFUL, "test_stateful_halves_equal_whole", "LSTM")
        | ids(COMPILED, "test_compiled_matches_oracle", "LSTM", params=PATHS),
    ),
]


@pytest.mark.parametrize("spec", CAUGHT, ids=[c.fake for c in CAUGHT])
def test_mode_fake_is_caught(pytester, monkeypatch, spec):
    assert_fake_caught(pytester, monkeypatch, spec)


def test_real_keras_passes_what_the_mode_fakes_fail(pytester, monkeypatch, impl):
    """The control: every node id a fake above must fail passes on Keras itself (a known
    nonconformance of the backend, read from the expectation files, would xfail)."""
    assert_keras_passes_what_fakes_fail(pytester, monkeypatch, impl, CAUGHT)
