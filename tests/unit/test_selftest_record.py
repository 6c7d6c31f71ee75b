"""The self-tests' controls read the suite's own record only when it is of the same sources and
the same implementation (tests/selftest/suite.py, ``recorded``), and a recorded failure of a
control's case fails the control."""

from __future__ import annotations

import json
import types

import pytest

import tests.selftest.suite as suite
from rnnconf.harness import tree
from tests.selftest import test_fakes

IMPL = types.SimpleNamespace(spec="keras", version="3.15.1", flavor="keras3", backend="tensorflow",
                             backend_version="2.21.0", settings="")
CASES = [{"nodeid": "tests/t.py::test_a[X-cpu]", "outcome": "passed", "device": "cpu"},
         {"nodeid": "tests/t.py::test_a[Y-cpu]", "outcome": "failed", "device": "cpu"},
         {"nodeid": "tests/t.py::test_a[X-gpu]", "outcome": "passed", "device": "gpu"}]


def _record(tmp_path, monkeypatch, **changes):
    impl = {k: getattr(IMPL, "spec" if k == "impl" else k) for k in suite.SAME_IMPLEMENTATION}
    record = {"tree": tree.digest(), "implementation": impl | changes.pop("implementation", {}),
              "cases": CASES} | changes
    path = tmp_path / "shapes.json"
    path.write_text(json.dumps(record))
    monkeypatch.setattr(suite, "RECORDS", (path, tmp_path / "absent.json"))
    suite._recorded.cache_clear()


def test_a_record_of_the_same_sources_and_implementation_is_read(tmp_path, monkeypatch):
    _record(tmp_path, monkeypatch)
    assert suite.recorded(IMPL) == {"tests/t.py::test_a[X-cpu]": "passed", "tests/t.py::test_a[Y-cpu]": "failed"}


@pytest.mark.parametrize("changes", [{"tree": "another"}, {"implementation": {"version": "3.14.1"}},
                                     {"implementation": {"settings": "oneDNN CPU kernels on"}}],
                         ids=["other-sources", "other-release", "other-backend-settings"])
def test_a_record_of_other_sources_or_another_implementation_is_not_read(tmp_path, monkeypatch, changes):
    _record(tmp_path, monkeypatch, **changes)
    assert suite.recorded(IMPL) == {}


def test_a_control_fails_on_a_recorded_failure_without_running_anything(tmp_path, monkeypatch):
    _record(tmp_path, monkeypatch)
    monkeypatch.setattr(test_fakes.Expectations, "for_run", classmethod(lambda cls, *a: cls([], [])))
    ran = []
    monkeypatch.setattr(test_fakes, "run_suite", lambda *a, **k: ran.append(a))
    with pytest.raises(AssertionError, match=r"test_a\[Y-cpu\]: failed in the suite's record, expected passed"):
        test_fakes.assert_keras_passes(None, monkeypatch, IMPL, {"tests/t.py::test_a[X-cpu]", "tests/t.py::test_a[Y-cpu]"})
    test_fakes.assert_keras_passes(None, monkeypatch, IMPL, {"tests/t.py::test_a[X-cpu]"})
    assert ran == []  # every node id was in the record
