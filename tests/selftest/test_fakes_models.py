"""Every family of recurrent layers inside models (tests/test_masked_models.py, test_stacks.py,
test_state_wiring.py, test_time_distributed.py) fails on a fake that has the bug it exists to catch, and only there.

Each :class:`~tests.selftest.test_fakes.Caught` spells out from the contract which node ids of a
narrow selection fail, with which message, and which pass in the same run: the same layer where
the bug cannot show (an explicit ``mask=``, ``compute_mask`` asked directly, a functional model
beside a ``Sequential`` one, a bare stack with no mask to lose, another layer type). The control
runs every node id a fake must fail on real Keras, where each passes. The symbolic and wiring
families are also failed by fakes of other families (fixtures.broken.wrong_symbolic_shape,
opt_initial_state_ignored, opt_config_drops_return_state: their specs list these tests too).
"""

from __future__ import annotations

from typing import Iterable

import pytest

from rnnconf.spec import catalog, models
from rnnconf.harness.caseid import case_id

from .suite import composed_ids as suite_composed_ids
from .test_fakes import VALIDATION, _rules, assert_fake_caught, assert_keras_passes_what_fakes_fail, caught
from .test_fakes_options import B3, MASK_KINDS, MASKING, ORACLE, ids

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.selftest

MASKED_MODELS = "tests/test_masked_models.py"
STACKS = "tests/test_stacks.py"
WIRING = "tests/test_state_wiring.py"
COMPUTE_MASK = "tests/test_compute_mask.py"
FRONTS = models.DEFAULT_FRONT_CASES  # the inner runs are the default lane
assert B3 in catalog.MASK_SHAPES and B3 in catalog.OPTION_SHAPES  # the shape both families run


def composed_ids(module: str, test: str, comps: Iterable[str], **kw) -> set[str]:
    return suite_composed_ids(module, test, comps, B3, **kw)


def fronted_ids(test: str, entry: str, **axes) -> set[str]:
    return ids(MASKED_MODELS, test, entry, B3, params=FRONTS, **axes)


SEQ = dict(return_sequences=[True])
LAST = dict(return_sequences=[False])

CAUGHT = [
    caught(
        "front_mask_dropped", "test_masked_models::test_front_matches_oracle (a mask made by the layer in front)",
        (MASKED_MODELS, MASKING),
        "(test_front_matches_oracle and ([GRU- or [LSTM-) or test_mask_matches_oracle and [GRU-) and " + B3.id,
        failed={ORACLE + r"GRU\(units\) with return_sequences=.* behind (Masking|Embedding)-":
                fronted_ids("test_front_matches_oracle", "GRU")},
        # the same GRU with mask= passed explicitly, and an LSTM behind the same fronts
        passed=ids(MASKING, "test_mask_matches_oracle", "GRU", B3, params=MASK_KINDS)
        | fronted_ids("test_front_matches_oracle", "LSTM"),
    ),
    caught(
        "output_mask_lost", "test_masked_models::test_front_mask_reaches_next_layer, "
        "test_stacks::test_stack_mask_reaches_next_layer (the mask the next layer gets)",
        (MASKED_MODELS, STACKS, COMPUTE_MASK),
        "(test_front_mask_reaches_next_layer and [LSTM- or test_compute_mask and not test_supports_masking and [LSTM- "
        "or test_stack_mask_reaches_next_layer and [Seq_GRU_SimpleRNN_LSTM-) and " + B3.id,
        failed={r"behind (Masking|Embedding)-.*the layers after it were called with the wrong masks: "
                r"the mask for output is None, expected the input mask":
                fronted_ids("test_front_mask_reaches_next_layer", "LSTM", **SEQ)
                | composed_ids(STACKS, "test_stack_mask_reaches_next_layer", ["Seq_GRU_SimpleRNN_LSTM"],
                               fronts=FRONTS, **SEQ)},
        # no mask is due after a last output; compute_mask itself is right
        passed=fronted_ids("test_front_mask_reaches_next_layer", "LSTM", **LAST)
        | composed_ids(STACKS, "test_stack_mask_reaches_next_layer", ["Seq_GRU_SimpleRNN_LSTM"],
                       fronts=FRONTS, **LAST)
        | ids(COMPUTE_MASK, "test_compute_mask", "LSTM", B3)
        | ids(COMPUTE_MASK, "test_compute_mask_stateful", "LSTM", B3),
    ),
    caught(
        "lstm_fixed_name", "the models' shared build: layers that work alone must work side by side in one model",
        (MASKED_MODELS,), "test_front_matches_oracle and ([LSTM- or [GRU-) and " + B3.id,
        failed={r"BranchesFailed: one functional model holding the layers of 4 flag combinations as branches on one "
                r"input failed \(ValueError: The name \"lstm\" is used 4 times in the model.*\), while a model of "
                r"each combination alone works": fronted_ids("test_front_matches_oracle", "LSTM")},
        passed=fronted_ids("test_front_matches_oracle", "GRU"),
    ),
    caught(
        "sequential_drops_masks", "test_stacks (a Sequential stack behind a front)",
        (STACKS,),
        "(test_stack_matches_oracle or test_stack_mask_reaches_next_layer) and "
        "([Seq_LSTM_GRU- or [Stack_LSTM_GRU-)",
        failed={ORACLE + r"Sequential\(\[LSTM\(u, return_sequences=True\), GRU\(u \+ 1\)\]\) .* behind "
                r"(Masking|Embedding)-": composed_ids(STACKS, "test_stack_matches_oracle", ["Seq_LSTM_GRU"],
                                                      fronts=FRONTS),
                r"Sequential\(.*the layers after it were called with the wrong masks: the mask for output is "
                r"None, expected the input mask": composed_ids(
                    STACKS, "test_stack_mask_reaches_next_layer", ["Seq_LSTM_GRU"], fronts=FRONTS, **SEQ)},
        # no mask to lose; none due; the same layers in a functional model
        passed=composed_ids(STACKS, "test_stack_matches_oracle", ["Seq_LSTM_GRU"], fronts=["bare"])
        | composed_ids(STACKS, "test_stack_mask_reaches_next_layer", ["Seq_LSTM_GRU"], fronts=FRONTS, **LAST)
        | composed_ids(STACKS, "test_stack_matches_oracle", ["Stack_LSTM_GRU"], fronts=["bare", *FRONTS])
        | composed_ids(STACKS, "test_stack_mask_reaches_next_layer", ["Stack_LSTM_GRU"], fronts=FRONTS),
    ),
]


TD = "tests/test_time_distributed.py"
TD_PAIR = ["TD_LSTM", "TD_GRU"]
TD_PLAIN = ["TD_Dense", "TD_Conv1D"]
TD_SELECTED = " and ([TD_LSTM- or [TD_GRU-)"
TD_LABEL = r"TimeDistributed\((LSTM|GRU)\(units\)\) on \(batch, 2, T, features\) \(the wrapped layer with "
PLAIN_LABEL = r"TimeDistributed\((Dense\(u\)|Conv1D\(u, 2\))\) on \(batch, (2, )?T, features\) "
VALUE_PATHS = r".*, (called eagerly|model\.predict|after a \.keras save and load)"
TD_DEFAULT = ["TD_LSTM", "TD_Dense"]  # the compositions the default lane compiles and runs under policies
POLICY_TESTS = " and ([TD_LSTM- or [TD_Dense-)"


def td_ids(test: str, comps: Iterable[str], **kw) -> set[str]:
    return composed_ids(TD, test, comps, **kw)


CAUGHT += [
    caught(
        "td_slices_reversed", "test_time_distributed (values: eager, behind fronts, predict, .keras)",
        (TD,), "(test_td_matches_oracle or test_td_front_matches_oracle or test_td_predict_matches_oracle "
        "or test_td_keras_file_matches_oracle or test_td_symbolic_shapes) "
        "and ([TD_LSTM- or [TD_GRU- or [TD_Dense- or [TD_Conv1D-)",
        failed={ORACLE + TD_LABEL + VALUE_PATHS:
                td_ids("test_td_matches_oracle", TD_PAIR)
                | td_ids("test_td_front_matches_oracle", TD_PAIR, fronts=FRONTS)
                | td_ids("test_td_predict_matches_oracle", ["TD_LSTM"])  # the default lane predicts LSTM, Dense
                | td_ids("test_td_keras_file_matches_oracle", TD_PAIR),
                # the non-recurrent layers against their NumPy twins (a Dense's slices are the steps)
                ORACLE + PLAIN_LABEL + VALUE_PATHS:
                td_ids("test_td_matches_oracle", TD_PLAIN)
                | td_ids("test_td_front_matches_oracle", ["TD_Dense"], fronts=FRONTS)
                | td_ids("test_td_predict_matches_oracle", ["TD_Dense"])
                | td_ids("test_td_keras_file_matches_oracle", TD_PLAIN)},
        passed=td_ids("test_td_symbolic_shapes", TD_PAIR + TD_PLAIN),
    ),
    caught(
        "td_mask_not_passed", "test_time_distributed::test_td_front_matches_oracle (the mask passed to the "
        "wrapped layer); test_validation's td_mask rules (a mask dropped is never checked)",
        (TD, VALIDATION), "(test_td_matches_oracle or test_td_front_matches_oracle) and ([TD_LSTM- or [TD_GRU- "
        "or [TD_Dense-) or test_ruled_out_argument and td_mask",
        failed={ORACLE + TD_LABEL + r".* behind (Masking|Embedding)-.*, called eagerly":
                td_ids("test_td_front_matches_oracle", TD_PAIR, fronts=FRONTS),
                r"td_mask_\w+_LSTM .*: no error -- the configuration was accepted": _rules(
                    *(f"td_mask_{n}_LSTM" for n in ("other_batch", "other_time", "one_dimension")))},
        # no mask to pass; a Dense's values do not depend on one
        passed=td_ids("test_td_matches_oracle", TD_PAIR + ["TD_Dense"])
        | td_ids("test_td_front_matches_oracle", ["TD_Dense"], fronts=FRONTS),
    ),
    caught(
        "td_shape_drops_outer", "test_time_distributed::test_td_symbolic_shapes, ::test_td_compute_output_shape",
        (TD,), "(test_td_symbolic_shapes or test_td_compute_output_shape or test_td_matches_oracle)" + TD_SELECTED,
        failed={TD_LABEL + r".*, symbolic outputs:\n.*\(output\)\.shape=\(None, [^)]*\), expected":
                td_ids("test_td_symbolic_shapes", TD_PAIR),
                TD_LABEL + r".*, compute_output_shape:\n.*\(output\)\.shape=\(3, [^)]*\), expected \(3, 2, ":
                td_ids("test_td_compute_output_shape", TD_PAIR)},
        passed=td_ids("test_td_matches_oracle", TD_PAIR),
    ),
    caught(
        "td_keeps_last_slice", "test_time_distributed::test_td_shapes (what an eager call returns)",
        (TD,), "(test_td_shapes or test_td_symbolic_shapes)" + POLICY_TESTS,
        failed={r"TimeDistributed\((LSTM\(units\)|Dense\(u\))\) .*, called eagerly:\n.*\(output\)\.shape=\(\d+, "
                r"[^)]*\), expected": td_ids("test_td_shapes", TD_DEFAULT)
                | {case_id(TD, "test_td_shapes", entry=c, return_sequences=rs, return_state=st,
                           shape=catalog.NOTEBOOK_SHAPE, device="cpu")
                   for c in TD_DEFAULT for rs, st in models.BY_ID[c].combos()}},
        passed=td_ids("test_td_symbolic_shapes", TD_DEFAULT),
    ),
    caught(
        "td_traced_slices_reversed", "test_time_distributed::test_td_function_matches_oracle (the wrapper's "
        "axis unknown in a traced function)",
        (TD,), "(test_td_function_matches_oracle or test_td_matches_oracle or test_td_predict_matches_oracle)"
        + POLICY_TESTS,
        failed={ORACLE + r"TimeDistributed\(Dense\(u\)\) .*, inside the (backend's|same) "
                r"compiled function": td_ids("test_td_function_matches_oracle", ["TD_Dense"])},  # the default lane's
        # eagerly and in model.predict the axis has its size
        passed=td_ids("test_td_matches_oracle", TD_DEFAULT) | td_ids("test_td_predict_matches_oracle", TD_DEFAULT),
    ),
    caught(
        "td_output_float32", "test_time_distributed::test_td_dtype_under_policy (and the values under float64)",
        (TD,), "(test_td_dtype_under_policy or test_td_values_under_policy or test_td_matches_oracle)"
        + POLICY_TESTS,
        failed={r"under dtype policy \w+ on cpu, input .*: returned float32, expected (float16|bfloat16|float64)":
                td_ids("test_td_dtype_under_policy", TD_DEFAULT, fronts=["float64", "mixed_float16", "mixed_bfloat16"]),
                ORACLE + r"TimeDistributed\(.* under dtype policy float64 .*\(rtol=1e-12, atol=1e-12\)":
                td_ids("test_td_values_under_policy", TD_DEFAULT, fronts=["float64"])},
        # float32 values are within a 16-bit dtype's tolerance; no policy, no cast
        passed=td_ids("test_td_values_under_policy", TD_DEFAULT, fronts=["mixed_float16", "mixed_bfloat16"])
        | td_ids("test_td_matches_oracle", TD_DEFAULT),
    ),
    caught(
        "td_output_mask_dropped", "test_time_distributed::test_td_mask_reaches_next_layer (the mask after the "
        "wrapper)",
        (TD,), "(test_td_mask_reaches_next_layer or test_td_front_matches_oracle)" + POLICY_TESTS,
        failed={r"behind (Masking|Embedding)-.*: the layer after the wrapper was called with None; expected the "
                r"front's mask": td_ids("test_td_mask_reaches_next_layer", TD_DEFAULT, fronts=FRONTS, **SEQ)},
        # no mask is one of the two answers after a layer that drops the steps; the values are right
        passed=td_ids("test_td_mask_reaches_next_layer", ["TD_LSTM"], fronts=FRONTS, **LAST)
        | td_ids("test_td_front_matches_oracle", TD_DEFAULT, fronts=FRONTS),
    ),
]


@pytest.mark.parametrize("spec", CAUGHT, ids=[c.fake for c in CAUGHT])
def test_model_fake_is_caught(pytester, monkeypatch, spec):
    assert_fake_caught(pytester, monkeypatch, spec)


def test_real_keras_passes_what_the_model_fakes_fail(pytester, monkeypatch, impl):
    """The control: every node id a fake above must fail passes on Keras itself (a known
    nonconformance, read from the expectation files, would xfail; none is in these selections)."""
    assert_keras_passes_what_fakes_fail(pytester, monkeypatch, impl, CAUGHT)
