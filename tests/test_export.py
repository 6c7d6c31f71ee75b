"""Exported models: what ``Model.export`` writes, run in the format's own runtime, returns what the
layer returns.

For each case, one functional model on ``Input(shape=(None, *features), name="x")`` -- its outputs
the four flag combinations' layers, with the same weights (runner.CaseRun.exported) -- is exported
with ``Model.export(path, format=...)`` and loaded by the format's runtime, never by Keras
(rnnconf/impl/export/: ``tf.saved_model.load``, ``onnxruntime``, ``ai_edge_litert``, OpenVINO,
``torch.export.load``). The artifact runs on the case's input, on its first rows (another batch
size) and on its first steps (another sequence length) where the format leaves that dimension
free; where the family fixes one (LiteRT's batch, torch's time: ``Format.why_fixed``), the runs
use the fixed size and the test says so.

The checks, each its own test: the runtime's outputs map one to one onto the documented structure
with the documented shapes and dtype (``test_exported_structure``); the runtime declares the batch
and time dimensions free where the format leaves them free (``test_exported_dimensions``); the
last step equals the final state, exactly, inside the runtime; the values meet the NumPy oracle
at the eager float32 tolerance, with ``go_backwards`` too, and with a mask given as an explicit
second input; under each dtype policy (float64, mixed_float16, mixed_bfloat16) the artifact returns
and declares the layer's compute dtype, and its values meet the oracle at that dtype's tolerance
(where Keras documents the format for that policy: ONNX's exporter documents float32 only).
A failure to export, load or run fails
the case with the exporter's or runtime's message, unless an expectation names it.

Not in the default lane: ``--export all`` (or a list of formats) selects the family; ``make
export`` runs it on every backend that exports. A format Keras does not document for the backend,
release or dtype policy is n/a; one whose runtime is not installed skips with the install command.
"""

import numpy as np
import pytest

from rnnconf.impl import export as formats
from rnnconf.spec import catalog, contract, reference
from rnnconf.harness.asserts import assert_identical, assert_matches_oracle, assert_structure
from rnnconf.harness.checks import skip_unless_policy_runs
from rnnconf.harness.outcomes import not_applicable
from rnnconf.harness.runner import exported_calls

# One shape, the option tests' (an export and a runtime load cost seconds; the artifact runs at two
# batch sizes and two lengths anyway). Without --full, the entries of the option lane
# (catalog.in_default_option_lane: Bidirectional's sum/ave/mul merges are left to --full, which
# make export passes); go_backwards and LiteRT's free-batch export on the layers users export most.
pytestmark = [pytest.mark.mode("export"), pytest.mark.shapes(catalog.OPTION_SHAPES[0]),
              pytest.mark.default_lane(lambda p: catalog.in_default_option_lane(p["entry"]))]
UNIDIRECTIONAL = lambda e: not e.bidirectional  # noqa: E731
MOST_EXPORTED = ("SimpleRNN", "LSTM", "GRU", "RNN_LSTMCell", "Bi_LSTM_concat", "ConvLSTM2D")
MOST_EXPORTED_LANE = pytest.mark.default_lane(lambda p: p["entry"].id in MOST_EXPORTED)
POLICIES = contract.DTYPE_POLICIES  # policy -> (compute dtype of every returned tensor, variable dtype)


def _fmt(run, export_format, policy=""):
    """The Format, or the case's n/a or skip: a format Keras does not document for this backend,
    release or dtype policy is n/a; a runtime (or exporter need) that is not installed skips with
    the command."""
    fmt = formats.BY_NAME[export_format].on(run.impl.backend)
    why = formats.n_a(fmt, run.impl.backend, run.impl.version, policy)
    if why:
        not_applicable(run.impl, why)
    missing = fmt.missing(run.impl.backend, run.impl.version)
    if missing:
        pytest.skip(missing)
    return fmt


def _result(run, export_format, return_sequences, return_state, record=None, fmt=None, masked=False):
    """The combination's exported result (runner.CaseRun.exported); with ``record``, what the
    runtime declares and the artifact's operators go into the report. Every test of the family
    reads the artifact through it, so an artifact whose outputs cannot be read one to one
    (:func:`_one_to_one`) fails every claim, not only those its extra outputs happen to upset."""
    fmt = fmt or _fmt(run, export_format)
    result = run.exported(fmt, return_sequences, return_state, masked=masked)
    if record is not None:
        artifact = result["artifact"]
        record.note(export={"format": fmt.name + (" (batch free)" if fmt.name == "litert" and not fmt.fixed else ""),
                            "runtime": fmt.runtime, "outputs": [o.text() for o in result["declared"]],
                            "operators": artifact.operators.text(), "recurrence": artifact.operators.recurrence,
                            "extra": artifact.operators.extra, "fixed": list(fmt.fixed)})
    _one_to_one(run, fmt, result, return_sequences, return_state)
    return fmt, result


def _one_to_one(run, fmt, result, return_sequences, return_state):
    """An artifact with more outputs than its layers return (a copy of each, a converter's internal
    tensors) cannot be read one to one: which of its outputs is which layer's is unknown, and a
    combination whose share of them happens to have the right shapes would pass on wrong tensors."""
    __tracebackhide__ = True
    assert result["total"] <= result["layers_total"], (
        f"{run.describe(return_sequences, return_state)}, exported to {fmt.name}, run by {fmt.runtime}: "
        f"the artifact has {result['total']} outputs for its layers' {result['layers_total']} tensors, "
        "more than they return, so its outputs cannot be mapped one to one onto theirs: "
        + ", ".join(o.text() for o in result["artifact"].outputs))


def _expected(run, return_sequences, return_state, rows, steps):
    tree = contract.expected_tree(run.entry, run.shape, return_sequences, return_state)
    leaves = contract.flatten(tree) if isinstance(tree, list) else [tree]
    out = []
    for leaf in leaves:
        dims = (rows, *leaf.shape[1:])
        if leaf.role.startswith("output") and return_sequences:
            dims = (rows, steps, *leaf.shape[2:])
        out.append(contract.Leaf(leaf.role, dims))
    return out


def _assert_builtin_only(run, fmt, result, return_sequences, return_state):
    """A LiteRT artifact the plain interpreter can run: builtin operators only."""
    __tracebackhide__ = True
    if fmt.name != "litert":
        return
    flex = sorted(k for k in result["artifact"].operators.counts if k.startswith("Flex"))
    assert not flex, (
        f"{run.describe(return_sequences, return_state)}, exported to litert with the batch "
        f"{'fixed' if fmt.fixed else 'free'}: the artifact needs Select TF (Flex) operators, which the plain "
        f"LiteRT interpreter cannot run ({', '.join(flex)}); {result['artifact'].operators.recurrence}. No Flex "
        "delegate ships with ai_edge_litert, so no run with it is possible here")


def _how(fmt, how):
    fixed = f" ({', '.join(fmt.fixed)} fixed by the export: {fmt.why_fixed})" if fmt.fixed else ""
    return f"exported to {fmt.name}, run by {fmt.runtime} on {how}{fixed}"


def _roles(run, fmt, flat, return_sequences, return_state, rows, steps, how):
    __tracebackhide__ = True
    expected = _expected(run, return_sequences, return_state, rows, steps)
    problems = contract.structure_mismatches(expected, list(flat))
    if problems:
        pytest.fail(f"{run.describe(return_sequences, return_state)}, {_how(fmt, how)}: " + "; ".join(problems)
                    + " (test_exported_structure reports the difference)", pytrace=False)
    return {e.role: a for e, a in zip(expected, flat)}


@pytest.mark.parametrize("export_format", [f.name for f in formats.FORMATS])
def test_exported_structure(run, entry, return_sequences, return_state, shape, device, export_format, record):
    """The runtime's outputs, read in the documented way per runtime, are the documented tensors
    in order with the documented shapes at every size run, and float32 as the layer's are."""
    fmt, result = _result(run, export_format, return_sequences, return_state, record)
    _assert_builtin_only(run, fmt, result, return_sequences, return_state)
    first = exported_calls(result)[0]
    record.returned(_expected(run, return_sequences, return_state, first[1], first[2]), list(first[3]),
                    view="exported", dtypes=[str(np.asarray(a).dtype) for a in first[3]])
    for how, rows, steps, flat in exported_calls(result):
        expected = _expected(run, return_sequences, return_state, rows, steps)
        context = f"{run.describe(return_sequences, return_state)}, {_how(fmt, how)}"
        if result["total"] != result["layers_total"]:
            context += (f" (the artifact has {result['total']} outputs for its layers' "
                        f"{result['layers_total']} tensors: "
                        + ", ".join(o.text() for o in result["artifact"].outputs) + ")")
        assert_structure(expected, list(flat), context)
        dtypes = sorted({str(np.asarray(a).dtype) for a in flat})
        assert dtypes == ["float32"], f"{context}: returned dtypes {dtypes}, the layer returns float32"


@pytest.mark.parametrize("export_format", [f.name for f in formats.FORMATS])
def test_exported_dimensions(run, entry, return_sequences, return_state, shape, device, export_format):
    """What the runtime declares about each output: the documented rank and sizes, with the batch
    dimension (and an output sequence's time dimension) free, or the case's size where the export
    fixes it; the declared dtype float32."""
    fmt, result = _result(run, export_format, return_sequences, return_state)
    artifact, declared = result["artifact"], result["declared"]
    expected = _expected(run, return_sequences, return_state, shape.batch, shape.timesteps)
    context = f"{run.describe(return_sequences, return_state)}, exported to {fmt.name}, as {fmt.runtime} declares it"
    assert len(declared) == len(expected), (
        f"{context}: {len(declared)} declared output(s) for this combination, documented "
        f"{len(expected)} ({contract.describe(expected)}); the artifact declares "
        + ", ".join(o.text() for o in artifact.outputs))
    problems = []
    for leaf, out in zip(expected, declared):
        want = list(leaf.shape)
        want[0] = shape.batch if "batch" in fmt.fixed else None
        if leaf.role.startswith("output") and return_sequences:
            want[1] = shape.timesteps if "time" in fmt.fixed else None
        if len(out.shape) != len(want) or any(w != g for w, g in zip(want, out.shape)):
            problems.append(f"{leaf.role}: declared {out.text()}, expected ({', '.join('?' if w is None else str(w) for w in want)})")
        elif out.dtype != "float32":
            problems.append(f"{leaf.role}: declared dtype {out.dtype}, expected float32")
    assert not problems, f"{context} ('?' = free):\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("export_format", [f.name for f in formats.FORMATS])
def test_exported_last_step_is_final_state(run, entry, return_sequences, shape, device, export_format):
    fmt, result = _result(run, export_format, return_sequences, True)
    for how, rows, steps, flat in exported_calls(result):
        roles = _roles(run, fmt, flat, return_sequences, True, rows, steps, how)
        pairs = contract.last_step_identities(entry, shape, return_sequences, roles)
        if not pairs:
            pytest.skip("no output/state identity exists for this entry and combination "
                        "(tests/test_identities.py::test_last_step_is_final_state says why)")
        for what, lhs, rhs in pairs:
            assert_identical(lhs, rhs, what, f"{run.describe(return_sequences, True)}, {_how(fmt, how)}")


def _matches_oracle(run, export_format, return_sequences, return_state, record, masked=False, dtype="float32",
                    fmt=None, **options):
    fmt, result = _result(run, export_format, return_sequences, return_state, masked=masked, fmt=fmt)
    worst = 0.0
    for how, rows, steps, flat in exported_calls(result):
        roles = _roles(run, fmt, flat, return_sequences, return_state, rows, steps, how)
        x = run.x[:rows, :steps]
        if masked:
            options["mask"] = run.export_mask[:rows, :steps]
            how += " with the explicit mask's matching rows and steps"
        expected = reference.expected_roles(run.entry, run.shape, run.weights, x,
                                            return_sequences=return_sequences, **options)
        worst = max(worst, assert_matches_oracle(roles, expected, f"{run.describe(return_sequences, return_state)}, "
                                                 f"{_how(fmt, how)}", **reference.tolerance(dtype)))
    record.deviation(worst, reference.tolerance_text(dtype))


@pytest.mark.parametrize("export_format", [f.name for f in formats.FORMATS])
def test_exported_matches_oracle(run, entry, return_sequences, return_state, shape, device, export_format, record):
    _matches_oracle(run, export_format, return_sequences, return_state, record)


@pytest.mark.entries(UNIDIRECTIONAL)
@MOST_EXPORTED_LANE
@pytest.mark.parametrize("export_format", [f.name for f in formats.FORMATS])
def test_exported_go_backwards_matches_oracle(make_run, entry, return_sequences, return_state, shape, device,
                                              export_format, record):
    """go_backwards=True survives the export: the artifact reads the sequence from its end."""
    _matches_oracle(make_run(go_backwards=True), export_format, return_sequences, return_state, record,
                    go_backwards=True)


@pytest.mark.entries(lambda e: e.form != "conv")  # the oracle has no ConvLSTM masking
@MOST_EXPORTED_LANE
@pytest.mark.parametrize("export_format", [f.name for f in formats.FORMATS])
def test_exported_mask_matches_oracle(run, entry, return_sequences, return_state, shape, device, export_format,
                                      record):
    """A mask given as an explicit input survives the export: a model with a second input,
    ``Input(shape=(None,), dtype="bool", name="mask")``, passed to every layer as ``mask=``, run
    with right-padded rows of different lengths, returns the oracle's masked values."""
    _matches_oracle(run, export_format, return_sequences, return_state, record, masked=True)


def _under_policy(make_run, export_format, policy):
    """The case made with ``dtype=policy`` and its Format: n/a first where Keras documents the
    format for other dtype policies only (ONNX: float32), then the float64 skip of a backend
    without 64-bit types."""
    run = make_run(dtype=policy)
    fmt = _fmt(run, export_format, policy)
    skip_unless_policy_runs(run, policy)
    return run, fmt


@MOST_EXPORTED_LANE
@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("export_format", [f.name for f in formats.FORMATS])
def test_exported_dtype_under_policy(make_run, entry, return_sequences, return_state, shape, device, export_format,
                                     policy):
    """A layer made with ``dtype=<policy>`` returns every output and state in the policy's compute
    dtype (tests/test_dtypes.py); its exported model must too: the runtime returns them in that
    dtype at every size run, and declares them in it. The model's input stays float32, as a
    functional model's ``Input`` is by default."""
    compute = POLICIES[policy][0]
    run, fmt = _under_policy(make_run, export_format, policy)
    fmt, result = _result(run, export_format, return_sequences, return_state, fmt=fmt)
    _assert_builtin_only(run, fmt, result, return_sequences, return_state)
    problems = []
    for how, rows, steps, flat in exported_calls(result):
        roles = _roles(run, fmt, flat, return_sequences, return_state, rows, steps, how)
        wrong = [f"{role}: {np.asarray(a).dtype}" for role, a in roles.items() if str(np.asarray(a).dtype) != compute]
        if wrong:
            problems.append(f"on {how}, returned {', '.join(wrong)}")
    declared = [f"{leaf.role}: {out.dtype}"
                for leaf, out in zip(_expected(run, return_sequences, return_state, 1, 1), result["declared"])
                if out.dtype != compute]
    if declared:
        problems.append(f"the runtime declares {', '.join(declared)}")
    assert not problems, (f"{run.describe(return_sequences, return_state)}, {_how(fmt, 'every size run')}: "
                          + "; ".join(problems) + f"; the layer returns every tensor in {compute} under {policy}")


@MOST_EXPORTED_LANE
@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("export_format", [f.name for f in formats.FORMATS])
def test_exported_values_under_policy(make_run, entry, return_sequences, return_state, shape, device, export_format,
                                      policy, record):
    """The exported model of a ``dtype=<policy>`` layer meets the oracle at the compute dtype's
    tolerance (a precision bug is not a dtype bug: test_exported_dtype_under_policy has that)."""
    run, fmt = _under_policy(make_run, export_format, policy)
    _matches_oracle(run, export_format, return_sequences, return_state, record, dtype=POLICIES[policy][0], fmt=fmt)


@MOST_EXPORTED_LANE
@pytest.mark.parametrize("export_format", ["litert"])
def test_litert_default_signature_runs(run, entry, shape, device, export_format, record):
    """``Model.export(path, format="litert")`` as its documentation shows it -- no
    input_signature, so the batch is free -- gives an artifact the plain LiteRT interpreter can
    run: builtin operators only (Select TF "Flex" operators need a delegate ai_edge_litert does
    not ship), and it runs at two batch sizes and two lengths with the documented shapes (the
    family's other LiteRT cases fix the batch and check values)."""
    import dataclasses

    fmt = _fmt(run, export_format)
    if fmt.fixed != ("batch",):
        not_applicable(run.impl, f"LiteRT on {run.impl.backend}: {fmt.why_fixed}")
    free = dataclasses.replace(fmt, fixed=(), why_fixed="")
    _, result = _result(run, export_format, True, True, record, fmt=free)
    _assert_builtin_only(run, free, result, True, True)
    for how, rows, steps, flat in exported_calls(result):
        _roles(run, free, flat, True, True, rows, steps, how)

