"""A plugin for the INNER pytest runs of the self-tests: one outcome per node id, as JSON.

Loaded with ``-p outcomes_plugin --selftest-outcomes PATH``. It depends on nothing of the
suite's own reporting, so a self-test still reads outcomes while the reports change. The
outcome of a node is its call's (passed / failed / skipped / xfailed / xpassed), ``error`` when
setup or teardown failed; ``message`` is what the failure said: the ``E`` lines of pytest's
report (the assertion's own text, without the test's source, which may quote the very words a
self-test looks for), or the whole text when there are none (``pytest.fail(pytrace=False)``);
``frames`` is the failure's traceback as ``[path, line]`` pairs, innermost last, unfiltered (the
assertion-site self-test finds which assertion reported it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

_CASES: dict[str, dict] = {}
_FRAMES: dict[str, list] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--selftest-outcomes", required=True, metavar="PATH",
                     help="write {nodeid: {outcome, message}} to PATH at the end of the session")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if call.excinfo is not None and item.nodeid not in _FRAMES:
        _FRAMES[item.nodeid] = [[str(e.path), e.lineno + 1] for e in call.excinfo.traceback]
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    case = _CASES.setdefault(report.nodeid, {"outcome": "passed", "message": ""})
    if report.when == "call" or not report.passed:
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "xpassed"
        elif report.when != "call" and report.failed:
            outcome = "error"
        else:
            outcome = report.outcome
        if case["outcome"] != "error":  # a teardown error after a pass or failure is an error
            case["outcome"] = outcome
        text = _said(report.longreprtext) if not report.passed else ""
        case["message"] = "\n".join(filter(None, [case["message"], text]))


def _said(text: str) -> str:
    said = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    return "\n".join(said) if said else text.strip()


def pytest_sessionfinish(session: pytest.Session) -> None:
    for nodeid, frames in _FRAMES.items():
        if nodeid in _CASES:
            _CASES[nodeid]["frames"] = frames
    Path(session.config.getoption("--selftest-outcomes")).write_text(json.dumps(_CASES, indent=1))
