"""Every EXPORT family of the suite fails on a fake that has its bug.

tests/test_export.py (structure, declared dimensions, last-step identity and oracle values of an
exported model run in its format's runtime) gets fakes in fixtures/broken/ (export_*.py): real
Keras 3 except for one bug that only the exported artifact, or the runtime, has. The inner runs
select one format (``--export tf_saved_model``: it runs every check, what the fakes break does not
depend on the format, and it is the cheapest export -- no converter after the trace;
``tests/unit/test_export_runtimes.py`` pins how each runtime's outputs are ordered, and
``make test``'s export slice runs every format on real Keras); the LiteRT fake runs LiteRT. As in test_fakes_modes.py, a
:class:`~tests.selftest.test_fakes.Caught` spells out -- from the contract, not from a run -- which
node ids must fail with which message and which must pass in the same run; the control runs every
must-fail node id on real Keras, where each passes.
"""

from __future__ import annotations

import importlib
import importlib.util

import pytest

from rnnconf.impl import export
from rnnconf.spec import catalog

from .suite import catalog_ids
from .test_fakes import assert_fake_caught, assert_keras_passes_what_fakes_fail, caught

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.selftest


@pytest.fixture(scope="module", autouse=True)
def _runtimes_imported_before_pytester():
    """What the formats need, imported once per worker before any pytester test of this module:
    pytester restores sys.modules after each test, so anything an inner run imports is dropped
    again, and onnx cannot be imported a second time into one process (its extension aborts).
    A module fixture is set up before pytester's, and only where these tests run."""
    for fmt in (*FORMATS, *LITERT):
        for module in (*export.BY_NAME[fmt].requires, *export.BY_NAME[fmt].exporter_needs("tensorflow")):
            if importlib.util.find_spec(module) is not None:
                importlib.import_module(module)


EXPORT = "tests/test_export.py"
B3 = catalog.OPTION_SHAPES[0]  # the export family's shape (its shapes("options") marker)
FORMATS = ["tf_saved_model"]
ARGS = ("--export", ",".join(FORMATS))
ORACLE = r"differs from the NumPy oracle for "
STRUCTURE, DIMENSIONS = "test_exported_structure", "test_exported_dimensions"
IDENTITY, VALUES = "test_exported_last_step_is_final_state", "test_exported_matches_oracle"
BACKWARDS, FREE_BATCH = "test_exported_go_backwards_matches_oracle", "test_litert_default_signature_runs"
MASKED = "test_exported_mask_matches_oracle"
FAMILY = f"({STRUCTURE} or {DIMENSIONS} or {IDENTITY} or {VALUES})"


def ids(test: str, entry: str, **axes) -> set[str]:
    if test == IDENTITY:
        axes.setdefault("return_state", None)
    return catalog_ids(EXPORT, test, [entry], shapes=[B3], extra=FORMATS, **axes)


def family(entry: str, **axes) -> set[str]:
    """Every test of the family on ``entry`` (the identity test only where it has axes)."""
    return set().union(*(ids(t, entry, **axes) for t in (STRUCTURE, DIMENSIONS, VALUES)))


CAUGHT = [
    caught(
        "export_states_swapped", "test_export (values and the last-step identity of the artifact)",
        (EXPORT,), f"{FAMILY} and ([LSTM- or [GRU-)",
        failed={
            ORACLE + r"LSTM\(units\) with return_sequences=\w+, return_state=True.*exported to": ids(VALUES, "LSTM", return_state=[True]),
            r"output(\[:, -1\])? == h does not hold for LSTM\(units\) .*exported to": ids(IDENTITY, "LSTM"),
        },
        passed=ids(STRUCTURE, "LSTM") | ids(DIMENSIONS, "LSTM") | ids(VALUES, "LSTM", return_state=[False])
        | family("GRU") | ids(IDENTITY, "GRU"),
        args=ARGS,
    ),
    caught(
        "export_runtime_drops_last", "test_export (the runtime's outputs against the documented structure)",
        (EXPORT,), f"{FAMILY} and ([LSTM- or [GRU-)",
        failed={
            r"the artifact has 7 outputs for its layers' 8 tensors[^\n]*:\s+returned: expected 3 "
            r"items \(\[output.*\), got 2": ids(
                STRUCTURE, "LSTM", return_sequences=[True], return_state=[True]),
            r"the artifact has 5 outputs for its layers' 6 tensors[^\n]*:\s+returned: expected 2 "
            r"items \(\[output.*\), got 1": ids(
                STRUCTURE, "GRU", return_sequences=[True], return_state=[True]),
            r"1 declared output\(s\) for this combination, documented 2|2 declared output\(s\) for this "
            r"combination, documented 3": ids(DIMENSIONS, "LSTM", return_sequences=[True], return_state=[True])
            | ids(DIMENSIONS, "GRU", return_sequences=[True], return_state=[True]),
            r"test_exported_structure reports the difference": ids(
                VALUES, "LSTM", return_sequences=[True], return_state=[True])
            | ids(VALUES, "GRU", return_sequences=[True], return_state=[True])
            | ids(IDENTITY, "LSTM", return_sequences=[True]) | ids(IDENTITY, "GRU", return_sequences=[True]),
        },
        passed=family("LSTM", return_state=[False]) | family("GRU", return_state=[False])
        | family("LSTM", return_sequences=[False]) | family("GRU", return_sequences=[False])
        | ids(IDENTITY, "LSTM", return_sequences=[False]) | ids(IDENTITY, "GRU", return_sequences=[False]),
        args=ARGS,
    ),
    caught(
        "export_runtime_adds_outputs", "test_export (an artifact with more outputs than its layers return)",
        (EXPORT,), f"({STRUCTURE} or {DIMENSIONS}) and [GRU-",
        failed={r"GRU\(units\) .*exported to \w+, run by .*: the artifact has 12 outputs for its layers' 6 "
                r"tensors, more than they return, so its outputs cannot be mapped one to one":
                ids(STRUCTURE, "GRU") | ids(DIMENSIONS, "GRU")},
        passed=set(),
        args=ARGS,
    ),
    caught(
        "export_float16", "test_export (the artifact's precision: values, returned and declared dtypes)",
        (EXPORT,), f"({FAMILY} or {BACKWARDS}) and ([LSTM- or [GRU-)",
        failed={ORACLE + r"GRU\(units\) .*exported to": ids(VALUES, "GRU") | ids(BACKWARDS, "GRU"),
                r"GRU\(units\) .*exported to \w+, run by .*: returned dtypes \['float16'\], the layer returns float32":
                    ids(STRUCTURE, "GRU"),
                r"h: declared dtype float16, expected float32": ids(DIMENSIONS, "GRU", return_state=[True]),
                r"output: declared dtype float16, expected float32": ids(DIMENSIONS, "GRU", return_state=[False])},
        passed=ids(IDENTITY, "GRU") | family("LSTM") | ids(IDENTITY, "LSTM") | ids(BACKWARDS, "LSTM"),
        args=ARGS,
    ),
    caught(
        "export_fixed_length", "test_export (a longer sequence than the one traced)",
        (EXPORT,), f"{FAMILY} and ([SimpleRNN- or [GRU-)",
        failed={
            r"exported to \w+, run by \S+ on the case's input[^\n]*\s+returned\[0\] \(output\)\.shape=\(3, 2, 3\), "
            r"expected \(3, 4, 3\)": ids(STRUCTURE, "SimpleRNN", return_sequences=[True]),
            r"\(output\)\.shape=\(3, 2, 3\), expected \(3, 4, 3\) \(test_exported_structure reports the difference\)":
                ids(VALUES, "SimpleRNN", return_sequences=[True]) | ids(IDENTITY, "SimpleRNN", return_sequences=[True]),
            ORACLE + r"SimpleRNN\(units\) .*exported to \w+, run by \S+ on the case's input":
                ids(VALUES, "SimpleRNN", return_sequences=[False]),
        },
        passed=ids(STRUCTURE, "SimpleRNN", return_sequences=[False]) | ids(DIMENSIONS, "SimpleRNN")
        | ids(IDENTITY, "SimpleRNN", return_sequences=[False]) | family("GRU") | ids(IDENTITY, "GRU"),
        args=ARGS,
    ),
]


CAUGHT.append(caught(
    "export_mask_dropped", "test_export::test_exported_mask_matches_oracle (an explicit mask input)",
    (EXPORT,), f"({VALUES} or {MASKED}) and ([LSTM- or [GRU-)",
    failed={ORACLE + r"LSTM\(units\) .*exported to \w+, run by \S+ on .* with the explicit mask's matching rows":
            ids(MASKED, "LSTM")},
    passed=ids(VALUES, "LSTM") | ids(MASKED, "GRU") | ids(VALUES, "GRU"),
    args=ARGS,
))

POLICY_DTYPE, POLICY_VALUES = "test_exported_dtype_under_policy", "test_exported_values_under_policy"


def policy_ids(test: str, entry: str, policy: str, **axes) -> set[str]:
    return catalog_ids(EXPORT, test, [entry], shapes=[B3], extra=[f"{f}-{policy}" for f in FORMATS], **axes)


CAUGHT.append(caught(
    "export_policy_lost", "test_export (the dtype a policy gives the artifact's outputs)",
    (EXPORT,), f"({POLICY_DTYPE} or {POLICY_VALUES}) and [LSTM- and not bfloat16",
    failed={r"LSTM\(units\) .*dtype='(mixed_float16|float64)'.*exported to \w+, run by .*: on the case's input, "
            r"returned output: float32.*the runtime declares output: float32.*; the layer returns every tensor "
            r"in (float16 under mixed_float16|float64 under float64)":
                policy_ids(POLICY_DTYPE, "LSTM", "mixed_float16") | policy_ids(POLICY_DTYPE, "LSTM", "float64"),
            ORACLE + r"LSTM\(units\) .*dtype='float64'.*exported to": policy_ids(POLICY_VALUES, "LSTM", "float64")},
    passed=policy_ids(POLICY_VALUES, "LSTM", "mixed_float16"),
    args=ARGS,
))

LITERT = ["litert"]
FLEX = r"exported to litert with the batch (fixed|free): the artifact needs Select TF \(Flex\) operators"
REFUSED = r"Select TensorFlow op\(s\), included in the given model, is\(are\) not supported by this interpreter"


def litert_ids(test: str, entry: str, **axes) -> set[str]:
    if test in (IDENTITY, FREE_BATCH):
        axes.setdefault("return_state", None)
    if test == FREE_BATCH:
        axes.setdefault("return_sequences", None)
    return catalog_ids(EXPORT, test, [entry], shapes=[B3], extra=LITERT, **axes)


CAUGHT.append(caught(
    "export_litert_flex", "test_export (a LiteRT artifact the plain interpreter can run)",
    (EXPORT,), f"({STRUCTURE} or {DIMENSIONS} or {IDENTITY} or {VALUES} or {FREE_BATCH}) and [LSTM-",
    failed={FLEX: litert_ids(STRUCTURE, "LSTM") | litert_ids(FREE_BATCH, "LSTM"),
            REFUSED: litert_ids(IDENTITY, "LSTM") | litert_ids(VALUES, "LSTM")},
    passed=litert_ids(DIMENSIONS, "LSTM"),
    args=("--export", "litert"),
))


@pytest.mark.parametrize("spec", CAUGHT, ids=[c.fake for c in CAUGHT])
def test_export_fake_is_caught(pytester, monkeypatch, spec):
    assert_fake_caught(pytester, monkeypatch, spec)


def test_real_keras_passes_what_the_export_fakes_fail(pytester, monkeypatch, impl):
    """The control: every node id an export fake must fail passes on Keras itself."""
    assert_keras_passes_what_fakes_fail(pytester, monkeypatch, impl, CAUGHT, args=("--export", "all"))
