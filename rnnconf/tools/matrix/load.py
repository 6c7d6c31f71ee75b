"""Reading ``shapes.json`` documents for the tools that look at several runs at once.

Every tool here starts by loading documents, so the checks that make a document usable live in
one place: a file that is not JSON, or that speaks a schema this code does not know, is refused
with :class:`RunError` (the CLI turns it into exit status 2) rather than half-read.

A case's *verdict* is its outcome, except that a skipped case carrying ``not_applicable`` (the
layer or option does not exist in that release, schema 3) is ``n/a``: a skip says "could not
check here", n/a says "nothing to check", and a reader comparing releases must tell them apart.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import re
from pathlib import Path
from typing import Any, Iterable

SCHEMAS = ("rnn-conformance/shapes/2", "rnn-conformance/shapes/3")
# Worst first; "absent" (the run has no such case) is below everything a run can say.
VERDICTS = ("crashed", "error", "failed", "xpassed", "xfailed", "passed", "n/a", "skipped", "absent")
BAD = frozenset({"crashed", "error", "failed", "xpassed"})
SYMBOLS = {"crashed": "☠", "error": "E", "failed": "✗", "xpassed": "XP", "xfailed": "xf",
           "passed": "✓", "n/a": "n/a", "skipped": "s", "absent": "∅"}
DEVICE_ORDER = ("cpu", "gpu")
NO_DEVICE = "any"
_SIZES = re.compile(r"\((?:\s*(?:\d+|None)\s*,?)*\)")


class RunError(Exception):
    """A document that cannot be used: unreadable, not JSON, or of an unknown schema."""


@dataclasses.dataclass
class Run:
    """One loaded document and the name it is shown under."""

    path: Path
    doc: dict[str, Any]
    label: str = ""

    @property
    def cases(self) -> list[dict[str, Any]]:
        return self.doc["cases"]

    @property
    def impl(self) -> dict[str, Any]:
        return self.doc.get("implementation") or {}

    def by_id(self) -> dict[str, dict[str, Any]]:
        return {c["nodeid"]: c for c in self.cases}

    def devices(self) -> list[str]:
        return order_devices({device_of(c) for c in self.cases})


def read(path: str | Path) -> dict[str, Any]:
    """The document at ``path``, checked just enough that the tools can rely on its shape."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RunError(f"{p}: cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"{p}: not a JSON document ({exc})") from None
    if not isinstance(doc, dict):
        raise RunError(f"{p}: not a shapes.json document (top level is not an object)")
    schema = doc.get("schema")
    if schema not in SCHEMAS:
        raise RunError(f"{p}: schema {schema!r} is not one of {', '.join(SCHEMAS)}")
    cases = doc.get("cases")
    if not isinstance(cases, list) or not all(isinstance(c, dict) and "nodeid" in c and "outcome" in c
                                              for c in cases):
        raise RunError(f"{p}: 'cases' must be a list of objects with 'nodeid' and 'outcome'")
    return doc


def load(paths: Iterable[str | Path], names: dict[str, str] | None = None) -> list[Run]:
    """Runs in the order given, labelled (``names`` maps a path to a label chosen by the user)."""
    runs = [Run(Path(p), read(p)) for p in paths]
    names = {str(Path(k).resolve()): v for k, v in (names or {}).items()}
    for run in runs:
        run.label = names.get(str(run.path.resolve())) or impl_label(run.doc) or run.path.name
    _disambiguate(runs)
    return runs


def impl_label(doc: dict[str, Any]) -> str:
    """``keras 3.15.1 · tensorflow 2.21.0``: what was run, the way a reader names it."""
    impl = doc.get("implementation") or {}
    if not impl:
        return ""
    module = impl.get("module") or impl.get("impl") or "?"
    parts = [f"{module} {impl.get('version', '?')}"]
    if impl.get("backend"):
        parts.append(f"{impl['backend']} {impl.get('backend_version', '')}".strip())
    return " · ".join(parts)


def _disambiguate(runs: list[Run]) -> None:
    """Two runs of the same release would share a label: add the file name (with its folder
    when the names clash too), so every column can be told apart."""
    counts = collections.Counter(r.label for r in runs)
    for run in runs:
        if counts[run.label] > 1:
            run.label = f"{run.label} ({run.path.name})"
    counts = collections.Counter(r.label for r in runs)
    for run in runs:
        if counts[run.label] > 1:
            folder = run.path.resolve().parent.name
            run.label = run.label.replace(f"({run.path.name})", f"({folder}/{run.path.name})")
    seen: collections.Counter = collections.Counter()
    for run in runs:  # the same file given twice
        seen[run.label] += 1
        if seen[run.label] > 1:
            run.label = f"{run.label} #{seen[run.label]}"


def verdict(case: dict[str, Any]) -> str:
    if case.get("outcome") == "skipped" and case.get("not_applicable"):
        return "n/a"
    outcome = case.get("outcome", "error")
    return outcome if outcome in VERDICTS else "error"


def worst(verdicts: Iterable[str]) -> str:
    """The worst verdict present; ``absent`` only when nothing else is."""
    return min(verdicts, key=VERDICTS.index, default="absent")


def rank(v: str) -> int:
    return VERDICTS.index(v)


def device_of(case: dict[str, Any]) -> str:
    return case.get("device") or NO_DEVICE


def order_devices(devices: Iterable[str]) -> list[str]:
    return sorted(set(devices), key=lambda d: (DEVICE_ORDER.index(d) if d in DEVICE_ORDER else 9, d))


def reason(case: dict[str, Any]) -> str:
    """Why a case did not pass, in one line (n/a cases say why they do not apply)."""
    if verdict(case) == "n/a":
        return str(case["not_applicable"])
    text = str(case.get("message") or "").strip()
    text = text.splitlines()[0] if text else ""
    return text.removeprefix("Skipped: ")


def sizeless(structure: str) -> str:
    """``[output (1, 3), h (1, 3)]`` -> ``[output (…), h (…)]``: the structure without its sizes,
    so cases of different input shapes that returned the same kind of thing group together."""
    return _SIZES.sub("(…)", structure)


def short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
