"""Records: what each test saw and how it ended, as plain built-in types, gathered on the
controller.

A test fills its :class:`CaseRecord` (the ``record`` fixture) through tagged methods --
``returned(...)`` for a returned structure, ``deviation(...)`` for a comparison with a reference,
``note(...)`` for anything else -- and the writers select records by those tags, never by test
name. The record travels as a user property of the test report (pytest-xdist carries those from
workers to the controller), where the :class:`Collector` gathers *every* outcome: each phase of
each test (setup and teardown errors included), collection errors, and the test that was running
when an xdist worker died.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from rnnconf.spec import contract
from rnnconf.harness.caseid import parse_case_id
from rnnconf.harness.outcomes import NOT_APPLICABLE, SEVERITY

RECORD_KEY = "rnnconf"
RECORD_STASH = pytest.StashKey["CaseRecord"]()


class CaseRecord:
    """What one test saw, by kind."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def returned(self, expected: Any, got: Any, *, view: str, containers: str = "",
                 dtypes: Any = None, placements: list[str] | None = None) -> None:
        """A returned structure. ``view``: ``eager`` (a call on arrays), ``symbolic`` (a call on
        ``keras.Input``) or ``compute_output_shape``. ``got`` is the returned tree (arrays or shape
        tuples), labelled with the expected roles for the report."""
        self.data["returned"] = {
            "view": view, "expected": contract.describe(expected),
            "got": contract.describe_returned(expected, got), "containers": containers,
            "dtypes": sorted(set(contract.flatten(dtypes))) if dtypes is not None else [],
            "placements": list(placements or []),
        }

    def deviation(self, max_abs_diff: float, tolerance: str, *, against: str = "oracle") -> None:
        """The worst |difference| from a reference (``oracle``, or ``self`` when an
        implementation is compared with itself), and the tolerance it was held to."""
        self.data["deviation"] = {"max_abs_diff": float(max_abs_diff), "tolerance": tolerance,
                                  "against": against}

    def divergence(self, behaviour: str, choice: str, *, oracle: str) -> None:
        """The case's values follow ``choice`` of a behaviour the documentation leaves open
        (rnnconf/spec/unspecified.py), not the oracle's; ``oracle``: how far off the oracle's
        choice was (its first failed claim)."""
        self.data.setdefault("divergences", []).append(
            {"behaviour": behaviour, "choice": choice, "oracle": oracle})

    def note(self, **values: Any) -> None:
        self.data.setdefault("notes", {}).update(values)

    def json(self) -> str:
        return json.dumps(self.data, default=str)


def outcome_of(report: Any) -> str:
    """passed / failed / error / crashed / skipped / xfailed / xpassed, as a reader means them."""
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.failed and report.when not in ("setup", "call", "teardown", "collect"):
        return "crashed"  # xdist's report for the test that was running when its worker died
    if report.failed and report.when in ("setup", "teardown", "collect"):
        return "error"
    return report.outcome


def message_of(report: Any) -> str:
    if report.passed:
        return ""
    if report.skipped:
        if hasattr(report, "wasxfail"):
            return report.wasxfail
        longrepr = report.longrepr
        return longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    text = getattr(report, "longreprtext", "") or ""
    # xdist heads a worker's report with "[gw0] linux -- Python ...": where it ran, not what failed
    text = "\n".join(line for line in text.splitlines() if not re.match(r"\[gw\d+\] \w+ -- Python ", line))
    # The assertion's own sentence is the most useful part: the "E   " lines, after any
    # verdict of a known-nonconformance entry (which heads the text).
    lines = text.strip().splitlines()
    e_lines = [line[4:] if line.startswith("E   ") else line[1:].strip()
               for line in lines if line.startswith("E ")]
    if not e_lines:
        return "\n".join(lines[-12:])
    # Hypothesis prints the example after the exception: keep the exception, then the example's head
    example = next((i for i, line in enumerate(e_lines)
                    if line.startswith(("Falsifying example", "Failing explicit example"))), None)
    if example:
        return "\n".join(e_lines[:example][-8:] + e_lines[example:example + 4])
    if e_lines[0].startswith("a known nonconformance"):  # a verdict heads the text: keep it
        return "\n".join([e_lines[0], *e_lines[1:][-11:]])
    return "\n".join(e_lines[-12:])


class Collector:
    """Registered on the controller only; one merged record per node id."""

    def __init__(self, implementation: dict[str, Any], clean: Any = lambda text: text,
                 shard: tuple[int, int] | None = None) -> None:
        self.implementation = implementation
        self.shard = shard  # (index, count) when this run is one shard of a split run
        self.clean = clean  # strips the machine's absolute paths from messages
        self.by_id: dict[str, dict[str, Any]] = {}
        self.warnings: dict[tuple, dict[str, Any]] = {}  # pytest_warning_recorded, grouped
        self.not_run: set[str] = set()  # expectation entries ("source|pattern") matching only deselected cases

    @property
    def cases(self) -> list[dict[str, Any]]:
        return list(self.by_id.values())

    def nodeids(self) -> list[str]:
        return list(self.by_id)

    def _case(self, nodeid: str) -> dict[str, Any]:
        if nodeid not in self.by_id:
            cid = parse_case_id(nodeid)
            case = {"nodeid": nodeid, "module": cid.module, "test": cid.test, "outcome": "passed",
                    "phase": "", "message": "", "duration": 0.0}
            for axis in ("entry", "return_sequences", "return_state", "shape", "device"):
                if getattr(cid, axis) is not None:
                    case[axis] = getattr(cid, axis)
            if cid.extra:
                case["params"] = list(cid.extra)
            self.by_id[nodeid] = case
        return self.by_id[nodeid]

    def pytest_runtest_logreport(self, report: Any) -> None:
        case = self._case(report.nodeid)
        for key, value in report.user_properties:
            if key == RECORD_KEY:
                case.update(json.loads(value))
            elif key == "rnnconf.mode":
                case["mode"] = value
            elif key == "rnnconf.verdict":
                case["expectation"] = json.loads(value)
        case["duration"] = round(case["duration"] + report.duration, 4)
        outcome = outcome_of(report)
        if report.when == "call" or outcome != "passed" and not (outcome == "skipped" and report.when == "teardown"):
            self._merge(case, outcome, report.when, message_of(report))

    def pytest_warning_recorded(self, warning_message: Any, when: str, nodeid: str, location: Any) -> None:
        """Every warning of the run (xdist relays the workers'), grouped by what and where."""
        text = str(warning_message.message).strip()
        key = (warning_message.category.__name__, text.splitlines()[0] if text else "",
               self.clean(str(warning_message.filename)), int(warning_message.lineno or 0))
        slot = self.warnings.setdefault(key, {"category": key[0], "message": key[1], "where": f"{key[2]}:{key[3]}",
                                              "count": 0, "first": nodeid or when})
        slot["count"] += 1

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            case = self._case(report.nodeid or "<collection>")
            self._merge(case, "error", "collect", message_of(report))

    def _merge(self, case: dict[str, Any], outcome: str, phase: str, message: str) -> None:
        if case["phase"] and SEVERITY.index(outcome) >= SEVERITY.index(case["outcome"]):
            return  # an earlier phase already said worse (or as bad)
        case["outcome"] = outcome
        case["phase"] = phase if phase in ("setup", "call", "teardown", "collect") else "crash"
        text = self.clean(message)
        if outcome in ("error", "crashed") and case["message"] and text != case["message"]:
            text = f"{text}\n(before that: {case['message']})"
        case["message"] = text
        if outcome == "skipped" and text.removeprefix("Skipped: ").startswith(NOT_APPLICABLE):
            case["not_applicable"] = text.removeprefix("Skipped: ")
