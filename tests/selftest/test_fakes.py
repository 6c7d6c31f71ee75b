"""Every assertion family of the suite fails on a fake that has the bug it exists to catch.

Each fake in fixtures/broken/ is real Keras 3 except for one deliberate bug. For each, a
:class:`Caught` spells out -- from the contract, not from a run -- which node ids of a narrow
selection must fail, with which message, and which must pass: the bug is caught, and it is
caught only where it can show (T = 1 hides an off-by-one step, a batch of one hides mixed rows,
T = 4 hides a hard-coded T = 4, ...). The control runs the union of the selections on real
Keras, where everything passes (known nonconformances from fixtures/expectations/ xfail).
"""

from __future__ import annotations

import dataclasses

import pytest

from rnnconf.spec import catalog
from rnnconf.harness.caseid import case_id
from rnnconf.harness.expectations import Expectations

from .suite import (BOTH, IDENTITIES, NOTEBOOK, REPO, STRUCTURE, SYMBOLIC, catalog_ids, composed_ids,
                    entry_ids, log_failing_sites, notebook_ids, recorded, run_suite, shapes_where)

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.selftest

NOTEBOOK_LAYERS = ("SimpleRNN", "RNN_SimpleRNNCell", "LSTM", "GRU")
SHAPE = {s.id: s for s in catalog.SHAPES}
ONE_SHAPE = [catalog.NOTEBOOK_SHAPE]
DEVICES_MODULE = "tests/test_devices.py"
PROPERTIES = "tests/test_properties.py"
STACKS = "tests/test_stacks.py"
WIRING = "tests/test_state_wiring.py"
# the default lane's shape of the stacks ("masks") and the wirings ("options")
MODEL_SHAPE = catalog.OPTION_SHAPES[0]
assert catalog.MASK_SHAPES[0] == MODEL_SHAPE
VALUES = "tests/test_values.py"
LAST_STATE = dict(return_sequences=[False], return_state=[True], shapes=ONE_SHAPE)
NOT_THE_LAYER = r"output(\[:, -1\])? == h does not hold"  # assert_identical on output vs h


@dataclasses.dataclass(frozen=True)
class Caught:
    """A fake, the selection of the suite to run on it, and the outcomes the spec predicts."""

    fake: str
    family: str  # the assertion family this fake proves able to fail
    files: tuple[str, ...]
    k: str
    failed: dict[str, frozenset[str]]  # failure-message regex -> node ids that fail with it
    passed: frozenset[str]
    outcome: str = "failed"  # "error" when the failure is in setup/teardown
    args: tuple[str, ...] = ()  # more command-line arguments of the inner run (--export onnx)

    def selected(self) -> set[str]:
        return set(self.passed).union(*self.failed.values())


def caught(fake: str, family: str, files: tuple[str, ...], k: str, failed: dict[str, set[str]],
           passed: set[str], **kw) -> Caught:
    return Caught(fake, family, files, k, {p: frozenset(i) for p, i in failed.items()},
                  frozenset(passed), **kw)


def assert_fake_caught(pytester, monkeypatch, spec: "Caught") -> None:
    """Run the suite on ``spec``'s fake: the header names it, the run fails, and exactly the
    node ids the spec says fail (with its messages) while its controls pass; log the sites."""
    run = run_suite(pytester, monkeypatch, f"fixtures.broken.{spec.fake}", spec.files, *spec.args, k=spec.k)
    assert f"implementation fixtures.broken.{spec.fake} " in run.stdout, "the header must name the fake"
    assert run.ret != 0, f"the suite passed on fixtures.broken.{spec.fake}: {spec.family} cannot fail"
    run.assert_outcomes(failed=spec.failed, passed=spec.passed, outcome=spec.outcome)
    log_failing_sites(spec.fake, run)


def assert_keras_passes_what_fakes_fail(pytester, monkeypatch, impl, specs, args=()) -> None:
    """The control: every node id one of ``specs``' fakes must fail passes on Keras itself, so
    each failure is the fake's bug and not the check (:func:`assert_keras_passes`)."""
    must_fail = set().union(*(nodes for c in specs for nodes in c.failed.values()))
    assert_keras_passes(pytester, monkeypatch, impl, must_fail, args)


def assert_keras_passes(pytester, monkeypatch, impl, nodeids: set[str], args=()) -> None:
    """Every node id in ``nodeids`` passes on Keras (a known nonconformance, read from the
    expectation files and not from a run, xfails instead). What the suite's own run of these
    sources on this implementation recorded (``make report``, the export slice:
    :func:`suite.recorded`) is read from its record; the rest runs now."""
    known = Expectations.for_run("auto", REPO, impl)
    want = {n: "xfailed" if known.match(n) is not None else "passed" for n in nodeids}
    record = recorded(impl)
    wrong = [f"{n}: {record[n]} in the suite's record, expected {want[n]}"
             for n in sorted(want) if n in record and record[n] != want[n]]
    assert not wrong, "Keras itself does not pass what the fakes fail:\n  " + "\n  ".join(wrong[:10])
    rest = {n: w for n, w in want.items() if n not in record}
    if rest:
        run = run_suite(pytester, monkeypatch, "keras", sorted(rest), *args, expectations="auto")
        run.assert_outcomes(passed={n for n, w in rest.items() if w == "passed"},
                            xfailed={n for n, w in rest.items() if w == "xfailed"})


def _property(entry: str) -> set[str]:
    """The property test of one entry (Hypothesis draws flags and shapes; derandomized here)."""
    return {case_id(PROPERTIES, "test_any_shape_follows_the_contract", entry=entry, device="cpu")}


def _lstm_arity(**kw):
    return catalog_ids(STRUCTURE, "test_arity", ["LSTM"], **kw)


CAUGHT = [
    caught(
        "returns_host_arrays", "test_devices::test_returned_tensors_are_on_the_device",
        (DEVICES_MODULE,),
        "test_returned_tensors_are_on_the_device and ([GRU- or [LSTM-)",
        failed={r"returned tensors are on \['numpy array \(not a backend tensor\)'\], expected cpu":
                catalog_ids(DEVICES_MODULE, "test_returned_tensors_are_on_the_device", ["GRU"],
                            return_sequences=None, return_state=None, shapes=ONE_SHAPE)},
        passed=catalog_ids(DEVICES_MODULE, "test_returned_tensors_are_on_the_device", ["LSTM"],
                           return_sequences=None, return_state=None, shapes=ONE_SHAPE),
    ),
    caught(
        "wrong_arity", "test_structure::test_arity, the notebook's shapes, the arity guard of value tests "
        "(a model's outputs too)",
        (STRUCTURE, NOTEBOOK, VALUES, STACKS),
        "(test_arity and [LSTM-) or test_lstm_returns_output_h_and_c or (test_printed_shapes and -LSTM])"
        f" or (test_values_match_oracle and [LSTM- and {catalog.NOTEBOOK_SHAPE.id})"
        " or (test_stack_matches_oracle and [Stack_SimpleRNN_LSTM- and bare])",
        failed={
            r"expected 3 items \(\[output .*, h .*, c .*\]\), got 2": _lstm_arity(return_state=[True])
            | notebook_ids("test_printed_shapes", ["LSTM"], return_sequences=BOTH, return_state=[True]),
            r"returned 2 item\(s\), expected 3": notebook_ids(
                "test_lstm_returns_output_h_and_c", return_sequences=BOTH),
            r"returned \[\([\d, ]+\), \([\d, ]+\)\], expected \[output .*, h .*, c .*\] \(test_structure":
                catalog_ids(VALUES, "test_values_match_oracle", ["LSTM"], return_state=[True], shapes=ONE_SHAPE),
            # a functional stack ending in that LSTM: the model returns what the layer does
            r"-> LSTM\(u \+ 1\) .* returned 2 tensor\(s\) \(.*\), expected \[output .*, h .*, c .*\]":
                composed_ids(STACKS, "test_stack_matches_oracle", ["Stack_SimpleRNN_LSTM"], MODEL_SHAPE,
                             fronts=["bare"], return_state=[True]),
        },
        passed=composed_ids(STACKS, "test_stack_matches_oracle", ["Stack_SimpleRNN_LSTM"], MODEL_SHAPE,
                            fronts=["bare"], return_state=[False])
        | _lstm_arity(return_state=[False])
        | notebook_ids("test_printed_shapes", ["LSTM"], return_sequences=BOTH, return_state=[False])
        | catalog_ids(VALUES, "test_values_match_oracle", ["LSTM"], return_state=[False], shapes=ONE_SHAPE),
    ),
    caught(
        "lstm_c_is_h", "test_identities::test_cell_state_is_not_hidden_state",
        (STRUCTURE, IDENTITIES, NOTEBOOK),
        "((test_cell_state_is_not_hidden_state or test_last_step_is_final_state) and [LSTM-)"
        " or (test_arity and [LSTM- and -state-) or test_lstm_returns_output_h_and_c",
        failed={
            r"c is identical to h": catalog_ids(
                IDENTITIES, "test_cell_state_is_not_hidden_state", ["LSTM"], return_state=None)
            | notebook_ids("test_lstm_returns_output_h_and_c", return_sequences=BOTH),
        },
        passed=_lstm_arity(return_state=[True])
        | catalog_ids(IDENTITIES, "test_last_step_is_final_state", ["LSTM"], return_state=None),
    ),
    caught(
        "swapped_states", "test_identities::test_last_step_is_final_state (which state is h)",
        (IDENTITIES, NOTEBOOK),
        "((test_last_step_is_final_state or test_cell_state_is_not_hidden_state) and [LSTM-)"
        " or test_last_step_is_hidden_state or test_output_is_hidden_state_without_sequences",
        failed={
            NOT_THE_LAYER: catalog_ids(
                IDENTITIES, "test_last_step_is_final_state", ["LSTM"], return_state=None)
            | notebook_ids("test_last_step_is_hidden_state", ["LSTM"])
            | notebook_ids("test_output_is_hidden_state_without_sequences", ["LSTM"]),
        },
        passed=catalog_ids(IDENTITIES, "test_cell_state_is_not_hidden_state", ["LSTM"],
                           return_state=None)
        | notebook_ids("test_last_step_is_hidden_state", ["SimpleRNN", "RNN_SimpleRNNCell", "GRU"])
        | notebook_ids("test_output_is_hidden_state_without_sequences",
                       ["SimpleRNN", "RNN_SimpleRNNCell", "GRU"]),
    ),
    caught(
        "state_one_step_early", "test_identities::test_last_step_is_final_state (T > 1 only); the property test",
        (IDENTITIES, NOTEBOOK, PROPERTIES),
        "(test_last_step_is_final_state and [GRU-) or test_last_step_is_hidden_state"
        " or test_flag_combinations_agree[GRU-B2T7F2U6- or test_any_shape_follows_the_contract[GRU-",
        failed={
            NOT_THE_LAYER: catalog_ids(
                IDENTITIES, "test_last_step_is_final_state", ["GRU"], return_state=None,
                shapes=shapes_where(lambda s: s.timesteps > 1))
            | notebook_ids("test_last_step_is_hidden_state", ["GRU"])  # the notebook has T = 4
            | _property("GRU"),
        },
        passed=catalog_ids(IDENTITIES, "test_last_step_is_final_state", ["GRU"], return_state=None,
                           shapes=shapes_where(lambda s: s.timesteps == 1))
        # every combination returns the same early state: they agree (T = 7 here)
        | catalog_ids(IDENTITIES, "test_flag_combinations_agree", ["GRU"], return_sequences=None,
                      return_state=None, shapes=[SHAPE["B2T7F2U6"]])
        | notebook_ids("test_last_step_is_hidden_state", ["SimpleRNN", "RNN_SimpleRNNCell", "LSTM"]),
    ),
    caught(
        "batch_rows_mixed", "test_identities::test_last_step_is_final_state (batch > 1 only)",
        (IDENTITIES, NOTEBOOK),
        "(test_last_step_is_final_state and [SimpleRNN-) or test_last_step_is_hidden_state"
        " or test_flag_combinations_agree[SimpleRNN-B3T4F5U3-",
        failed={
            NOT_THE_LAYER: catalog_ids(
                IDENTITIES, "test_last_step_is_final_state", ["SimpleRNN"], return_state=None,
                shapes=shapes_where(lambda s: s.batch > 1)),
        },
        # The notebook's single sequence cannot show it: its own check passes.
        passed=catalog_ids(IDENTITIES, "test_last_step_is_final_state", ["SimpleRNN"],
                           return_state=None, shapes=shapes_where(lambda s: s.batch == 1))
        # every combination returns the same mixed rows: they agree (batch 3 here)
        | catalog_ids(IDENTITIES, "test_flag_combinations_agree", ["SimpleRNN"],
                      return_sequences=None, return_state=None,
                      shapes=[SHAPE["B3T4F5U3"]])
        | notebook_ids("test_last_step_is_hidden_state", NOTEBOOK_LAYERS),
    ),
    caught(
        "hardcoded_T4", "test_structure::test_shapes (T != 4 only); the property test",
        (STRUCTURE, PROPERTIES),
        "((test_shapes or test_arity) and [LSTM-seq-) or test_any_shape_follows_the_contract[LSTM-",
        failed={
            r"\(output\)\.shape=\(\d+, 4, \d+\), expected \(\d+, \d+, \d+\)": catalog_ids(
                STRUCTURE, "test_shapes", ["LSTM"], return_sequences=[True],
                shapes=shapes_where(lambda s: s.timesteps != 4)) | _property("LSTM"),
        },
        passed=catalog_ids(STRUCTURE, "test_shapes", ["LSTM"], return_sequences=[True],
                           shapes=shapes_where(lambda s: s.timesteps == 4))
        | _lstm_arity(return_sequences=[True]),
    ),
    caught(
        "wrong_symbolic_shape", "test_symbolic (compute_output_shape, functional Input); the property test; "
        "the symbolic outputs of stacks and wired states",
        (SYMBOLIC, STRUCTURE, PROPERTIES, STACKS, WIRING),
        "(test_compute_output_shape or test_functional_input or test_shapes or test_any_shape_follows_the_contract)"
        " and [LSTM- or (test_stack_symbolic_shapes or test_wiring_symbolic_shapes) and "
        "([Seq_GRU_SimpleRNN_LSTM- or [Stack_LSTM_GRU- or [Wire_LSTM_LSTM- or [Wire_GRU_GRU-)",
        failed={
            r"compute_output_shape of .*\n.*\(output\)\.shape=\([^)]*\), expected": catalog_ids(
                SYMBOLIC, "test_compute_output_shape", ["LSTM"]) | _property("LSTM"),
            r"Input\(shape=\(None, \.\.\.\)\) of .*\n.*\(output\)\.shape=\(None, [^)]*\), expected":
                catalog_ids(SYMBOLIC, "test_functional_input", ["LSTM"]),
            # a model whose last layer (decoder) is an LSTM reports its output units + 1 wide
            r", symbolic outputs:\n.*\(output\)\.shape=\(None, (None, )?\d+\), expected":
                composed_ids(STACKS, "test_stack_symbolic_shapes", ["Seq_GRU_SimpleRNN_LSTM"], MODEL_SHAPE)
                | composed_ids(WIRING, "test_wiring_symbolic_shapes", ["Wire_LSTM_LSTM"], MODEL_SHAPE),
        },
        passed=catalog_ids(STRUCTURE, "test_shapes", ["LSTM"])
        # an LSTM inside, a GRU last: the GRU's shapes do not depend on its input's width
        | composed_ids(STACKS, "test_stack_symbolic_shapes", ["Stack_LSTM_GRU"], MODEL_SHAPE)
        | composed_ids(WIRING, "test_wiring_symbolic_shapes", ["Wire_GRU_GRU"], MODEL_SHAPE),
    ),
    caught(
        "flags_disagree", "test_identities::test_flag_combinations_agree",
        (IDENTITIES, STRUCTURE),
        "(test_flag_combinations_agree or test_last_step_is_final_state or test_arity) and [GRU-",
        failed={
            r"return_state=False == .*return_state=True does not hold": catalog_ids(
                IDENTITIES, "test_flag_combinations_agree", ["GRU"],
                return_sequences=None, return_state=None),
        },
        passed=catalog_ids(IDENTITIES, "test_last_step_is_final_state", ["GRU"], return_state=None)
        | catalog_ids(STRUCTURE, "test_arity", ["GRU"]),
    ),
    caught(
        "sequences_by_default", "test_notebook::test_flags_default_to_false; the device-scope call",
        (NOTEBOOK, STRUCTURE, DEVICES_MODULE),
        "test_flags_default_to_false or (test_printed_shapes and -SimpleRNN])"
        " or (test_arity and [SimpleRNN- and B1T4F5U3) or test_documented_device_scope_builds_and_calls",
        failed={
            r"SimpleRNN: return_sequences defaults to True": notebook_ids(
                "test_flags_default_to_false", ["SimpleRNN"]),
            r"assert \(1, 4, 3\) == \(1, 3\)": {case_id(DEVICES_MODULE, "test_documented_device_scope_builds_and_calls",
                                                    device="cpu", extra=("SimpleRNN",))},
        },
        passed=notebook_ids("test_flags_default_to_false", ["RNN_SimpleRNNCell", "LSTM", "GRU"])
        | notebook_ids("test_printed_shapes", ["SimpleRNN"], return_sequences=BOTH,
                       return_state=BOTH)
        | catalog_ids(STRUCTURE, "test_arity", ["SimpleRNN"], shapes=ONE_SHAPE)
        | {case_id(DEVICES_MODULE, "test_documented_device_scope_builds_and_calls", device="cpu", extra=(n,))
           for n in ("LSTM", "GRU")},
    ),
    caught(
        "accepts_2d_input", "test_notebook::test_input_must_be_3d",
        (NOTEBOOK,),
        "test_input_must_be_3d or (test_printed_shapes and -LSTM])",
        failed={
            r"DID NOT RAISE|accepted|2-D": notebook_ids("test_input_must_be_3d", ["LSTM"]),
        },
        passed=notebook_ids("test_input_must_be_3d", ["SimpleRNN", "RNN_SimpleRNNCell", "GRU"])
        | notebook_ids("test_printed_shapes", ["LSTM"], return_sequences=BOTH, return_state=BOTH),
    ),
    caught(
        "rank_error_without_rank", "test_notebook::test_input_must_be_3d (the error names rank 3)",
        (NOTEBOOK,),
        "test_input_must_be_3d",
        failed={
            r"does not name the expected rank 3": notebook_ids(
                "test_input_must_be_3d", ["LSTM"]),
        },
        passed=notebook_ids("test_input_must_be_3d", ["SimpleRNN", "RNN_SimpleRNNCell", "GRU"]),
    ),
    caught(
        "missing_gru", "a missing layer fails only its own cases, naming layers.<name>",
        (STRUCTURE, NOTEBOOK),
        "(test_arity and -last-state-B1T4F5U3-) or test_flags_default_to_false",
        failed={
            r"has no layers\.GRU": catalog_ids(
                STRUCTURE, "test_arity", entry_ids(lambda e: "GRU" in e.label), **LAST_STATE)
            | notebook_ids("test_flags_default_to_false", ["GRU"]),
        },
        passed=catalog_ids(STRUCTURE, "test_arity", entry_ids(lambda e: "GRU" not in e.label),
                           **LAST_STATE)
        | notebook_ids("test_flags_default_to_false", ["SimpleRNN", "RNN_SimpleRNNCell", "LSTM"]),
    ),
    caught(
        "bidirectional_forward_states_only", "test_structure::test_arity (Bidirectional states)",
        (STRUCTURE,),
        "test_arity and -last- and ((B1T4F5U3 and [Bi_) or [Bi_LSTM_concat- or [LSTM-)",
        failed={
            r"expected \d+ items \(\[.*backward\.h.*\]\), got \d+": catalog_ids(
                STRUCTURE, "test_arity", entry_ids(lambda e: e.bidirectional), **LAST_STATE)
            | catalog_ids(STRUCTURE, "test_arity", ["Bi_LSTM_concat"], return_sequences=[False],
                          return_state=[True]),  # every shape
        },
        passed=catalog_ids(STRUCTURE, "test_arity", entry_ids(lambda e: e.bidirectional),
                           return_sequences=[False], return_state=[False], shapes=ONE_SHAPE)
        | catalog_ids(STRUCTURE, "test_arity", ["Bi_LSTM_concat"], return_sequences=[False],
                      return_state=[False])
        | _lstm_arity(return_sequences=[False]),
    ),
    caught(
        "leaks_global_policy", "the plugin's global-state guard (_keras_global_state)",
        (NOTEBOOK, STRUCTURE),
        "test_flags_default_to_false or (test_arity and [LSTM- and B1T4F5U3)",
        failed={
            r"test leaked Keras global state: .*float32.*mixed_float16": notebook_ids(
                "test_flags_default_to_false", ["LSTM"]) | _lstm_arity(shapes=ONE_SHAPE),
        },
        passed=notebook_ids("test_flags_default_to_false", ["SimpleRNN", "RNN_SimpleRNNCell", "GRU"]),
        outcome="error",
    ),
]


CAUGHT += [
    caught(
        "lstm_c_wrong_shape", "test_identities::test_cell_state_is_not_hidden_state (c's shape); the notebook's h and c",
        (IDENTITIES, NOTEBOOK),
        "(test_cell_state_is_not_hidden_state and ([LSTM- or ([RNN_LSTMCell- and B1T4F5U3)))"
        " or test_lstm_returns_output_h_and_c",
        failed={
            r"c\.shape=\(\d+, \d+\), expected \(\d+, \d+\) like h": catalog_ids(
                IDENTITIES, "test_cell_state_is_not_hidden_state", ["LSTM"], return_state=None),
            r"assert \(1, 3\) == \(1, 2\)": notebook_ids("test_lstm_returns_output_h_and_c", return_sequences=BOTH),
        },
        passed=catalog_ids(IDENTITIES, "test_cell_state_is_not_hidden_state", ["RNN_LSTMCell"],
                           return_state=None, shapes=ONE_SHAPE),
    ),
    caught(
        "state_by_default", "test_notebook::test_flags_default_to_false (return_state)",
        (NOTEBOOK,),
        "test_flags_default_to_false",
        failed={r"GRU: return_state defaults to True": notebook_ids("test_flags_default_to_false", ["GRU"])},
        passed=notebook_ids("test_flags_default_to_false", ["SimpleRNN", "RNN_SimpleRNNCell", "LSTM"]),
    ),
]


VALIDATION = "tests/test_validation.py"


def _rules(*rules: str) -> set[str]:
    return {case_id(VALIDATION, "test_ruled_out_argument_raises_value_error_naming_it", device="cpu",
                    extra=(r,)) for r in rules}


CAUGHT += [
    caught(
        "accepts_strides_with_dilation", "test_validation (a ruled-out argument is refused)",
        (VALIDATION,),
        "test_ruled_out_argument_raises_value_error_naming_it and ConvLSTM",
        failed={r"strides_with_dilation_ConvLSTM2D .*: no error -- the configuration was accepted":
                _rules("strides_with_dilation_ConvLSTM2D")},
        passed=_rules("strides_with_dilation_ConvLSTM1D", "input_4d_ConvLSTM2D"),
    ),
    caught(
        "validation_raises_type_error", "test_validation (the refusal is a ValueError)",
        (VALIDATION,),
        "test_ruled_out_argument_raises_value_error_naming_it and use_cudnn",
        failed={r"use_cudnn_invalid_GRU .*: raised TypeError instead of ValueError":
                _rules("use_cudnn_invalid_GRU")},
        passed=_rules("use_cudnn_invalid_LSTM"),
    ),
    caught(
        "validation_message_unnamed", "test_validation (the ValueError names the argument)",
        (VALIDATION,),
        "test_ruled_out_argument_raises_value_error_naming_it and units_zero",
        failed={r"units_zero_LSTM .*: the ValueError does not name the argument": _rules("units_zero_LSTM")},
        passed=_rules("units_zero_SimpleRNN", "units_zero_GRU"),
    ),
]


# Fakes the suite cannot catch yet: a defect of the suite, kept visible as a strict xfail that
# turns red (XPASS) the day the check is fixed -- then delete the entry.
SUITE_GAPS: dict[str, str] = {}  # fake -> why the suite cannot catch it yet (a strict xfail)


@pytest.mark.parametrize("spec", [
    pytest.param(c, id=c.fake, marks=[pytest.mark.xfail(strict=True, reason=SUITE_GAPS[c.fake])]
                 if c.fake in SUITE_GAPS else []) for c in CAUGHT])
def test_fake_is_caught(pytester, monkeypatch, spec):
    run = run_suite(pytester, monkeypatch, f"fixtures.broken.{spec.fake}", spec.files, k=spec.k)
    assert f"implementation fixtures.broken.{spec.fake} " in run.stdout, "the header must name the fake"
    run.assert_outcomes(failed=spec.failed, passed=spec.passed, outcome=spec.outcome)
    log_failing_sites(spec.fake, run)


def test_real_keras_passes_every_selection(pytester, monkeypatch, impl):
    """The control: the union of the selections above passes on Keras itself.

    Known Keras nonconformances (fixtures/expectations/) are expected failures here, as in a normal
    run; which cases they cover is read from the expectation files, not from a run. (Each
    self-test above already checks that its selection runs exactly its node ids.)
    """
    assert_keras_passes(pytester, monkeypatch, impl, set().union(*(c.selected() for c in CAUGHT)))
