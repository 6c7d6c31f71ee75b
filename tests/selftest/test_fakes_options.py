"""Every OPTION family of the suite fails on a fake that has the bug it exists to catch.

The option tests (masks, initial_state, go_backwards, stateful, unroll, dropout, dtypes,
serialization, use_cudnn, zero_output_for_mask, and the oracle comparison itself) each get a
fake in fixtures/broken/opt_*.py: real Keras 3 except for one bug in one option of one layer.
For each, a :class:`~tests.selftest.test_fakes.Caught` spells out -- from the contract, not from
a run -- which node ids of a narrow selection must fail, with which message, and which must
pass in the same run: the same layer without the option (or with the option where it cannot
show), so the bug is pinned to its family. The control runs every node id that a fake must
fail on real Keras, where each passes (a known nonconformance from fixtures/expectations/ would
xfail; none of these selections has one).
"""

from __future__ import annotations

import re
from typing import Iterable

import pytest

from rnnconf.spec import catalog, reference

from .suite import IDENTITIES, STRUCTURE, catalog_ids, composed_ids
from .test_fakes import assert_fake_caught, assert_keras_passes_what_fakes_fail, caught

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.selftest

VALUES = "tests/test_values.py"
MASKING = "tests/test_masking.py"
INITIAL = "tests/test_initial_state.py"
BACKWARDS = "tests/test_go_backwards.py"
STATEFUL = "tests/test_stateful.py"
UNROLL_DROPOUT = "tests/test_unroll_dropout.py"
DTYPES = "tests/test_dtypes.py"
SERIALIZATION = "tests/test_serialization.py"
CUDNN = "tests/test_cudnn.py"
COMPUTE_MASK = "tests/test_compute_mask.py"
WIRING = "tests/test_state_wiring.py"
WIRING_VALUES = ("test_wiring_matches_oracle", "test_wiring_predict_matches_oracle",
                 "test_wiring_keras_file_matches_oracle")

NOTEBOOK = catalog.NOTEBOOK_SHAPE  # B1T4F5U3: the serialization tests' shape
# The default lane's option shape (several rows, T >= 2): option, mask and value tests all run it.
B3 = catalog.OPTION_SHAPES[0]
assert B3 in catalog.MASK_SHAPES and B3 in catalog.SHAPES and B3.batch > 1 and B3.timesteps >= 2
STATE = dict(return_state=[True])
NOSTATE = dict(return_state=[False])
MASK_KINDS = reference.MASK_KINDS  # every kind masks row 0's last step

# What assert_close / assert_matches_oracle say, per family.
ORACLE = r"differs from the NumPy oracle for "


def ids(module: str, test: str, entry: str | list[str], shape: catalog.Shape, *,
        params: Iterable[str] = (None,), **axes) -> set[str]:
    """catalog_ids for one entry (or several) and a shape, each id extended by the test's own
    trailing parameters (mask kind, policy, use_cudnn), which pytest appends after the device."""
    entries = [entry] if isinstance(entry, str) else entry
    return catalog_ids(module, test, entries, shapes=[shape], extra=params, **axes)


# The explicit-backward Bidirectional entries: of other units; those in the default lane's
# serialization tests (concat and None: tests/test_serialization.py uses the "notebook" set).
ASYM_OTHER_UNITS = [e.id for e in catalog.ENTRIES if e.asymmetric and e.backward_units(B3) != e.cell_units(B3)]
ASYM_SAVED = [e.id for e in catalog.ENTRIES if e.asymmetric and catalog.in_default_option_lane(e)]


def values(entry: str, shape: catalog.Shape, **axes) -> set[str]:
    return ids(VALUES, "test_values_match_oracle", entry, shape, **axes)


CAUGHT = [
    caught(
        "opt_lstm_gates_swapped", "test_values::test_values_match_oracle (the NumPy oracle)",
        (VALUES, STRUCTURE, IDENTITIES),
        "(test_values_match_oracle or test_weight_layout or test_shapes or test_last_step_is_final_state)"
        " and [LSTM- and " + NOTEBOOK.id,
        failed={ORACLE + r"LSTM\(units\) with return_sequences": values("LSTM", NOTEBOOK)},
        passed=ids(VALUES, "test_weight_layout", "LSTM", NOTEBOOK, return_sequences=None,
                   return_state=None)
        | ids(STRUCTURE, "test_shapes", "LSTM", NOTEBOOK)
        | ids(IDENTITIES, "test_last_step_is_final_state", "LSTM", NOTEBOOK, return_state=None),
    ),
    caught(
        "opt_mask_ignored", "test_masking::test_mask_matches_oracle and "
        "test_final_state_is_state_after_last_unmasked_step",
        (MASKING, VALUES),
        "(test_mask_matches_oracle or test_final_state_is_state_after_last_unmasked_step"
        " or test_values_match_oracle) and [GRU- and " + B3.id,
        failed={
            ORACLE + r"GRU\(units\) .* with mask=<ndarray>": ids(
                MASKING, "test_mask_matches_oracle", "GRU", B3, params=MASK_KINDS),
            # row 0 is right-padded to length T - 1: its state is the one after all T steps
            rf"h of row 0 \(length {B3.timesteps - 1}\) differs .* for GRU\(units\) .* with a right-padded mask": ids(
                MASKING, "test_final_state_is_state_after_last_unmasked_step", "GRU", B3,
                return_state=None),
        },
        passed=values("GRU", B3),
    ),
    caught(
        "opt_initial_state_ignored", "test_initial_state::test_initial_state_matches_oracle",
        (INITIAL, VALUES, WIRING),
        "(test_initial_state_matches_oracle or test_values_match_oracle) and [LSTM- and " + B3.id
        + " or (test_wiring_matches_oracle or test_wiring_predict_matches_oracle or "
        "test_wiring_keras_file_matches_oracle) and ([Wire_LSTM_LSTM- or [Wire_GRU_GRU-)",
        failed={ORACLE + r"LSTM\(units\) .* with initial_state=<list>": ids(
            INITIAL, "test_initial_state_matches_oracle", "LSTM", B3),
            # the LSTM decoder starts from zeros, not from the encoder's states: every path
            ORACLE + r"Model: LSTM\(u, return_state=True\) states -> LSTM\(u, initial_state=\.\.\.\) \(the "
            r"decoder with .*, (called eagerly|model\.predict|after a \.keras save and load)":
                set().union(*(composed_ids(WIRING, t, ["Wire_LSTM_LSTM"], B3) for t in WIRING_VALUES))},
        passed=values("LSTM", B3)
        # (the default lane predicts the LSTM and Bidirectional wirings only)
        | set().union(*(composed_ids(WIRING, t, ["Wire_GRU_GRU"], B3) for t in WIRING_VALUES
                        if t != "test_wiring_predict_matches_oracle")),
    ),
    caught(
        "opt_go_backwards_ignored", "test_go_backwards::test_go_backwards_matches_oracle",
        (BACKWARDS,),
        "[SimpleRNN- and " + B3.id,
        failed={ORACLE + r"SimpleRNN\(units\) .*go_backwards=True .* with go_backwards=True": ids(
            BACKWARDS, "test_go_backwards_matches_oracle", "SimpleRNN", B3)},
        # processed forward, each call is still self-consistent
        passed=ids(BACKWARDS, "test_go_backwards_last_step_is_final_state", "SimpleRNN", B3,
                   return_state=None),
    ),
    caught(
        "opt_go_backwards_unreversed", "test_go_backwards::test_go_backwards_last_step_is_final_state",
        (BACKWARDS,),
        "[GRU- and " + B3.id,
        failed={
            r"output\[:, -1\] == h does not hold for GRU\(units\) .*go_backwards=True": ids(
                BACKWARDS, "test_go_backwards_last_step_is_final_state", "GRU", B3,
                return_sequences=[True], return_state=None),
            ORACLE + r"GRU\(units\) with return_sequences=True.*go_backwards=True": ids(
                BACKWARDS, "test_go_backwards_matches_oracle", "GRU", B3, return_sequences=[True]),
        },
        # the last output and the states are untouched
        passed=ids(BACKWARDS, "test_go_backwards_last_step_is_final_state", "GRU", B3,
                   return_sequences=[False], return_state=None)
        | ids(BACKWARDS, "test_go_backwards_matches_oracle", "GRU", B3, return_sequences=[False]),
    ),
    caught(
        "opt_state_not_carried", "test_stateful::test_stateful_halves_equal_whole",
        (STATEFUL, VALUES),
        "(test_stateful_halves_equal_whole and ([LSTM- or [GRU-) or test_values_match_oracle"
        " and [LSTM-) and " + B3.id,
        failed={ORACLE + r"LSTM\(units\) .*stateful=True .*, second of two stateful calls": ids(
            STATEFUL, "test_stateful_halves_equal_whole", "LSTM", B3)},
        passed=values("LSTM", B3) | ids(STATEFUL, "test_stateful_halves_equal_whole", "GRU", B3),
    ),
    caught(
        "opt_dropout_at_inference", "test_unroll_dropout::test_dropout_inactive_at_inference",
        (UNROLL_DROPOUT, VALUES),
        "(test_dropout_inactive_at_inference or test_values_match_oracle) and [GRU- and " + B3.id,
        failed={r"call\(\) == call\(training=False\) does not hold for GRU\(units\) .*dropout=0\.5": ids(
            UNROLL_DROPOUT, "test_dropout_inactive_at_inference", "GRU", B3, return_state=None)},
        passed=values("GRU", B3),
    ),
    caught(
        "opt_unroll_differs", "test_unroll_dropout::test_unroll_matches_oracle_and_loop",
        (UNROLL_DROPOUT, VALUES),
        "(test_unroll_matches_oracle_and_loop or test_values_match_oracle) and [SimpleRNN- and " + B3.id,
        failed={ORACLE + r"SimpleRNN\(units\) .*unroll=True .*max \|diff\| = 0\.001": ids(
            UNROLL_DROPOUT, "test_unroll_matches_oracle_and_loop", "SimpleRNN", B3)},
        passed=values("SimpleRNN", B3),
    ),
    caught(
        "opt_state_dtype_wrong", "test_dtypes::test_dtype_of_every_output_and_state",
        (DTYPES,),
        "test_dtype_of_every_output_and_state and [LSTM- and " + B3.id,
        failed={
            # the dtype of every returned tensor is checked before the values
            r"expected every returned tensor in (b?float16|float64) for LSTM\(units\) .*; got h: float32, c: float32":
                ids(DTYPES, "test_dtype_of_every_output_and_state", "LSTM", B3,
                    params=["float64", "mixed_float16", "mixed_bfloat16"], **STATE),
        },
        passed=ids(DTYPES, "test_dtype_of_every_output_and_state", "LSTM", B3,
                   params=["float64", "mixed_float16", "mixed_bfloat16"], **NOSTATE),
    ),
    caught(
        "opt_config_drops_return_state", "test_serialization (get_config/from_config, .keras file)",
        (SERIALIZATION, WIRING),
        "(test_config_round_trip and [GRU- or test_keras_file_round_trip and [GRU_reset_before-)"
        " and " + NOTEBOOK.id + " or (test_wiring_keras_file_matches_oracle or test_wiring_matches_oracle)"
        " and [Wire_GRU_GRU-",
        failed={
            r"flags after from_config\(get_config\(\)\): \{'return_sequences': (True|False), "
            r"'return_state': False\}, before: .*'return_state': True\}":
                ids(SERIALIZATION, "test_config_round_trip", "GRU", NOTEBOOK, **STATE),
            # the functional model's config names the layer's 2nd output, which the loaded layer
            # no longer has: Keras's loader fails before the test's own flag assertion runs
            r"IndexError: list index out of range":
                ids(SERIALIZATION, "test_keras_file_round_trip", "GRU_reset_before", NOTEBOOK, **STATE),
            # a wired model: the encoder GRU (return_state=True) comes back without its states, so
            # the saved graph's initial_state edges name tensors nothing produces
            r"Invalid Functional model configuration.*initial_state":
                composed_ids(WIRING, "test_wiring_keras_file_matches_oracle", ["Wire_GRU_GRU"], B3),
        },
        passed=ids(SERIALIZATION, "test_config_round_trip", "GRU", NOTEBOOK, **NOSTATE)
        | ids(SERIALIZATION, "test_keras_file_round_trip", "GRU_reset_before", NOTEBOOK, **NOSTATE)
        | composed_ids(WIRING, "test_wiring_matches_oracle", ["Wire_GRU_GRU"], B3),
    ),
    caught(
        "opt_cudnn_false_differs", "test_cudnn::test_use_cudnn_matches_oracle[...-false]",
        (CUDNN,),
        "test_use_cudnn_matches_oracle and [LSTM- and " + B3.id,
        failed={ORACLE + r"LSTM\(units\) .*use_cudnn=False .*max \|diff\| = 0\.001": ids(
            CUDNN, "test_use_cudnn_matches_oracle", "LSTM", B3, params=["false"])},
        passed=ids(CUDNN, "test_use_cudnn_matches_oracle", "LSTM", B3, params=["auto"]),
    ),
    caught(
        "opt_zero_output_ignored", "test_masking::test_zero_output_for_mask_output",
        (MASKING,),
        "test_zero_output_for_mask_output and [SimpleRNN- and " + B3.id,
        failed={
            r"output differs from the NumPy oracle for SimpleRNN\(units\) with return_sequences=True"
            r".*zero_output_for_mask=True .* with mask=<ndarray>, zero_output_for_mask=True": ids(
                MASKING, "test_zero_output_for_mask_output", "SimpleRNN", B3,
                return_sequences=[True], params=MASK_KINDS)},
        # documented: the option only matters for return_sequences=True
        passed=ids(MASKING, "test_zero_output_for_mask_output", "SimpleRNN", B3,
                   return_sequences=[False], params=MASK_KINDS),
    ),
    caught(
        "opt_zero_output_zeroes_states", "test_masking::test_zero_output_for_mask_states",
        (MASKING,),
        "(test_zero_output_for_mask_states or test_final_state_is_state_after_last_unmasked_step) and [LSTM- and "
        + B3.id,
        failed={
            r"(h|c) differs from the NumPy oracle for LSTM\(units\) with return_sequences=(True|False), "
            r"return_state=True, zero_output_for_mask=True .* with mask=<ndarray>, zero_output_for_mask=True": ids(
                MASKING, "test_zero_output_for_mask_states", "LSTM", B3, return_state=None, params=MASK_KINDS)},
        # the same layer without the option: the states after the last unmasked step
        passed=ids(MASKING, "test_final_state_is_state_after_last_unmasked_step", "LSTM", B3, return_state=None),
    ),
]

POLICY_DTYPES = {"float64": "float64", "mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}


def value_tolerance_pin(fake: str, part: str, entry: str):
    """A fake just outside the ``part`` (rtol or atol) of every value tolerance: its float32 values
    fail test_values_match_oracle, and its float64/float16/bfloat16 values
    test_values_under_policy, each against its own dtype's tolerance; the dtypes are right."""
    def said(dtype: str) -> str:
        tol = reference.tolerance(dtype)
        return re.escape(f"(rtol={tol['rtol']:g}, atol={tol['atol']:g})")

    failed = {ORACLE + rf"{entry}\(units\).*{said('float32')}": values(entry, B3)}
    for policy, dtype in POLICY_DTYPES.items():
        failed[ORACLE + rf"{entry}\(units\).*dtype='{policy}'.*{said(dtype)}"] = ids(
            DTYPES, "test_values_under_policy", entry, B3, params=[policy])
    return caught(
        fake, f"the {part} of the value tolerances: float32, float64, float16, bfloat16",
        (VALUES, DTYPES),
        "(test_values_match_oracle or test_values_under_policy or test_dtype_of_every_output_and_state)"
        f" and [{entry}- and " + B3.id,
        failed=failed,
        passed=ids(DTYPES, "test_dtype_of_every_output_and_state", entry, B3, params=list(POLICY_DTYPES)))


def unroll_self_pin(fake: str, what: str, entry: str):
    """A fake whose unrolled values sit just outside the self-comparison tolerance (1e-6) of the
    loop, for ``entry``: the unroll test fails, the plain values test passes."""
    return caught(
        fake, f"test_unroll_dropout::test_unroll_matches_oracle_and_loop ({what})",
        (UNROLL_DROPOUT, VALUES),
        f"(test_unroll_matches_oracle_and_loop or test_values_match_oracle) and [{entry}- and " + B3.id,
        failed={r"unroll=True differs from the loop \(unroll=False, same weights\)": ids(
            UNROLL_DROPOUT, "test_unroll_matches_oracle_and_loop", entry, B3)},
        passed=values(entry, B3))


CAUGHT += [
    caught(
        "opt_cudnn_true_silent", "test_cudnn::test_use_cudnn_true_without_fast_path_raises",
        (CUDNN,),
        "test_use_cudnn_true_without_fast_path_raises",
        failed={r"DID NOT RAISE": catalog_ids(CUDNN, "test_use_cudnn_true_without_fast_path_raises", ["LSTM"],
                                              return_sequences=None, return_state=None, shapes=[NOTEBOOK])},
        passed=catalog_ids(CUDNN, "test_use_cudnn_true_without_fast_path_raises", ["GRU", "GRU_reset_before"],
                           return_sequences=None, return_state=None, shapes=[NOTEBOOK]),
    ),
    caught(
        "opt_weights_in_compute_dtype", "test_dtypes::test_dtype_of_every_output_and_state (weights)",
        (DTYPES,),
        "test_dtype_of_every_output_and_state and [LSTM- and " + B3.id,
        failed={r"weights are \['float16'\], expected float32 under mixed_float16": ids(
            DTYPES, "test_dtype_of_every_output_and_state", "LSTM", B3, params=["mixed_float16"])},
        passed=ids(DTYPES, "test_dtype_of_every_output_and_state", "LSTM", B3, params=["float64", "mixed_bfloat16"]),
    ),
    caught(
        "opt_config_changes_activation", "test_serialization (values after a round trip)",
        (SERIALIZATION,),
        "[SimpleRNN- and " + NOTEBOOK.id,
        failed={
            r"returned\[\d\] after from_config\(get_config\(\)\) does not hold": ids(
                SERIALIZATION, "test_config_round_trip", "SimpleRNN", NOTEBOOK),
            r"returned\[\d\] after \.keras save/load does not hold": ids(
                SERIALIZATION, "test_keras_file_round_trip", "SimpleRNN", NOTEBOOK),
        },
        passed=set(),
    ),
    caught(
        "opt_config_drops_return_sequences", "test_serialization (flags after a round trip)",
        (SERIALIZATION,),
        "[SimpleRNN- and " + NOTEBOOK.id,
        failed={
            r"flags after from_config\(get_config\(\)\): \{'return_sequences': False": ids(
                SERIALIZATION, "test_config_round_trip", "SimpleRNN", NOTEBOOK, return_sequences=[True]),
            r"flags after \.keras save/load: \[\{'return_sequences': False": ids(
                SERIALIZATION, "test_keras_file_round_trip", "SimpleRNN", NOTEBOOK, return_sequences=[True]),
        },
        passed=ids(SERIALIZATION, "test_config_round_trip", "SimpleRNN", NOTEBOOK, return_sequences=[False])
        | ids(SERIALIZATION, "test_keras_file_round_trip", "SimpleRNN", NOTEBOOK, return_sequences=[False]),
    ),
    caught(
        "opt_bidirectional_state_not_carried", "test_stateful::test_bidirectional_stateful_forward_half_carries",
        (STATEFUL,),
        "test_bidirectional_stateful_forward_half_carries and -nostate- and " + B3.id,
        failed={ORACLE + r"Bidirectional.*stateful=True.*, second of two stateful calls": set().union(*(
            ids(STATEFUL, "test_bidirectional_stateful_forward_half_carries", e, B3, return_state=[False])
            for e in catalog.BY_ID if e.startswith("Bi_") and catalog.in_default_option_lane(catalog.BY_ID[e])))},
        passed=set(),
    ),
    caught(
        "opt_reset_state_noop", "test_stateful::test_reset_state_starts_over",
        (STATEFUL,),
        "(test_reset_state_starts_over or test_stateful_halves_equal_whole or test_reset_state_zeroes_states)"
        " and [GRU- and " + B3.id,
        failed={r"first call after reset_state\(\) == first call does not hold": ids(
            STATEFUL, "test_reset_state_starts_over", "GRU", B3),
            r"after reset_state\(\) the states are not zeros for GRU\(units\)": ids(
            STATEFUL, "test_reset_state_zeroes_states", "GRU", B3, return_sequences=None, return_state=None)},
        passed=ids(STATEFUL, "test_stateful_halves_equal_whole", "GRU", B3),
    ),
    caught(
        "opt_reset_state_given_states_swapped", "test_stateful::test_reset_state_sets_given_states",
        (STATEFUL,),
        "test_reset_state_sets_given_states and ([LSTM- or [GRU-) and " + B3.id,
        failed={ORACLE + r"LSTM\(units\) .*after reset_state\(states=<seeded arrays>\)": ids(
            STATEFUL, "test_reset_state_sets_given_states", "LSTM", B3, return_sequences=None, return_state=None)},
        passed=ids(STATEFUL, "test_reset_state_sets_given_states", "GRU", B3, return_sequences=None,
                   return_state=None),
    ),
    caught(
        "opt_dropout_changes_values", "test_unroll_dropout::test_dropout_inactive_at_inference (vs no dropout, 1e-6)",
        (UNROLL_DROPOUT, VALUES),
        "(test_dropout_inactive_at_inference or test_values_match_oracle) and [GRU- and " + B3.id,
        failed={r"inference with dropout differs from the same weights without dropout .*max \|diff\| = [45]\.?\d*e-06": ids(
            UNROLL_DROPOUT, "test_dropout_inactive_at_inference", "GRU", B3, return_state=None)},
        passed=values("GRU", B3),
    ),
    unroll_self_pin("opt_unroll_slightly_off", "vs the loop, 1e-6", "SimpleRNN"),
    caught(
        "opt_weight_layout_transposed", "test_values::test_weight_layout",
        (VALUES,),
        "test_weight_layout and ([LSTM- or [GRU-)",
        failed={r"get_weights\(\) shapes of LSTM\(units\)": catalog_ids(
            VALUES, "test_weight_layout", ["LSTM"], return_sequences=None, return_state=None)},
        passed=catalog_ids(VALUES, "test_weight_layout", ["GRU"], return_sequences=None, return_state=None),
    ),
    value_tolerance_pin("opt_off_by_5x_the_tolerance", "atol", "SimpleRNN"),
    value_tolerance_pin("opt_scaled_by_5x_the_rtol", "rtol", "GRU"),
    unroll_self_pin("opt_unroll_slightly_scaled", "relative, 1e-6", "LSTM"),
    caught(
        "custom_mask_output_zeroed", "test_masking::test_mask_matches_oracle (a user-defined cell: a masked "
        "step repeats the previous output, which is not a state)",
        (MASKING, VALUES),
        "(test_mask_matches_oracle or test_values_match_oracle) and ([Custom_ProjCell- or [Custom_TwoStateCell-)"
        " and " + B3.id,
        failed={r"output differs from the NumPy oracle for RNN\(ProjectedOutputCell\(units\)\) .* with mask=<ndarray>":
                ids(MASKING, "test_mask_matches_oracle", "Custom_ProjCell", B3, params=MASK_KINDS)},
        # a cell whose output is its first state: the repeated output is the frozen state
        passed=ids(MASKING, "test_mask_matches_oracle", "Custom_TwoStateCell", B3, params=MASK_KINDS)
        | values("Custom_ProjCell", B3) | values("Custom_TwoStateCell", B3),
    ),
    caught(
        "custom_masked_states_move", "test_masking (a user-defined cell's second state frozen at masked steps)",
        (MASKING,),
        "(test_mask_matches_oracle or test_final_state_is_state_after_last_unmasked_step)"
        " and [Custom_TwoStateCell- and " + B3.id,
        failed={
            r"s2 differs from the NumPy oracle for RNN\(TwoStateCell\(units\)\) .* with mask=<ndarray>":
                ids(MASKING, "test_mask_matches_oracle", "Custom_TwoStateCell", B3, params=MASK_KINDS, **STATE),
            r"s2 of row 0 \(length \d\) differs .* for RNN\(TwoStateCell\(units\)\) .* with a right-padded mask":
                ids(MASKING, "test_final_state_is_state_after_last_unmasked_step", "Custom_TwoStateCell", B3,
                    return_state=None),
        },
        passed=ids(MASKING, "test_mask_matches_oracle", "Custom_TwoStateCell", B3, params=MASK_KINDS, **NOSTATE),
    ),
    caught(
        "custom_initial_state_ignored", "test_values::test_values_match_oracle (a cell's get_initial_state)",
        (VALUES,),
        "test_values_match_oracle and ([Custom_InitCell- or [Custom_PlainCell-) and " + B3.id,
        failed={ORACLE + r"RNN\(InitialStateCell\(units\)\)": values("Custom_InitCell", B3)},
        passed=values("Custom_PlainCell", B3),
    ),
    # ---- Bidirectional with an explicit backward_layer (catalog entries Bi_*_bw*)
    caught(
        "bidirectional_backward_units_ignored", "test_structure::test_shapes (a backward_layer of other units)",
        (STRUCTURE,),
        "(test_shapes and ([Bi_SimpleRNN_bwSimpleRNN2_ or [Bi_LSTM_bwGRU_concat- or [Bi_LSTM_bwGRU_None-)"
        " or test_arity and [Bi_SimpleRNN_bwSimpleRNN2_) and " + B3.id,
        failed={r"\((output|output_backward|backward\.h)\)\.shape=\(3, (4, )?\d\), expected \(3, (4, )?(5|8)\)":
                catalog_ids(STRUCTURE, "test_shapes", ASYM_OTHER_UNITS, shapes=[B3])},
        # the arity is right, and a backward layer of the forward's units is untouched
        passed=catalog_ids(STRUCTURE, "test_arity", ASYM_OTHER_UNITS, shapes=[B3])
        | catalog_ids(STRUCTURE, "test_shapes", ["Bi_LSTM_bwGRU_concat", "Bi_LSTM_bwGRU_None"], shapes=[B3]),
    ),
    caught(
        "bidirectional_from_config_loses_backward_layer",
        "test_serialization::test_config_round_trip_keeps_backward_layer",
        (SERIALIZATION,),
        "(test_config_round_trip_keeps_backward_layer or test_config_round_trip and [Bi_LSTM_concat-) and "
        + NOTEBOOK.id,
        failed={r"from_config\(get_config\(\)\) of Bidirectional\(.* rebuilt \{.*'backward_layer': "
                r"\('(LSTM|SimpleRNN)', 3, True": ids(
                    SERIALIZATION, "test_config_round_trip_keeps_backward_layer", ASYM_SAVED, NOTEBOOK)},
        # Keras makes the backward layer from the forward one: without an explicit one, the same
        passed=ids(SERIALIZATION, "test_config_round_trip", ["Bi_LSTM_concat"], NOTEBOOK),
    ),
    caught(
        "bidirectional_backward_weights_not_loaded", "test_serialization::test_keras_file_keeps_backward_layer",
        (SERIALIZATION,),
        "test_keras_file_keeps_backward_layer or test_config_round_trip_keeps_backward_layer",
        failed={r"\.keras save/load of Bidirectional\(.* gave \[\{.*'backward_layer weights'": ids(
            SERIALIZATION, "test_keras_file_keeps_backward_layer", ASYM_SAVED, NOTEBOOK)},
        passed=ids(SERIALIZATION, "test_config_round_trip_keeps_backward_layer", ASYM_SAVED, NOTEBOOK),
    ),
    caught(
        "bidirectional_initial_state_unsplit", "test_initial_state::test_initial_state_matches_oracle "
        "(Bidirectional: forward then backward halves)",
        (INITIAL, VALUES),
        "(test_initial_state_matches_oracle or test_values_match_oracle) and ([Bi_LSTM_concat- or [Bi_GRU_None-)"
        " and " + B3.id,
        failed={ORACLE + r"Bidirectional\((LSTM|GRU)\(units\), merge_mode=('concat'|None)\) .* with initial_state=<list>":
                ids(INITIAL, "test_initial_state_matches_oracle", ["Bi_LSTM_concat", "Bi_GRU_None"], B3)},
        passed=ids(VALUES, "test_values_match_oracle", ["Bi_LSTM_concat", "Bi_GRU_None"], B3),
    ),
    caught(
        "unspecified_leading_wrong", "test_masking::test_mask_matches_oracle (an open behaviour accepts only "
        "its listed choices: h0 + 1 before the first unmasked step is neither zeros nor h0)",
        (MASKING,),
        "test_mask_matches_oracle and [Custom_InitCell- and " + B3.id,
        failed={r"output differs from the NumPy oracle for RNN\(InitialStateCell\(units\)\) .* with mask=<ndarray>":
                ids(MASKING, "test_mask_matches_oracle", "Custom_InitCell", B3, params=["fully_masked_row"])},
        # every row's first step unmasked: no leading masked step, nothing changes
        passed=ids(MASKING, "test_mask_matches_oracle", "Custom_InitCell", B3, params=["right_padded", "arbitrary"]),
    ),
    caught(
        "mask_dropped_with_sequences", "test_compute_mask::test_compute_mask, ::test_compute_mask_stateful (the mask a layer passes on)",
        (COMPUTE_MASK,),
        "test_compute_mask and not test_supports_masking and ([LSTM- or [GRU-) and " + B3.id,
        failed={r"LSTM\(units\) with return_sequences=True, .*: compute_mask\(x, mask\) returned (None|list of 3 "
                r"\[None, None, None\]): the mask for output is None, expected the input mask":
                ids(COMPUTE_MASK, "test_compute_mask", "LSTM", B3, return_sequences=[True])
                | ids(COMPUTE_MASK, "test_compute_mask_stateful", "LSTM", B3, return_sequences=[True])},
        passed=ids(COMPUTE_MASK, "test_compute_mask", "LSTM", B3, return_sequences=[False])
        | ids(COMPUTE_MASK, "test_compute_mask", "GRU", B3)
        | ids(COMPUTE_MASK, "test_compute_mask_stateful", "LSTM", B3, return_sequences=[False])
        | ids(COMPUTE_MASK, "test_compute_mask_stateful", "GRU", B3),
    ),
    caught(
        "mask_support_off", "test_compute_mask::test_supports_masking",
        (COMPUTE_MASK,),
        "test_supports_masking and ([LSTM- or [GRU-) and " + B3.id,
        failed={r"GRU\(units\): supports_masking is False; the RNN docstring says the layer supports masking":
                ids(COMPUTE_MASK, "test_supports_masking", "GRU", B3, return_sequences=None, return_state=None)},
        passed=ids(COMPUTE_MASK, "test_supports_masking", "LSTM", B3, return_sequences=None, return_state=None),
    ),
    caught(
        "conv_c_zeroed", "test_values::test_values_match_oracle (ConvLSTM, c by value)",
        (VALUES,),
        "test_values_match_oracle and [ConvLSTM2D- and " + B3.id,
        failed={r"\bc differs from the NumPy oracle for ConvLSTM2D": values("ConvLSTM2D", B3, return_state=[True])},
        passed=values("ConvLSTM2D", B3, return_state=[False]),
    ),
]


def _cpu_only(monkeypatch):
    """The inner runs select --device cpu; hiding the GPUs as well spares each inner run the
    CUDA driver probe of the report header (about 1.5 s a run on a machine without a GPU)."""


@pytest.mark.parametrize("spec", CAUGHT, ids=[c.fake for c in CAUGHT])
def test_option_fake_is_caught(pytester, monkeypatch, spec):
    _cpu_only(monkeypatch)
    assert_fake_caught(pytester, monkeypatch, spec)


def test_real_keras_passes_what_the_fakes_fail(pytester, monkeypatch, impl):
    """The control: every node id a fake above must fail passes on Keras itself, so each failure
    is the fake's bug and not the check. (The ``passed`` sets already pass on the fakes, which are
    Keras but for one bug.) Known nonconformances would xfail, as read from the expectation
    files, not from a run; none is expected in these selections."""
    _cpu_only(monkeypatch)
    assert_keras_passes_what_fakes_fail(pytester, monkeypatch, impl, CAUGHT)
