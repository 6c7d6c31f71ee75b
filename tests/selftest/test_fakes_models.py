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
TD_SELECTED = " and ([TD_LSTM- or [TD_GRU-)"
TD_LABEL = r"TimeDistributed\((LSTM|GRU)\(units\)\) on \(batch, 2, T, features\) \(the wrapped layer with "
CAUGHT += [
    caught(
        "td_slices_reversed", "test_time_distributed (values: eager, predict, .keras)",
        (TD,), "test_td_" + TD_SELECTED,
        failed={ORACLE + TD_LABEL + r".*, (called eagerly|model\.predict|after a \.keras save and load)":
                composed_ids(TD, "test_td_matches_oracle", TD_PAIR, fronts=["bare", *FRONTS])
                | composed_ids(TD, "test_td_predict_matches_oracle", TD_PAIR)
                | composed_ids(TD, "test_td_keras_file_matches_oracle", TD_PAIR)},
        passed=composed_ids(TD, "test_td_symbolic_shapes", TD_PAIR),
    ),
    caught(
        "td_mask_not_passed", "test_time_distributed::test_td_matches_oracle (the mask passed to the wrapped "
        "layer); test_validation's td_mask rules (a mask dropped is never checked)",
        (TD, VALIDATION), "test_td_matches_oracle" + TD_SELECTED + " or test_ruled_out_argument and td_mask",
        failed={ORACLE + TD_LABEL + r".* behind (Masking|Embedding)-.*, called eagerly":
                composed_ids(TD, "test_td_matches_oracle", TD_PAIR, fronts=FRONTS),
                r"td_mask_\w+_LSTM .*: no error -- the configuration was accepted": _rules(
                    *(f"td_mask_{n}_LSTM" for n in ("other_batch", "other_time", "one_dimension")))},
        passed=composed_ids(TD, "test_td_matches_oracle", TD_PAIR, fronts=["bare"]),
    ),
    caught(
        "td_shape_drops_outer", "test_time_distributed::test_td_symbolic_shapes",
        (TD,), "(test_td_symbolic_shapes or test_td_matches_oracle)" + TD_SELECTED,
        failed={TD_LABEL + r".*, symbolic outputs:\n.*\(output\)\.shape=\(None, [^)]*\), expected":
                composed_ids(TD, "test_td_symbolic_shapes", TD_PAIR)},
        passed=composed_ids(TD, "test_td_matches_oracle", TD_PAIR, fronts=["bare", *FRONTS]),
    ),
]


@pytest.mark.parametrize("spec", CAUGHT, ids=[c.fake for c in CAUGHT])
def test_model_fake_is_caught(pytester, monkeypatch, spec):
    assert_fake_caught(pytester, monkeypatch, spec)


def test_real_keras_passes_what_the_model_fakes_fail(pytester, monkeypatch, impl):
    """The control: every node id a fake above must fail passes on Keras itself (a known
    nonconformance, read from the expectation files, would xfail; none is in these selections)."""
    assert_keras_passes_what_fakes_fail(pytester, monkeypatch, impl, CAUGHT)
