"""Records: what each case saw, as plain built-in types, gathered on the controller.

Tests fill the ``record`` fixture; the plugin attaches it to the test report as a user property
(which pytest-xdist carries from workers to the controller); the :class:`Collector`, a plugin
object registered on the controller only, gathers them for the writers.
"""

from __future__ import annotations

import json
from typing import Any

RECORD_KEY = "rnnconf"


def outcome_of(report: Any) -> str:
    """passed / failed / skipped / xfailed / xpassed / error, as a reader means them."""
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.when != "call" and report.failed:
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
    # The assertion's own sentence is the most useful part: the last "E   " lines.
    e_lines = [line[4:] if line.startswith("E   ") else line[1:].strip()
               for line in text.splitlines() if line.startswith("E ")]
    return "\n".join(e_lines[-12:]) if e_lines else text.strip().splitlines()[-1:][0] if text.strip() else ""


class Collector:
    def __init__(self, implementation: dict[str, Any]) -> None:
        self.implementation = implementation
        self.cases: list[dict[str, Any]] = []

    def pytest_runtest_logreport(self, report: Any) -> None:
        data = None
        for key, value in report.user_properties:
            if key == RECORD_KEY:
                data = json.loads(value)
        if data is None:
            return
        nodeid = report.nodeid
        module, _, name = nodeid.partition("::")
        data.update(
            nodeid=nodeid,
            module=module,
            test=name.split("[")[0],
            outcome=outcome_of(report),
            message=message_of(report),
            duration=round(report.duration, 4),
        )
        self.cases.append(data)

    def nodeids(self) -> list[str]:
        return [c["nodeid"] for c in self.cases]
