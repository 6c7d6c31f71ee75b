"""``-k`` applied at parametrization (rnnconf/harness/keyword.py) never changes a selection: for
each expression, the items a run collects with the pruning and without it
(``-p no:rnnconf.harness.keyword``) are the same node ids, and the pruning made fewer items (else
this would prove nothing). Four expressions reach every kind of name ``-k`` reads: parts of the
parameter ids, a parameter id a decorator adds (the export format) and a word across both, the
module, markers of the function and of its module, a function name, and ``not``, which an
over-eager pruning would get wrong. An expectation entry whose cases ``-k`` leaves out is "not run in this lane", with
the pruning as without it."""

from __future__ import annotations

import re

import pytest

from .suite import REPO, run_in_process

pytestmark = pytest.mark.selftest
pytest_plugins = ["pytester"]
OFF = ("-p", "no:rnnconf.harness.keyword")

SELECTIONS = [
    # parameter ids, `not`, and a word the pruning must read as pytest does (none of these ids)
    (("tests/test_structure.py",), "test_shapes and not seq and not (LSTM or GRU)"),
    # a decorator's parameter id (the export format), a word across the axes' ids and it, the module
    (("tests/test_export.py",), "test_export and cpu-onnx and [LSTM-seq- and not policy"),
    # a marker of the module (autodiff, mode) and of the function (default_lane)
    (("tests/test_fit.py",), "autodiff and default_lane and [LSTM-"),
    # two modules, a function's name under `not`
    (("tests/test_values.py", "tests/test_structure.py"), "not test_values and not B1T4 and [RNN_GRUCell-"),
]


def _argv(files, *args):
    """An inner run of ``files`` on Keras, CPU cases, no report."""
    return [*(str(REPO / f) for f in files), "-c", str(REPO / "pyproject.toml"), "--rootdir", str(REPO),
            "-p", "no:randomly", "-p", "no:xdist", "--impl", "keras", "--device", "cpu", "--no-report", *args]


def _collect(pytester, files, expr, *extra):
    result = run_in_process(pytester, _argv(files, "--export", "all", "--collect-only", "-q", "-k", expr, *extra))
    out = result.stdout.str()
    assert result.ret in (0, 5), out[-3000:]  # 5: -k selected nothing (the caller says if that is wrong)
    ids = {line for line in out.splitlines() if "::" in line and not line.startswith(" ")}
    made = re.search(r"(\d+)/(\d+) tests? collected|(\d+) tests? collected|no tests collected \((\d+) deselected\)", out)
    assert made, out[-2000:]
    return ids, int(made.group(2) or made.group(3) or made.group(4))


@pytest.mark.parametrize("files,expr", SELECTIONS, ids=[e for _, e in SELECTIONS])
def test_pruning_selects_what_k_selects(pytester, monkeypatch, files, expr):
    pruned, made_pruned = _collect(pytester, files, expr)
    whole, made_whole = _collect(pytester, files, expr, *OFF)
    assert whole, f"-k {expr!r} selects nothing: the comparison shows nothing"
    assert pruned == whole, (f"-k {expr!r}: only with the pruning {sorted(pruned - whole)[:5]}, "
                             f"only without it {sorted(whole - pruned)[:5]}")
    assert made_pruned < made_whole, f"-k {expr!r}: the pruning made {made_pruned} items of {made_whole}"


def test_a_pruning_that_misreads_a_name_is_caught(pytester, monkeypatch):
    """The comparison above can fail: a pruning that leaves the markers out of the names
    (markerless_keyword_plugin) drops the cases -k selects by a marker."""
    files, expr = ("tests/test_fit.py",), "autodiff and [LSTM-"
    broken, _ = _collect(pytester, files, expr, "-p", "markerless_keyword_plugin")
    whole, _ = _collect(pytester, files, expr, *OFF)
    assert whole and broken != whole, (len(broken), len(whole))


def test_an_entry_whose_cases_k_leaves_out_is_not_run_not_stale(pytester, monkeypatch):
    toml = pytester.path / "gru_only.toml"
    toml.write_text('[[xfail]]\nid = "tests/test_structure.py::test_arity[GRU-*]"\nraises = "AssertionError"\n'
                    'match = "never"\nreason = "an entry no LSTM case matches"\n'
                    'link = "none: a self-test of the selection"\n')
    lines = []
    for extra in ((), OFF):
        result = run_in_process(pytester, _argv(("tests/test_structure.py",), "--expectations", str(toml),
                                                "-k", "test_arity and [LSTM-last-nostate-B1T4F5U3", *extra))
        out = result.stdout.str()
        assert result.ret == 0, out[-3000:]
        assert "stale expectations" not in out, out[-2000:]
        lines.append([line for line in out.splitlines() if "not run in this lane" in line])
    assert lines[0] and lines[0] == lines[1], lines
