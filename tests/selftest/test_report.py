"""The reports tell a reader what failed: run a small selection on a broken fake and read
shapes.json and shapes.html as a user would."""

import json

import pytest

from rnnconf import catalog

from .suite import REPO, catalog_ids

pytestmark = pytest.mark.selftest
pytest_plugins = ["pytester"]


def test_reports_name_the_failures(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    out = pytester.path / "out"
    result = pytester.runpytest_subprocess(
        str(REPO / "tests/test_structure.py"), "-c", str(REPO / "pyproject.toml"), "--rootdir", str(REPO),
        "-p", "no:randomly", "-p", "no:xdist", "--impl", "fixtures.broken.wrong_arity",
        "-k", f"test_arity and (LSTM- or GRU-) and {catalog.NOTEBOOK_SHAPE.id}", "--report-dir", str(out), timeout=300)
    assert result.ret == 1, result.stdout.str()[-2000:]

    doc = json.loads((out / "shapes.json").read_text())
    assert doc["schema"] == "rnn-conformance/shapes/1"
    assert doc["implementation"]["impl"] == "fixtures.broken.wrong_arity"
    failing = catalog_ids("tests/test_structure.py", "test_arity", ["LSTM"], return_state=[True],
                          shapes=[catalog.NOTEBOOK_SHAPE])
    by_id = {c["nodeid"]: c for c in doc["cases"]}
    assert {n for n, c in by_id.items() if c["outcome"] == "failed"} == failing
    assert all("expected 3 items" in by_id[n]["message"] for n in failing), [by_id[n]["message"] for n in failing]
    assert doc["summary"]["failed"] == len(failing) and doc["summary"]["passed"] > 0
    gpu = [c for c in doc["cases"] if c["device"] == "gpu"]
    assert gpu and all(c["outcome"] == "skipped" and "no GPU visible" in c["message"] for c in gpu)

    html = (out / "shapes.html").read_text()
    assert "This implementation does not conform" in html
    for nodeid in failing:
        assert nodeid in html, f"{nodeid} is not listed in shapes.html"
    assert "fixtures.broken.wrong_arity" in html

