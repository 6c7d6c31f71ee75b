"""Every claim family of the documented arguments (tests/test_arguments.py) and of the options in
pairs (tests/test_option_pairs.py) fails on a fake that has the bug it exists to catch, and only
there.

Each :class:`~tests.selftest.test_fakes.Caught` spells out from the contract which node ids of a
narrow selection fail, with which message, and which pass in the same run: the same layer with
another setting of the argument, or the option rows that lack one of the two options a pair bug
needs. The option rows come from rnnconf/spec/option_pairs.py (the covering array), never from a
run. The control runs every node id a fake must fail on real Keras, where each passes.
"""

from __future__ import annotations

from typing import Callable

import pytest

from rnnconf.spec import catalog, nondefault, option_pairs
from rnnconf.harness.caseid import case_id, seq_word, state_word

from .suite import run_suite
from .test_fakes import assert_fake_caught, assert_keras_passes_what_fakes_fail, caught
from .test_fakes_options import B3, NOTEBOOK, ORACLE

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.selftest

ARGS = "tests/test_arguments.py"
PAIRS = "tests/test_option_pairs.py"
assert B3 in catalog.OPTION_SHAPES  # the argument and pair tests' default-lane shape


def arg_ids(test: str, entry: str, settings: list[str], *, shape: catalog.Shape = B3, flags=None) -> set[str]:
    """Node ids of an argument test: ``test[<entry>(-<seq>-<state>)-<shape>-cpu-<setting>]``
    (no settings: a test without a setting axis)."""
    combos = flags if flags is not None else [(None, None)]
    return {case_id(ARGS, test, entry=entry, return_sequences=rs, return_state=st, shape=shape,
                    device="cpu", extra=(s,) if s else ()) for s in (settings or [""]) for rs, st in combos}


def claim_ids(claim: str, exclude: tuple[str, ...] = ()) -> list[str]:
    return [s.id for s in nondefault.of_claim(claim) if s.id not in exclude]


def default_ids(entry: str) -> set[str]:
    return {case_id(ARGS, "test_default_initializers", entry=entry, shape=B3, device="cpu")}


def pair_ids(entry: str, when: Callable[[dict], bool]) -> set[str]:
    """Node ids of the option rows of ``entry`` for which ``when(row)`` holds: a row with dropout
    is a case of test_option_pairs_in_training, the others of test_option_pairs."""
    out = set()
    for row in option_pairs.rows(catalog.BY_ID[entry]):
        if when(row):
            test = "test_option_pairs_in_training" if row["dropout"] else "test_option_pairs"
            out.add(f"{PAIRS}::{test}[{entry}-{seq_word(row['return_sequences'])}-"
                    f"{state_word(row['return_state'])}-{option_pairs.row_id(row)}-{B3.id}-cpu]")
    return out


def no_unrolled_backwards_zero_output(row: dict) -> bool:
    """Rows that two known nonconformances of Keras 3 do not reach: its unroll x go_backwards x
    zero_output_for_mask bug (in the returned sequence), and keras #17596 (zero_output_for_mask
    zeroes a last output; every return_sequences=False row with the option is left out). The fakes'
    selections leave those rows out, so that the control passes."""
    if not row.get("zero_output_for_mask"):
        return True
    return row["return_sequences"] and not (row.get("go_backwards") and row["unroll"])


FORCED_ZEROS = "unit_forget_bias_True_with_ones"  # a known nonconformance of Keras itself
BOTH_FLAGS = [(rs, st) for rs in (False, True) for st in (False, True)]

# tf-keras's time_major, which Keras 3 does not take: the fake adds it wrongly, and its control is
# the same LSTM done right (fixtures/controls/time_major.py), not Keras
TIME_MAJOR = caught(
    "arg_time_major_output_unmoved", "test_arguments::test_time_major (the output sequence time-major)",
    (ARGS,), "test_time_major and [LSTM-",
    failed={r"output: shape \(4, 3, 3\), expected \(3, 4, 3\), for LSTM\(units\) .*time_major=True":
            arg_ids("test_time_major", "LSTM", [], flags=[(True, False), (True, True)])},
    passed=arg_ids("test_time_major", "LSTM", [], flags=[(False, False), (False, True)]),
)

CAUGHT = [
    caught(
        "arg_use_bias_ignored", "test_arguments::test_argument_values (the documented weight layout)",
        (ARGS,), "test_argument_values and [LSTM-",
        failed={r"get_weights\(\) of LSTM\(units\) .* has shapes \[.*\], the documented layout with use_bias=False is":
                arg_ids("test_argument_values", "LSTM", ["use_bias_False"])},
        passed=arg_ids("test_argument_values", "LSTM", claim_ids("values", ("use_bias_False",))),
    ),
    caught(
        "arg_recurrent_activation_ignored", "test_arguments::test_argument_values (the oracle's values)",
        (ARGS,), "test_argument_values and [GRU-",
        failed={ORACLE + r"GRU\(units\) .*recurrent_activation=":
                arg_ids("test_argument_values", "GRU", claim_ids("values", ("activation_relu", "activation_linear",
                                                                           "activation_hard_sigmoid",
                                                                           "activation_callable", "use_bias_False")))},
        passed=arg_ids("test_argument_values", "GRU", ["activation_relu", "activation_linear",
                                                       "activation_hard_sigmoid", "activation_callable",
                                                       "use_bias_False"]),
    ),
    caught(
        "arg_initializers_swapped", "test_arguments::test_initializer_on_built_weights, test_default_initializers "
        "(each initializer on the weights it names; the default recurrent kernel orthogonal)",
        (ARGS,), f"(test_initializer_on_built_weights or test_default_initializers) and [LSTM- and not {FORCED_ZEROS}",
        failed={r"weight\[0\] \(kernel of a lstm cell\) with kernel_initializer=ones differs from ones":
                arg_ids("test_initializer_on_built_weights", "LSTM", ["kernel_initializer_ones"]),
                r"weight\[1\] \(recurrent_kernel of a lstm cell\) with recurrent_initializer=Constant\(value=0.25\) "
                r"differs from Constant\(0.25\)":
                arg_ids("test_initializer_on_built_weights", "LSTM", ["recurrent_initializer_constant"]),
                r"weight\[1\] \(recurrent_kernel of a lstm cell\) with recurrent_initializer=orthogonal: not orthogonal":
                arg_ids("test_initializer_on_built_weights", "LSTM", ["recurrent_initializer_orthogonal"]),
                # its default kernel is now orthogonal, drawn unseeded: outside glorot_uniform's bound
                # (that shows first) or inside it, and then the glorot recurrent kernel is not orthogonal
                r"weight\[0\] \(kernel of a lstm cell, shape .*\): not glorot_uniform, the documented default|"
                r"weight\[1\] \(recurrent_kernel of a lstm cell, shape .*\): not orthogonal, the documented default":
                default_ids("LSTM")},
        passed=arg_ids("test_initializer_on_built_weights", "LSTM",
                       ["bias_initializer_ones", "unit_forget_bias_False"]),
    ),
    caught(
        "arg_default_initializers_wrong", "test_arguments::test_default_initializers (glorot_uniform kernels, "
        "orthogonal recurrent kernels)",
        (ARGS,), "test_default_initializers and ([SimpleRNN- or [GRU- or [LSTM-) or "
                 "test_initializer_on_built_weights and ([SimpleRNN- or [GRU-) and (kernel_initializer or "
                 "recurrent_initializer)",
        failed={r"weight\[0\] \(kernel of a simple cell, shape .*\): not glorot_uniform, the documented default":
                default_ids("SimpleRNN"),
                r"weight\[1\] \(recurrent_kernel of a gru cell, shape .*\): not orthogonal, the documented default":
                default_ids("GRU")},
        passed=default_ids("LSTM")
        | arg_ids("test_initializer_on_built_weights", "SimpleRNN",
                  ["kernel_initializer_ones", "recurrent_initializer_constant", "recurrent_initializer_orthogonal"])
        | arg_ids("test_initializer_on_built_weights", "GRU",
                  ["kernel_initializer_ones", "recurrent_initializer_constant", "recurrent_initializer_orthogonal"]),
    ),
    caught(
        "arg_forget_bias_inverted", "test_arguments::test_initializer_on_built_weights, test_default_initializers "
        "(the bias build makes)",
        (ARGS,), f"(test_initializer_on_built_weights or test_default_initializers) and [LSTM- and not {FORCED_ZEROS}",
        failed={r"weight\[2\] \(bias of a lstm cell\) with unit_forget_bias=False differs from zeros":
                arg_ids("test_initializer_on_built_weights", "LSTM", ["unit_forget_bias_False"]),
                r"weight\[2\] \(bias of a lstm cell, shape .*\) differs from zeros with the forget gate's block at 1":
                default_ids("LSTM")},
        passed=arg_ids("test_initializer_on_built_weights", "LSTM",
                       ["kernel_initializer_ones", "recurrent_initializer_constant",
                        "recurrent_initializer_orthogonal", "bias_initializer_ones"]),
    ),
    caught(
        "arg_regularizer_misrouted", "test_arguments::test_weight_penalty_in_losses",
        (ARGS,), "test_weight_penalty_in_losses and [GRU-",
        failed={r"the kernel_regularizer penalty differs from 0.01 \* the sum of squares of the weights it names":
                arg_ids("test_weight_penalty_in_losses", "GRU", ["kernel_regularizer_l2"])},
        passed=arg_ids("test_weight_penalty_in_losses", "GRU", ["recurrent_regularizer_l2", "bias_regularizer_l2"]),
    ),
    caught(
        "arg_activity_output_only", "test_arguments::test_activity_penalty_in_losses",
        (ARGS,), "test_activity_penalty_in_losses and [LSTM-",
        failed={r"the activity penalty differs from 0.01 \* the sum of squares of every returned tensor / batch":
                arg_ids("test_activity_penalty_in_losses", "LSTM", ["activity_regularizer_l2"],
                        flags=[(False, True), (True, True)])},
        passed=arg_ids("test_activity_penalty_in_losses", "LSTM", ["activity_regularizer_l2"],
                       flags=[(False, False), (True, False)]),
    ),
    caught(
        "arg_constraints_misrouted", "test_arguments::test_constraint_after_sgd_step (named weights constrained, "
        "the others not)",
        (ARGS,), "test_constraint_after_sgd_step and [LSTM-",
        failed={r"weight\[0\] \(kernel\) has \d+ negative entries .* after the step, against kernel_constraint=NonNeg":
                arg_ids("test_constraint_after_sgd_step", "LSTM", ["kernel_constraint_non_neg"]),
                r"every weight is >= 0 after the step, those bias_constraint does not name included":
                arg_ids("test_constraint_after_sgd_step", "LSTM", ["bias_constraint_non_neg"])},
        passed=arg_ids("test_constraint_after_sgd_step", "LSTM", ["recurrent_constraint_non_neg"]),
    ),
    caught(
        "arg_seed_misused", "test_arguments::test_seed_draws_the_same_masks (same seed, same masks; another, others)",
        (ARGS,), "test_seed_draws_the_same_masks and ([GRU- or [SimpleRNN- or [LSTM-)",
        failed={r"returned\[0\] differs between two layers built with seed=1234 and the same weights":
                arg_ids("test_seed_draws_the_same_masks", "GRU", ["seed_1234"]),
                r"seed=1234 and seed=1235 return the same values in training":
                arg_ids("test_seed_draws_the_same_masks", "SimpleRNN", ["seed_1234"])},
        passed=arg_ids("test_seed_draws_the_same_masks", "LSTM", ["seed_1234"]),
    ),
    caught(
        "arg_config_loses_arguments", "test_arguments::test_config_keeps_argument (the value kept, and again "
        "after from_config)",
        (ARGS,), "(test_config_keeps_argument or test_keras_file_keeps_argument) and ([GRU- or [LSTM-) and "
                 "(kernel_constraint or recurrent_initializer or kernel_initializer)",
        failed={r"get_config\(\) holds kernel_constraint=\[\], the default layer's \[\]":
                arg_ids("test_config_keeps_argument", "GRU", ["kernel_constraint_non_neg"], shape=NOTEBOOK),
                r"recurrent_initializer is \[.*\] after from_config\(get_config\(\)\), was \[.*Constant":
                arg_ids("test_config_keeps_argument", "LSTM", ["recurrent_initializer_constant"], shape=NOTEBOOK),
                # a loaded .keras file is made by from_config too
                r"recurrent_initializer is \[.*\] in the layer of a loaded \.keras file, was \[.*Constant":
                arg_ids("test_keras_file_keeps_argument", "LSTM", ["recurrent_initializer_constant"], shape=NOTEBOOK)},
        passed=arg_ids("test_config_keeps_argument", "GRU", ["kernel_initializer_ones", "recurrent_initializer_constant"],
                       shape=NOTEBOOK)
        | arg_ids("test_config_keeps_argument", "LSTM", ["kernel_initializer_ones", "kernel_constraint_non_neg"],
                  shape=NOTEBOOK)
        # what get_config omits, the loaded layer lacks as well: the file keeps what the config holds
        | arg_ids("test_keras_file_keeps_argument", "GRU", ["kernel_initializer_ones", "recurrent_initializer_constant",
                                                            "kernel_constraint_non_neg"], shape=NOTEBOOK)
        | arg_ids("test_keras_file_keeps_argument", "LSTM", ["kernel_initializer_ones", "kernel_constraint_non_neg"],
                  shape=NOTEBOOK),
    ),
]


def _both(*names: str) -> Callable[[dict], bool]:
    return lambda row: all(row.get(n) for n in names)


def _rest(entry: str, failing: set[str], training: bool) -> set[str]:
    """The entry's other option rows of the same test (the rows known bugs reach apart)."""
    return pair_ids(entry, lambda r: r["dropout"] == training and no_unrolled_backwards_zero_output(r)) - failing


NOT_KNOWN = " and not (-seq- and backwards+unroll and zero_output) and not (-last- and zero_output)"
VALUES_TEST, TRAINING_TEST = "test_option_pairs[", "test_option_pairs_in_training"
STATEFUL_INIT = pair_ids("LSTM", lambda r: r["stateful"] and r["initial_state"] and not r["dropout"]
                         and no_unrolled_backwards_zero_output(r))
TRAINING_STATES = pair_ids("GRU", lambda r: r["dropout"] and r["return_state"] and no_unrolled_backwards_zero_output(r))
UNROLL_NAN = pair_ids("GRU", lambda r: r["dropout"] and r["unroll"] and no_unrolled_backwards_zero_output(r))
UNROLL_STATE = pair_ids("LSTM", lambda r: r["dropout"] and r["unroll"] and r["return_state"]
                        and (r["mask"] == "none" or not (r["return_sequences"] or r["zero_output_for_mask"]))
                        and no_unrolled_backwards_zero_output(r))
ZERO_OUTPUT = pair_ids("LSTM", lambda r: r["dropout"] and r["zero_output_for_mask"] and r["return_sequences"]
                       and no_unrolled_backwards_zero_output(r))
for _selection in (STATEFUL_INIT, TRAINING_STATES, UNROLL_NAN, UNROLL_STATE, ZERO_OUTPUT):
    assert _selection, "the covering array no longer holds a row this fake needs: pick another entry"

CAUGHT += [
    caught(
        "pair_stateful_initial_state_ignored", "test_option_pairs (values: a bug of stateful x initial_state)",
        (PAIRS,), VALUES_TEST + " and [LSTM-" + NOT_KNOWN,
        failed={ORACLE + r"LSTM\(units\) .*stateful=True": STATEFUL_INIT},
        passed=_rest("LSTM", STATEFUL_INIT, training=False),
    ),
    caught(
        "pair_training_drops_states", "test_option_pairs_in_training (the returned structure in training)",
        (PAIRS,), TRAINING_TEST + " and [GRU-" + NOT_KNOWN,
        failed={r"GRU\(units\) with return_sequences=(True|False), return_state=True.* \(call 1 of \d\) returned "
                r"\([\d, ]+\), expected \[output \([\d, ]+\), h \(3, 3\)\]": TRAINING_STATES},
        passed=_rest("GRU", TRAINING_STATES, training=True),
    ),
    caught(
        "pair_training_unroll_nan", "test_option_pairs_in_training (finite values in training)",
        (PAIRS,), TRAINING_TEST + " and [GRU-" + NOT_KNOWN,
        failed={r"output is not finite for GRU\(units\) .*unroll=True": UNROLL_NAN},
        passed=_rest("GRU", UNROLL_NAN, training=True),
    ),
    caught(
        "pair_training_unroll_state_off", "test_option_pairs_in_training (the last step is the final state in training)",
        (PAIRS,), TRAINING_TEST + " and [LSTM-" + NOT_KNOWN,
        failed={r"output(\[:, -1\])? == h does not hold for LSTM\(units\) .*unroll=True": UNROLL_STATE},
        passed=_rest("LSTM", UNROLL_STATE, training=True),
    ),
    caught(
        "pair_training_zero_output_ignored", "test_option_pairs_in_training (zeros at masked steps in training)",
        (PAIRS,), TRAINING_TEST + " and [LSTM-" + NOT_KNOWN,
        failed={r"output at masked steps: \d+ nonzero values with zero_output_for_mask=True for LSTM": ZERO_OUTPUT},
        passed=_rest("LSTM", ZERO_OUTPUT, training=True),
    ),
]


@pytest.mark.parametrize("spec", CAUGHT + [TIME_MAJOR], ids=[c.fake for c in CAUGHT + [TIME_MAJOR]])
def test_argument_fake_is_caught(pytester, monkeypatch, spec):
    assert_fake_caught(pytester, monkeypatch, spec)


def test_time_major_done_right_passes(pytester, monkeypatch):
    """time_major's control: every node id its fake must fail passes on an LSTM that implements
    tf-keras's time_major as documented (the tf-keras lane runs the test on tf-keras itself)."""
    must_fail = set().union(*TIME_MAJOR.failed.values())
    run = run_suite(pytester, monkeypatch, "fixtures.controls.time_major", sorted(must_fail))
    run.assert_outcomes(passed=must_fail)


def test_real_keras_passes_what_the_argument_fakes_fail(pytester, monkeypatch, impl):
    """The control: every node id a fake above must fail passes on Keras itself."""
    assert_keras_passes_what_fakes_fail(pytester, monkeypatch, impl, CAUGHT)
