"""The report's view and HTML in-process: records are selected by tag, outcomes merge to the
worst phase, crashes and collection errors count, the banner follows the exit status."""

import types

from rnnconf.harness.expectations import Expectations, parse
from rnnconf.harness.report import writers
from rnnconf.harness.report.record import CaseRecord, Collector

NODE = "tests/test_structure.py::test_shapes[LSTM-seq-state-B1T4F5U3-cpu]"


def report(nodeid, when, outcome, longrepr="", props=(), wasxfail=None):
    r = types.SimpleNamespace(nodeid=nodeid, when=when, outcome=outcome, longrepr=longrepr,
                              longreprtext=longrepr, user_properties=list(props), duration=0.01,
                              passed=outcome == "passed", failed=outcome == "failed",
                              skipped=outcome == "skipped")
    if wasxfail is not None:
        r.wasxfail = wasxfail
    return r


def collector_with(*reports):
    c = Collector({"impl": "keras", "version": "3.15.1", "backend": "tensorflow", "gpus": [],
                   "gpu_probe_error": "", "env": {}, "module": "keras", "module_file": "x",
                   "flavor": "keras3", "backend_version": "2.21.0"})
    for r in reports:
        c.pytest_runtest_logreport(r)
    return c


def tagged(**returned):
    rec = CaseRecord()
    rec.returned(*returned["args"], view=returned["view"])
    return ("rnnconf", rec.json())


def test_worst_phase_wins_and_axes_come_from_the_id():
    c = collector_with(report(NODE, "setup", "passed"), report(NODE, "call", "passed"),
                       report(NODE, "teardown", "failed", "E   leaked state"))
    (case,) = c.cases
    assert (case["outcome"], case["phase"], case["entry"], case["return_sequences"], case["shape"]) == \
        ("error", "teardown", "LSTM", True, "B1T4F5U3")
    assert "leaked state" in case["message"]


def test_crash_and_collection_error_are_outcomes():
    c = collector_with(report(NODE, "???", "failed", "worker 'gw0' crashed while running 'x'"))
    c.pytest_collectreport(types.SimpleNamespace(nodeid="tests/test_bad.py", failed=True, passed=False,
                                                 skipped=False, longreprtext="SyntaxError: x", when="collect"))
    outcomes = {x["nodeid"]: x["outcome"] for x in c.cases}
    assert outcomes == {NODE: "crashed", "tests/test_bad.py": "error"}


def _doc(collector, exitstatus=0, expectations=None):
    return writers.document(collector, expectations or Expectations([], []), exitstatus)


def test_eager_table_selects_by_tag_not_by_name():
    from rnnconf.spec.contract import Leaf
    import numpy as np

    props = [tagged(args=([Leaf("output", (1, 4, 3))], [np.zeros((1, 4, 3))]), view="eager")]
    other = "tests/test_new.py::test_anything[LSTM-seq-state-B1T4F5U3-cpu]"
    symbolic = "tests/test_symbolic.py::test_functional_input[LSTM-seq-state-B1T4F5U3-cpu]"
    c = collector_with(report(other, "call", "passed", props=props),
                       report(symbolic, "call", "passed",
                              props=[tagged(args=([Leaf("output", (None, None, 3))], [(None, None, 3)]),
                                            view="symbolic")]))
    v = writers.view(_doc(c))
    (table,) = v["shape_tables"]
    cell = table["rows"][0]["cells"][3]  # seq-state
    assert cell["nodeid"] == other and cell["got"] == "[output (1, 4, 3)]"


def test_banner_is_red_on_a_non_zero_exit_and_on_an_empty_run():
    empty = collector_with()
    html = writers.render_html(_doc(empty, 5))
    assert 'class="banner bad"' in html and "No test ran" in html and "exit status 5" in html
    ok = collector_with(report(NODE, "call", "passed"))
    assert 'class="banner ok"' in writers.render_html(_doc(ok, 0))
    assert 'class="banner bad"' in writers.render_html(_doc(ok, 3))


def test_known_entries_show_expected_failure_scope_and_cases():
    entries = parse('[[xfail]]\nid = "' + NODE + '"\nraises = "AssertionError"\nmatch = "x"\n'
                    'versions = "<3.16"\nreason = "the bug"\nlink = "https://example.org/1"\n', "k.toml")
    exp = Expectations(entries, ["k.toml"], version="3.15.1", backend="tensorflow")
    c = collector_with(report(NODE, "call", "skipped", wasxfail="known"))
    doc = _doc(c, 0, exp)
    (entry,) = doc["expectations"]["entries"]
    assert entry["cases"] == [NODE] and entry["fixed_in"] == "3.16"
    html = writers.render_html(doc)
    assert "AssertionError matching /x/" in html and "fixed in 3.16" in html
    later = Expectations(entries, ["k.toml"], version="3.16.0", backend="tensorflow")
    assert "Listed, but not for this release" in writers.render_html(_doc(c, 0, later))


def test_values_get_a_column_per_test_and_tolerance():
    def deviation(nodeid, worst, tol):
        rec = CaseRecord()
        rec.deviation(worst, tol)
        return report(nodeid, "call", "passed", props=[("rnnconf", rec.json())])

    base = "tests/test_dtypes.py::test_values_under_policy[GRU-last-state-B3T4F5U3-cpu-{}]"
    c = collector_with(deviation(base.format("float64"), 1e-16, "float64: rtol=1e-12, atol=1e-12"),
                       deviation(base.format("mixed_float16"), 3e-4, "float16: rtol=0.01, atol=0.01"),
                       deviation("tests/test_values.py::test_values_match_oracle[GRU-last-state-B3T4F5U3-cpu]",
                                 1e-7, "float32: rtol=1e-05, atol=1e-05"))
    v = writers.view(_doc(c))
    assert v["value_tests"] == ["test_values_match_oracle", "test_values_under_policy (float16)",
                                "test_values_under_policy (float64)"]
    (row,) = v["value_rows"]
    assert [cell["worst"] for cell in row["cells"]] == [1e-7, 3e-4, 1e-16]


def test_matrix_groups_columns_by_device_then_mode_and_marks_not_applicable():
    grad = "tests/test_gradients.py::test_grad[LSTM-seq-state-B3T4F5U3-cpu]"
    na = "not applicable in keras 3.15.1: the numpy backend is inference-only"
    c = collector_with(report(NODE, "call", "passed"),
                       report(grad, "setup", "skipped", ("x", 0, "Skipped: " + na),
                              props=[("rnnconf.mode", "training")]))
    v = writers.view(_doc(c))
    assert [(g["device"], g["mode"], g["columns"]) for g in v["matrix_groups"]] == [
        ("cpu", "inference", ["last-nostate", "last-state", "seq-nostate", "seq-state", writers.ACROSS]),
        ("cpu", "training", ["gradients"])]
    (row,) = v["matrix"]
    # the training case counts in its own column, not in the inference seq-state column it shares axes with
    assert [(cell["status"], cell["total"]) for cell in row["cells"]] == [
        ("none", 0), ("none", 0), ("none", 0), ("passed", 1), ("none", 0), ("na", 1)]
    assert row["cells"][-1]["why"] == na
    html = writers.render_html(_doc(c))
    assert ">training<" in html and ">n/a<" in html


def test_an_entry_whose_cases_were_deselected_is_not_run_not_stale():
    toml = "".join(f'[[xfail]]\nid = "{pattern}"\nraises = "AssertionError"\nmatch = "x"\nreason = "r"\nlink = "l"\n'
                   for pattern in ("tests/test_structure.py::test_shapes[GRU-*]",
                                   "tests/test_structure.py::test_shapes[NoSuchLayer-*]"))
    expectations = Expectations(parse(toml, "made-up.toml"), ["made-up.toml"])
    c = collector_with(report(NODE, "call", "passed"))
    c.not_run = {"made-up.toml #1|tests/test_structure.py::test_shapes[GRU-*]"}  # what the hooks keep
    listed = _doc(c, expectations=expectations)["expectations"]
    assert [e["pattern"] for e in listed["stale"]] == ["tests/test_structure.py::test_shapes[NoSuchLayer-*]"]
    assert [e["pattern"] for e in listed["not_run"]] == ["tests/test_structure.py::test_shapes[GRU-*]"]
    html = writers.render_html(_doc(c, expectations=expectations))
    assert "Not run in this lane" in html and "test_shapes[GRU-*]" in html.split("Not run in this lane")[1]


def test_pair_coverage_counts_passing_rows_and_ignores_skipped_twins():
    """The report's "Options in pairs": a row covers its pairs when every case of it that ran
    passed; a GPU twin skipped where no GPU is visible neither runs nor spoils it."""
    from rnnconf.harness.report.writers import pair_coverage
    from rnnconf.spec import catalog, option_pairs, pairwise

    entry = catalog.BY_ID["GRU"]
    rows = option_pairs.rows(entry)
    cases = []
    for i, row in enumerate(rows):
        for device, outcome in (("cpu", "xfailed" if i == 0 else "passed"), ("gpu", "skipped")):
            cases.append({"test": "test_option_pairs", "entry": "GRU", "return_sequences": row["return_sequences"],
                          "return_state": row["return_state"], "params": [option_pairs.row_id(row)],
                          "device": device, "outcome": outcome})
    [got] = pair_coverage(cases)
    factors = option_pairs.factors(entry)
    required = pairwise.required_pairs(factors, option_pairs.allowed)
    assert (got["rows"], got["rows_run"], got["rows_passed"]) == (len(rows), len(rows), len(rows) - 1)
    assert got["pairs_run"] == got["required_pairs"] == len(required)
    assert got["pairs_passed"] == len(pairwise.pairs_of(rows[1:], factors) & required) < len(required)


def test_exported_models_get_a_table_per_format_and_a_matrix_column_each():
    """The Exported models section: per format, the worst outcome of a combination's checks, what
    the runtime returned and declared, the artifact's operators beside the entry; the matrix
    groups the export cases under "export", a column per format (the test's format parameter)."""
    from rnnconf.spec.contract import Leaf
    import numpy as np

    rec = CaseRecord()
    rec.returned([Leaf("output", (3, 3))], [np.zeros((3, 3))], view="exported")
    rec.note(export={"format": "onnx", "runtime": "onnxruntime", "outputs": ["Identity:0 (?, 3) float32"],
                     "operators": "fused LSTM×1 node(s) -- operators: LSTM", "recurrence": "fused LSTM×1 node(s)",
                     "extra": "producer tf2onnx 1.17.0, opset 15", "fixed": []})
    mode = ("rnnconf.mode", "export")
    structure = "tests/test_export.py::test_exported_structure[LSTM-last-nostate-B3T4F5U3-cpu-onnx]"
    values = "tests/test_export.py::test_exported_matches_oracle[LSTM-last-nostate-B3T4F5U3-cpu-onnx]"
    other = "tests/test_export.py::test_exported_structure[LSTM-last-nostate-B3T4F5U3-cpu-litert]"
    c = collector_with(report(structure, "setup", "passed", props=[mode]),
                       report(structure, "call", "passed", props=[mode, ("rnnconf", rec.json())]),
                       report(values, "setup", "passed", props=[mode]),
                       report(values, "call", "failed", "AssertionError: h differs", props=[mode]),
                       report(other, "setup", "passed", props=[mode]), report(other, "call", "passed", props=[mode]))
    v = writers.view(_doc(c, exitstatus=1))
    onnx, litert = v["exported"]["tables"]  # in the order Keras lists the formats
    assert (onnx["format"], onnx["runtime"], litert["format"]) == ("onnx", "onnxruntime", "litert")
    (row,) = onnx["rows"]
    assert row["entry"] == "LSTM" and row["recurrence"] == "fused LSTM×1 node(s)"
    cell = row["cells"][0]  # last-nostate: the worst of its checks, what the runtime returned and declared
    assert cell["outcome"] == "failed" and cell["got"] == "[output (3, 3)]"
    assert cell["declared"] == ["Identity:0 (?, 3) float32"] and cell["checks"] == {"passed": 1, "failed": 1}
    assert [g["mode"] for g in v["matrix_groups"]] == ["export"]  # no inference case ran: no inference group
    assert v["matrix_groups"][0]["columns"] == ["onnx", "litert"]
    html = writers.render_html(_doc(c, exitstatus=1))
    assert 'id="exported"' in html and "fused LSTM×1 node(s)" in html


def test_exported_models_under_a_dtype_policy_get_a_table_of_their_own():
    """A dtype-policy test's known failure does not colour the float32 artifact's cell: each
    policy is its own table (format, then policy), titled with the policy."""
    mode = ("rnnconf.mode", "export")
    plain = "tests/test_export.py::test_exported_matches_oracle[GRU-last-nostate-B3T4F5U3-cpu-onnx]"
    policy = "tests/test_export.py::test_exported_values_under_policy[GRU-last-nostate-B3T4F5U3-cpu-onnx-float64]"
    c = collector_with(report(plain, "setup", "passed", props=[mode]), report(plain, "call", "passed", props=[mode]),
                       report(policy, "setup", "passed", props=[mode]),
                       report(policy, "call", "failed", "RuntimeException: no double", props=[mode]))
    v = writers.view(_doc(c, exitstatus=1))
    float32, float64 = v["exported"]["tables"]
    assert (float32["format"], float32["policy"], float64["format"], float64["policy"]) == ("onnx", "", "onnx", "float64")
    assert float32["rows"][0]["cells"][0]["outcome"] == "passed"
    assert float64["rows"][0]["cells"][0]["outcome"] == "failed"
    assert 'onnx, layers made with dtype="float64" on cpu' in writers.render_html(_doc(c, exitstatus=1))
