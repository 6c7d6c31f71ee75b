"""The ConvLSTM geometry family (tests/test_conv_geometry.py) and the documented methods and
properties (tests/test_methods.py, and reset_state() on every entry in tests/test_stateful.py)
fail on a fake that has the bug each exists to catch, and only there.

The node ids come from the specification: the geometries of the default lane from
rnnconf/spec/conv_geometry.py (its covering array), the entries from the catalog's predicates.
The control runs every node id a fake must fail on real Keras, where each passes.
"""

from __future__ import annotations

import pytest

from rnnconf.spec import catalog, contract, conv_geometry
from rnnconf.harness.caseid import case_id

from .test_fakes import assert_fake_caught, assert_keras_passes_what_fakes_fail, caught
from .test_fakes_options import B3, ORACLE

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.selftest

GEO = "tests/test_conv_geometry.py"
METHODS = "tests/test_methods.py"
STATEFUL = "tests/test_stateful.py"
assert B3 in catalog.OPTION_SHAPES  # the default-lane shape of both families


def geo_ids(test: str, when) -> set[str]:
    """The default lane's geometry cases of ``test`` for which ``when(geometry)`` holds."""
    return {f"{GEO}::{test}[{conv_geometry.BASE[g.rank]}-{g.id}-{B3.id}-cpu]"
            for g in conv_geometry.DEFAULT_LANE if when(g)}


def entry_ids(module: str, test: str, entries, extra: tuple[str, ...] = ()) -> set[str]:
    """One case per entry in the default lane's option set (Bidirectional's sum/ave/mul and
    the explicit-backward entries but concat are --full only)."""
    return {case_id(module, test, entry=e, shape=B3, device="cpu", extra=extra) for e in entries
            if catalog.in_default_option_lane(catalog.BY_ID[e])}


def _ids(pred) -> list[str]:
    return [e.id for e in catalog.ENTRIES if pred(e)]


CHANNELS_FIRST = lambda g: g.data_format == "channels_first"  # noqa: E731
VALID_DILATED = lambda g: g.padding == "valid" and g.dilation_rate > 1  # noqa: E731
SAME_DILATED = lambda g: g.padding == "same" and g.dilation_rate > 1  # noqa: E731
BI = _ids(lambda e: e.bidirectional)
BI_OTHER_UNITS = _ids(lambda e: e.bidirectional and e.backward_units(B3) != e.cell_units(B3))
BI_LSTM = _ids(lambda e: e.bidirectional and e.cells[0].kind == "lstm")
# the entries that run the module's LSTMCell (the LSTM layer runs Keras's own cell class)
LSTM_CELL = _ids(lambda e: e.form in ("rnn", "stacked") and any(c.kind == "lstm" for c in e.cells))
NOT_FLOAT32 = [p for p, (compute, _) in contract.DTYPE_POLICIES.items() if compute != "float32"]
FLOAT32 = [p for p in contract.DTYPE_POLICIES if p not in NOT_FLOAT32]
assert geo_ids("t", CHANNELS_FIRST) and geo_ids("t", VALID_DILATED) and geo_ids("t", SAME_DILATED)
assert LSTM_CELL and NOT_FLOAT32

CAUGHT = [
    caught(
        "conv_channels_first_states_last", "test_conv_geometry_shapes (channels_first states)",
        (GEO,), "test_conv_geometry_shapes",
        failed={r"returned\[1\] \(h\)\.shape=\(3, \d+(, \d+)*, 3\), expected \(3, 3, \d+":
                geo_ids("test_conv_geometry_shapes", CHANNELS_FIRST)},
        passed=geo_ids("test_conv_geometry_shapes", lambda g: not CHANNELS_FIRST(g)),
    ),
    caught(
        "conv_output_shape_ignores_dilation", "test_conv_geometry_compute_output_shape (valid, dilated)",
        (GEO,), "test_conv_geometry_compute_output_shape or test_conv_geometry_shapes",
        failed={r"compute_output_shape of ConvLSTM\dD\(units, 3, padding='valid', dilation_rate=2":
                geo_ids("test_conv_geometry_compute_output_shape", VALID_DILATED)},
        passed=(geo_ids("test_conv_geometry_compute_output_shape", lambda g: not VALID_DILATED(g))
                | geo_ids("test_conv_geometry_shapes", lambda g: True)),
    ),
    caught(
        "conv_same_ignores_dilation", "test_conv_geometry_values (same, dilated)",
        (GEO,), "test_conv_geometry_values or test_conv_geometry_shapes",
        failed={ORACLE + r"ConvLSTM\dD\(units, 3, padding='same', dilation_rate=2":
                geo_ids("test_conv_geometry_values", SAME_DILATED)},
        passed=(geo_ids("test_conv_geometry_values", lambda g: not SAME_DILATED(g))
                | geo_ids("test_conv_geometry_shapes", lambda g: True)),
    ),
    caught(
        "bidirectional_states_swapped", "test_methods::test_states_after_a_call (the documented order)",
        (METHODS,), "test_states_after_a_call and (Bi_ or [LSTM-)",
        failed={r"forward\.h differs from the NumPy oracle for Bidirectional.*layer\.states after a call":
                entry_ids(METHODS, "test_states_after_a_call", [e for e in BI if e not in BI_OTHER_UNITS]),
                # halves of other sizes: the swapped states have the other half's shapes
                r"forward\.h: shape \(3, \d+\), expected \(3, 3\), for Bidirectional.*layer\.states after a call":
                entry_ids(METHODS, "test_states_after_a_call", BI_OTHER_UNITS)},
        passed=entry_ids(METHODS, "test_states_after_a_call", ["LSTM"]),
    ),
    caught(
        "bidirectional_states_forward_only", "test_methods: how many states a Bidirectional's states holds",
        (METHODS,), "(test_states_after_a_call or test_states_after_build) and (Bi_ or [LSTM-)",
        failed={r"\d tensors for Bidirectional\(.*layer\.states after a call; documented: \d":
                entry_ids(METHODS, "test_states_after_a_call", BI),
                r"layer\.states after build\(\) gives \d tensors for Bidirectional\(":
                entry_ids(METHODS, "test_states_after_build", BI)},
        passed=entry_ids(METHODS, "test_states_after_a_call", ["LSTM"]) | entry_ids(METHODS, "test_states_after_build", ["LSTM"]),
    ),
    caught(
        "bidirectional_reset_forward_only", "test_stateful::test_reset_state_zeroes_states (Bidirectional)",
        (STATEFUL,), "test_reset_state_zeroes_states and (Bi_LSTM_ or [LSTM-)",
        failed={r"after reset_state\(\) the states are not zeros for Bidirectional\(LSTM": 
                entry_ids(STATEFUL, "test_reset_state_zeroes_states", BI_LSTM)},
        passed=entry_ids(STATEFUL, "test_reset_state_zeroes_states", ["LSTM"]),
    ),
    caught(
        "cell_initial_state_batch_ignored",
        "test_methods: get_initial_state, the cell's and the layer's, and the states a stateful layer builds",
        (METHODS,), "(get_initial_state or test_states_after_build) and (RNN_LSTMCell or RNN_GRUCell)",
        failed={r"layer\.states after build\(\) shapes for RNN\(.*\(1, 3\)":
                entry_ids(METHODS, "test_states_after_build", LSTM_CELL),
                r"layer\.get_initial_state shapes for RNN\(.*\(1, 3\)":
                entry_ids(METHODS, "test_get_initial_state", LSTM_CELL),
                r"cell\.get_initial_state\(batch_size=\.\.\.\) shapes for RNN\(.*\(1, 3\)":
                entry_ids(METHODS, "test_cell_get_initial_state", LSTM_CELL)},
        passed=(entry_ids(METHODS, "test_get_initial_state", ["RNN_GRUCell"])
                | entry_ids(METHODS, "test_states_after_build", ["RNN_GRUCell"])
                | entry_ids(METHODS, "test_cell_get_initial_state", ["RNN_GRUCell"])),
    ),
    caught(
        "symbolic_states_float32", "test_methods::test_symbolic_dtypes (compute_output_spec)",
        (METHODS,), "test_symbolic_dtypes and ([GRU- or [LSTM-)",
        failed={r"a call on Input\(shape=\(None, \.\.\.\)\) of GRU\(units\) .* \(wrong: h: float32\)":
                {i for p in NOT_FLOAT32 for i in entry_ids(METHODS, "test_symbolic_dtypes", ["GRU"], (p,))}},
        passed=({i for p in FLOAT32 for i in entry_ids(METHODS, "test_symbolic_dtypes", ["GRU"], (p,))}
                | {i for p in contract.DTYPE_POLICIES
                   for i in entry_ids(METHODS, "test_symbolic_dtypes", ["LSTM"], (p,))}),
    ),
]


@pytest.mark.parametrize("spec", CAUGHT, ids=[c.fake for c in CAUGHT])
def test_method_fake_is_caught(pytester, monkeypatch, spec):
    assert_fake_caught(pytester, monkeypatch, spec)


def test_real_keras_passes_what_the_method_fakes_fail(pytester, monkeypatch, impl):
    """The control: every node id a fake above must fail passes on Keras itself."""
    assert_keras_passes_what_fakes_fail(pytester, monkeypatch, impl, CAUGHT)
