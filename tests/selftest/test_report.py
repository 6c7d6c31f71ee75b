"""The reports tell a reader what happened: run small selections on broken fakes and read
shapes.json and shapes.html as a user would -- failures named, a teardown error, a worker that
died mid-run, an empty collection, a GPU probe that raised; and no absolute path of the machine."""

from __future__ import annotations

import json
import os
import re

import pytest

from rnnconf.spec import catalog

from .suite import HERE, REPO, TIMEOUT_S, catalog_ids, run_in_process

pytestmark = pytest.mark.selftest
pytest_plugins = ["pytester"]
NB = catalog.NOTEBOOK_SHAPE.id
STRUCTURE = "tests/test_structure.py"


def _run(pytester, monkeypatch, impl, *args, files=(STRUCTURE,), workers=0):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), str(HERE)]))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    out = pytester.path / "out"
    dist = ["-n", str(workers)] if workers else ["-p", "no:xdist"]
    argv = [*(str(REPO / f) for f in files), "-c", str(REPO / "pyproject.toml"), "--rootdir", str(REPO),
            "-p", "no:randomly", *dist, "--impl", impl, "--report-dir", str(out), "--expectations", "none",
            *args]
    # xdist's workers are processes of their own; a run without them is made in this process
    result = (pytester.runpytest_subprocess(*argv, timeout=TIMEOUT_S) if workers
              else run_in_process(pytester, argv))
    doc = json.loads((out / "shapes.json").read_text()) if (out / "shapes.json").is_file() else None
    html = (out / "shapes.html").read_text() if (out / "shapes.html").is_file() else ""
    return result, doc, html


def _no_machine_paths(doc, html):
    text = json.dumps(doc) + html
    for prefix in {str(REPO), str(REPO.resolve()), os.path.expanduser("~"), "/usr/", "/opt/"}:
        assert prefix not in text, f"the report names the machine's path {prefix!r}"


def test_reports_name_the_failures(pytester, monkeypatch):
    result, doc, html = _run(pytester, monkeypatch, "fixtures.broken.wrong_arity",
                             "-k", f"test_arity and (LSTM- or GRU-) and {NB}")
    assert result.ret == 1, result.stdout.str()[-2000:]
    assert doc["schema"] == "rnn-conformance/shapes/3"
    assert doc["implementation"]["impl"] == "fixtures.broken.wrong_arity"
    assert doc["exit_status"] == 1
    failing = catalog_ids(STRUCTURE, "test_arity", ["LSTM"], return_state=[True], shapes=[catalog.NOTEBOOK_SHAPE])
    by_id = {c["nodeid"]: c for c in doc["cases"]}
    assert {n for n, c in by_id.items() if c["outcome"] == "failed"} == failing
    assert all("expected 3 items" in by_id[n]["message"] for n in failing), [by_id[n]["message"] for n in failing]
    assert doc["summary"]["failed"] == len(failing) and doc["summary"]["passed"] > 0
    # no GPU is visible: each CPU case's GPU twin is deselected, counted, and said to be
    assert not [c for c in doc["cases"] if c.get("device") == "gpu"]
    assert doc["implementation"]["gpu_cases_deselected"] == doc["summary"]["total"]
    assert re.search(rf"rnn-conformance: {doc['summary']['total']} GPU case\(s\) deselected: no GPU visible to ",
                     result.stdout.str()), result.stdout.str()[-2000:]
    assert f"{doc['summary']['total']} GPU cases deselected, not run" in html
    assert re.search(r'class="banner bad">\s*<b>pytest exit status 1</b>', html)
    assert "This implementation does not conform" in html
    for nodeid in failing:
        assert nodeid in html, f"{nodeid} is not listed in shapes.html"
    _no_machine_paths(doc, html)


def test_a_teardown_error_reaches_the_report(pytester, monkeypatch):
    result, doc, html = _run(pytester, monkeypatch, "fixtures.broken.leaks_global_policy",
                             "-k", f"test_arity and [LSTM-last-nostate-{NB}-cpu", "--device", "cpu")
    assert result.ret == 1, result.stdout.str()[-2000:]
    (case,) = doc["cases"]
    assert case["outcome"] == "error" and case["phase"] == "teardown", case
    assert "leaked Keras global state" in case["message"]
    assert doc["summary"]["error"] == 1 and doc["exit_status"] == 1
    assert re.search(r'class="banner bad">\s*<b>pytest exit status 1</b>', html)
    assert "error in teardown" in html


def test_a_dying_worker_is_a_reported_crash(pytester, monkeypatch):
    """A worker killed mid-run (os._exit, as a segfault would) must not hang the case scheduler:
    the run ends, exits non-zero, and the report names the case that was running as a crash;
    the rest of its case group runs elsewhere. One crash is enough to show it: each costs a
    replacement worker that imports the backend again. One worker is enough too: the rest of the
    group then runs on its replacement, and each worker more imports the backend once more."""
    result, doc, html = _run(pytester, monkeypatch, "fixtures.broken.crashes_worker",
                             "-k", f"test_arity and {NB} and ([LSTM-last-nostate- or [LSTM-seq- or [GRU-)",
                             "--device", "cpu", workers=1)
    assert result.ret == 1, result.stdout.str()[-3000:]
    crashed = catalog_ids(STRUCTURE, "test_arity", ["LSTM"], return_sequences=[False], return_state=[False],
                          shapes=[catalog.NOTEBOOK_SHAPE])
    passed = (catalog_ids(STRUCTURE, "test_arity", ["GRU"], shapes=[catalog.NOTEBOOK_SHAPE])
              | catalog_ids(STRUCTURE, "test_arity", ["LSTM"], return_sequences=[True], shapes=[catalog.NOTEBOOK_SHAPE]))
    by_id = {c["nodeid"]: c for c in doc["cases"]}
    assert {n for n, c in by_id.items() if c["outcome"] == "crashed"} == crashed, \
        {n: c["outcome"] for n, c in by_id.items()}
    assert all(by_id[n]["outcome"] == "passed" for n in passed), {n: by_id.get(n) for n in passed}
    assert all(re.search(r"worker 'gw\d+' crashed while running", by_id[n]["message"]) for n in crashed)
    assert doc["summary"]["crashed"] == len(crashed)
    assert re.search(r'class="banner bad">\s*<b>pytest exit status 1</b>', html)
    for nodeid in crashed:
        assert nodeid in html


def test_an_empty_run_replaces_the_old_report(pytester, monkeypatch):
    out = pytester.path / "out"
    out.mkdir()
    (out / "shapes.json").write_text('{"stale": "a previous run"}')
    (out / "shapes.html").write_text("a previous run")
    result, doc, html = _run(pytester, monkeypatch, "keras", "-k", "no_test_has_this_name")
    assert result.ret == int(pytest.ExitCode.NO_TESTS_COLLECTED), result.stdout.str()[-2000:]
    assert doc["exit_status"] == 5 and doc["summary"]["total"] == 0 and "stale" not in doc
    assert re.search(r'class="banner bad">\s*<b>pytest exit status 5</b> \(no test was collected\)', html)
    assert "No test ran" in html


def test_a_raising_gpu_probe_is_reported(pytester, monkeypatch):
    result, doc, html = _run(pytester, monkeypatch, "keras", "-p", "raising_probe_plugin",
                             "-k", f"test_arity and [LSTM-last-nostate-{NB}-")
    assert result.ret == 0, result.stdout.str()[-2000:]
    said = "RuntimeError: selftest: CUDA driver initialization failed"
    assert f"the GPU probe raised {said}" in result.stdout.str()
    assert doc["implementation"]["gpu_probe_error"] == said
    assert not [c for c in doc["cases"] if c.get("device") == "gpu"]
    assert doc["implementation"]["gpu_cases_deselected"] == 1
    assert re.search(r"1 GPU case\(s\) deselected: no GPU visible to .*" + re.escape(f"(the GPU probe raised {said})"),
                     result.stdout.str()), result.stdout.str()[-2000:]
    assert said in html and "1 GPU case deselected, not run" in html
    required = run_in_process(pytester, [
        str(REPO / STRUCTURE), "-c", str(REPO / "pyproject.toml"), "--rootdir", str(REPO), "-p", "no:randomly",
        "-p", "no:xdist", "-p", "raising_probe_plugin", "--impl", "keras", "--require-gpu", "--no-report"])
    assert required.ret == int(pytest.ExitCode.USAGE_ERROR)
    assert re.search(r"--require-gpu: no GPU is visible .* The GPU probe raised " + re.escape(said),
                     required.stderr.str()), required.stderr.str()[-2000:]


def test_a_collection_error_reaches_the_report(pytester, monkeypatch):
    """A test module that cannot be imported: pytest stops (exit 2); the report names the module."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), str(HERE)]))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    pytester.makepyfile(test_cannot_import="raise RuntimeError('selftest: this module cannot be imported')\n")
    out = pytester.path / "out"
    result = run_in_process(pytester, [
        "-p", "rnnconf.harness.plugin", "-p", "no:randomly", "-p", "no:xdist", "--impl", "keras",
        "--report-dir", str(out)])
    assert result.ret == int(pytest.ExitCode.INTERRUPTED), result.stdout.str()[-2000:]
    doc = json.loads((out / "shapes.json").read_text())
    (case,) = doc["cases"]
    assert case["nodeid"] == "test_cannot_import.py" and case["outcome"] == "error" and case["phase"] == "collect"
    assert "selftest: this module cannot be imported" in case["message"]
    html = (out / "shapes.html").read_text()
    assert re.search(r'class="banner bad">\s*<b>pytest exit status 2</b> \(interrupted\)', html)
    assert "test_cannot_import.py" in html and "error in collect" in html


def test_an_option_a_release_lacks_is_not_applicable(pytester, monkeypatch):
    """An LSTM whose constructor names no use_cudnn and refuses it (as Keras 3.0/3.1 did): its
    use_cudnn cases are "not applicable in <module> <version>" -- skipped, counted and shown as
    n/a, never failed -- while the same LSTM's other cases and GRU's use_cudnn cases run."""
    shape = catalog.OPTION_SHAPES[0]
    result, doc, html = _run(pytester, monkeypatch, "fixtures.broken.older_release_lstm", "--device", "cpu",
                             "-k", f"test_use_cudnn_matches_oracle and ([LSTM- or [GRU-) and {shape.id}",
                             files=("tests/test_cudnn.py",))
    assert result.ret == 0, result.stdout.str()[-2000:]
    lstm = catalog_ids("tests/test_cudnn.py", "test_use_cudnn_matches_oracle", ["LSTM"], shapes=[shape],
                       extra=("auto", "false"))
    gru = catalog_ids("tests/test_cudnn.py", "test_use_cudnn_matches_oracle", ["GRU"], shapes=[shape],
                      extra=("auto", "false"))
    by_id = {c["nodeid"]: c for c in doc["cases"]}
    assert set(by_id) == lstm | gru
    said = (f"not applicable in fixtures.broken.older_release_lstm {keras_version()}: layers.LSTM() takes no argument "
            "'use_cudnn': no constructor on its path (LSTM -> RNN -> Layer")
    for nodeid in lstm:
        case = by_id[nodeid]
        assert case["outcome"] == "skipped" and case.get("not_applicable", "").startswith(said), case
    assert all(by_id[n]["outcome"] == "passed" and "not_applicable" not in by_id[n] for n in gru)
    assert doc["summary"]["not_applicable"] == len(lstm) and doc["summary"]["failed"] == 0
    assert f"{len(lstm)} of the skipped are <b>not applicable</b>" in html


def test_an_option_a_release_stopped_forwarding_fails(pytester, monkeypatch):
    """An LSTM that refuses zero_output_for_mask, naming it, although RNN -- on its constructor's
    path through **kwargs -- takes it: a forwarding regression fails (never n/a), while the
    same tests on GRU pass in the same run."""
    shape = catalog.MASK_SHAPES[0]
    tests = ("test_zero_output_for_mask_output", "test_zero_output_for_mask_states")
    result, doc, html = _run(pytester, monkeypatch, "fixtures.broken.drops_forwarded_option", "--device", "cpu",
                             "-k", f"({' or '.join(tests)}) and ([LSTM- or [GRU-) and {shape.id}",
                             files=("tests/test_masking.py",))
    assert result.ret == 1, result.stdout.str()[-2000:]
    by_test = {}
    for case in doc["cases"]:
        by_test.setdefault((case["test"], case["entry"]), []).append(case)
    for test in tests:
        lstm = by_test[(test, "LSTM")]
        # GRU's output with return_sequences=False is keras #17596 (an expectation; none here)
        gru = [c for c in by_test[(test, "GRU")] if test.endswith("states") or c["return_sequences"]]
        assert lstm and all(c["outcome"] == "failed" and "not_applicable" not in c and
                            "unexpected keyword argument 'zero_output_for_mask'" in c["message"] for c in lstm), lstm
        assert gru and all(c["outcome"] == "passed" for c in gru), gru
    assert doc["summary"]["not_applicable"] == 0


def keras_version():
    import importlib.metadata

    return importlib.metadata.version("keras")


def test_a_missing_layer_is_a_failure_not_not_applicable(pytester, monkeypatch):
    """A module without GRU fails GRU's cases (a missing layer is a nonconformance, not an
    option a release lacks)."""
    result, doc, html = _run(pytester, monkeypatch, "fixtures.broken.missing_gru", "--device", "cpu",
                             "-k", f"test_arity and [GRU- and {NB}")
    assert result.ret == 1, result.stdout.str()[-2000:]
    assert doc["summary"]["not_applicable"] == 0 and doc["summary"]["failed"] == 4
    assert all("has no layers.GRU" in c["message"] for c in doc["cases"])


def test_shards_cover_the_run_once_and_join_back(pytester, monkeypatch):
    """--shard 1/2 and 2/2 run disjoint halves (every test of a case in one shard) that together
    are the whole selection; python -m rnnconf merge-shards joins them into the unsharded run."""
    from rnnconf.harness.caseid import parse_case_id
    from rnnconf.tools.matrix import shards

    # the built-in layers and their RNN(cell) forms: 56 cases in seven case groups, which the shard
    # hash splits over both halves
    select = ("-k", f"(test_arity or test_shapes) and {NB} and ([LSTM- or [GRU- or [SimpleRNN- or [RNN_)",
              "--device", "cpu")
    whole = _run(pytester, monkeypatch, "keras", *select)[1]
    halves = [_run(pytester, monkeypatch, "keras", *select, "--shard", f"{i}/2")[1] for i in (1, 2)]
    ids = [{c["nodeid"] for c in h["cases"]} for h in halves]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    assert ids[0] | ids[1] == {c["nodeid"] for c in whole["cases"]}
    groups = [{parse_case_id(n).group for n in i} for i in ids]
    assert not groups[0] & groups[1], "a case's tests were split over two shards"
    assert [h["shard"] for h in halves] == [{"index": 1, "count": 2}, {"index": 2, "count": 2}]
    joined = shards.join(halves)
    assert "shard" not in joined and joined["summary"] == whole["summary"]
    assert [c["nodeid"] for c in joined["cases"]] == [c["nodeid"] for c in whole["cases"]]


def test_what_the_implementation_warns_is_recorded_not_an_error(pytester, monkeypatch):
    """A FutureWarning at import and at every LSTM call: the run goes on and passes; the header
    and the report name the import-time warning, the report counts the call-time one."""
    result, doc, html = _run(pytester, monkeypatch, "fixtures.broken.warns", "--device", "cpu",
                             "-k", f"test_arity and [LSTM- and {NB}")
    assert result.ret == 0, result.stdout.str()[-2000:]
    assert doc["summary"]["passed"] == 4 and doc["summary"]["total"] == 4
    said = "FutureWarning: selftest: an implementation that warns at import (fixtures/broken/warns.py:"
    assert re.search(r"rnn-conformance: the implementation warned at import: " + re.escape(said),
                     result.stdout.str()), result.stdout.str()[:3000]
    assert any(w.startswith(said) for w in doc["implementation"]["warnings_at_import"])
    (at_call,) = [w for w in doc["warnings"] if w["message"] == "selftest: an implementation that warns at every call"]
    assert at_call["category"] == "FutureWarning" and at_call["count"] >= 4 and at_call["where"].startswith(
        "fixtures/broken/warns.py:")
    assert "selftest: an implementation that warns at import" in html and \
        "selftest: an implementation that warns at every call" in html.split('id="warnings"')[1]
    _no_machine_paths(doc, html)


def test_an_open_behaviour_is_a_divergence_not_a_failure(pytester, monkeypatch):
    """Where the documentation leaves a value open (rnnconf/spec/unspecified.py), an
    implementation that makes another listed choice passes, and the report and the last lines
    name each case as a divergence with its choice; its other cases follow the oracle's choice
    and are no divergence. (unspecified_leading_wrong, a value no choice gives, fails:
    test_fakes_options.py.)"""
    b3 = catalog.OPTION_SHAPES[0].id
    result, doc, html = _run(pytester, monkeypatch, "fixtures.broken.unspecified_leading_first_state",
                             "--device", "cpu", "-k", f"test_mask_matches_oracle and [Custom_InitCell- and {b3}",
                             files=("tests/test_masking.py",))
    assert result.ret == 0, result.stdout.str()[-3000:]
    cases = doc["cases"]
    assert len(cases) == 12 and all(c["outcome"] == "passed" for c in cases)
    leading = {c["nodeid"] for c in cases if c["nodeid"].endswith("-fully_masked_row]")}
    assert len(leading) == 4
    (behaviour,) = [b for b in doc["unspecified"] if b["key"] == "leading-masked-output"]
    assert behaviour["oracle_choice"] == "zeros"
    assert [(d["choice"], set(d["cases"])) for d in behaviour["diverged"]] == [("first_state", leading)]
    assert all(not b["diverged"] for b in doc["unspecified"] if b["key"] != "leading-masked-output")
    assert {c["nodeid"] for c in cases if c.get("divergences")} == leading
    result.stdout.fnmatch_lines(["rnn-conformance: divergences where the documentation leaves the value open "
                                 "*leading-masked-output = first_state in 4 case(s)"])
    section = html.split('id="divergences"')[1].split("<h2")[0]
    assert "4 case(s) follow <code>first_state</code>" in section and "odd-same-padding" in section


def test_a_warning_from_the_suites_own_code_fails_its_test(pytester, monkeypatch):
    """The suite's own code stays strict: a test module that warns fails (pyproject's filters)."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), str(HERE)]))
    pytester.makepyfile(test_suite_warns="import warnings\n\ndef test_warns():\n"
                                         "    warnings.warn('selftest: the suite warns', UserWarning)\n")
    result = run_in_process(pytester, ["-c", str(REPO / "pyproject.toml"), "-p", "no:randomly",
                                       "-p", "no:xdist", "test_suite_warns.py"])
    assert result.ret == 1, result.stdout.str()[-2000:]
    result.stdout.fnmatch_lines(["*UserWarning: selftest: the suite warns*", "*1 failed*"])


def test_an_inference_only_backend_runs_training_mode_but_not_gradients(pytester, monkeypatch):
    """On a backend without autodiff (numpy, OpenVINO; simulated here), gradients and fit are
    n/a with the backend's reason, while training=True forward calls -- the dropout masks --
    still run and pass."""
    result, doc, html = _run(pytester, monkeypatch, "keras", "--device", "cpu", "-p", "inference_only_plugin",
                             "-k", "(test_input_dropout_mask or test_gradients_match_oracle) and [SimpleRNN-",
                             files=("tests/test_training_mode.py", "tests/test_gradients.py"))
    assert result.ret == 0, result.stdout.str()[-2000:]
    by_test = {}
    for case in doc["cases"]:
        by_test.setdefault(case["test"], []).append(case)
    assert [c["outcome"] for c in by_test["test_input_dropout_mask"]] == ["passed"]
    gradients = by_test["test_gradients_match_oracle"]
    assert gradients and all(c["outcome"] == "skipped" and "selftest: this backend is inference-only"
                             in c.get("not_applicable", "") for c in gradients), gradients
