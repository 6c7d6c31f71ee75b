"""``diff``: what changed between two runs (OLD -> NEW), case by case, keyed by pytest node id.

Listed, grouped by kind: a changed verdict; a changed returned structure (``returned.got`` or
``returned.containers`` -- roles, arity, nesting); changed shapes only (the same structure with
other numbers); changed dtypes (``returned.dtypes``); a deviation that moved by more than the
factor, or was held to another tolerance; cases only in OLD and only in NEW (listed, never a
regression: a renamed or deselected test is a change of the suite, not of the implementation).

A REGRESSION (exit status 1) is either
  * a verdict that got worse:
      - anything that was not failed/error/crashed/xpassed becoming one of them
        (passed, skipped, n/a or xfailed -> failed, error, crashed or xpassed);
      - among those four, a move to a more severe one (xpassed -> failed -> error -> crashed);
      - passed -> xfailed (a known bug now applies);
      - passed -> n/a (the case is no longer applicable: something that existed went away);
  * or a deviation from the oracle (``against == "oracle"`` in both runs) that grew by more than
    the deviation factor (default 10) and is now above 1e-7 in absolute terms (from exactly 0,
    any value above 1e-7 counts).
Everything else is listed but is not a regression: a structure, shape or dtype change on a
case whose verdict did not get worse (it passes in both runs, say), passed -> skipped, a
deviation that shrank. Improvements (a bad verdict becoming a good one, xfailed/skipped/n/a ->
passed, a less severe failure) are listed as such. Exit status: 1 with a regression, else 0;
2 on a usage error (unreadable file, unknown schema).
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import json
from pathlib import Path
from typing import Any

from rnnconf.tools.matrix.load import BAD, Run, rank, reason, short, sizeless, verdict

FACTOR = 10.0
FLOOR = 1e-7
KINDS = {"verdict": "verdict", "structure": "returned structure (arity, roles, containers)",
         "shapes": "shapes (same structure, other sizes)", "dtypes": "dtypes", "deviation": "deviation"}


@dataclasses.dataclass
class Change:
    nodeid: str
    kind: str  # one of KINDS
    old: str
    new: str
    effect: str = ""  # "regression", "improvement" or ""
    detail: str = ""


@dataclasses.dataclass
class Result:
    old: Run
    new: Run
    factor: float
    changes: list[Change]
    only_old: list[tuple[str, str]]  # (nodeid, verdict)
    only_new: list[tuple[str, str]]
    common: int

    @property
    def regressions(self) -> list[Change]:
        return [c for c in self.changes if c.effect == "regression"]

    @property
    def improvements(self) -> list[Change]:
        return [c for c in self.changes if c.effect == "improvement"]


def verdict_effect(old: str, new: str) -> str:
    """``regression``, ``improvement`` or "" for a verdict that changed (see the module doc)."""
    if old == new:
        return ""
    if new in BAD:
        return "regression" if old not in BAD or rank(new) < rank(old) else "improvement"
    if old in BAD:
        return "improvement"
    if old == "passed" and new in ("xfailed", "n/a"):
        return "regression"
    return "improvement" if new == "passed" else ""


def compare(old: Run, new: Run, factor: float = FACTOR) -> Result:
    a, b = old.by_id(), new.by_id()
    changes: list[Change] = []
    for nodeid in sorted(a.keys() & b.keys()):
        changes += case_changes(a[nodeid], b[nodeid], factor)
    return Result(old, new, factor, changes,
                  [(n, verdict(a[n])) for n in sorted(a.keys() - b.keys())],
                  [(n, verdict(b[n])) for n in sorted(b.keys() - a.keys())], len(a.keys() & b.keys()))


def case_changes(o: dict[str, Any], n: dict[str, Any], factor: float) -> list[Change]:
    nodeid, out = o["nodeid"], []
    vo, vn = verdict(o), verdict(n)
    if vo != vn:
        why = f"now: {reason(n)}" if vn != "passed" and reason(n) else f"was: {reason(o)}" if reason(o) else ""
        out.append(Change(nodeid, "verdict", vo, vn, verdict_effect(vo, vn), short(why, 300)))
    ro, rn = o.get("returned"), n.get("returned")
    if ro and rn:
        go, gn = (str(ro.get("got", "")), ro.get("containers", "")), (str(rn.get("got", "")), rn.get("containers", ""))
        if go != gn:
            same_structure = go[1] == gn[1] and sizeless(go[0]) == sizeless(gn[0])
            out.append(Change(nodeid, "shapes" if same_structure else "structure", _structure(ro), _structure(rn),
                              detail=f"expected {rn.get('expected', '?')}"))
        if list(ro.get("dtypes") or []) != list(rn.get("dtypes") or []):
            out.append(Change(nodeid, "dtypes", ", ".join(ro.get("dtypes") or []) or "none",
                              ", ".join(rn.get("dtypes") or []) or "none"))
    do, dn = o.get("deviation"), n.get("deviation")
    if do and dn:
        out += _deviation(nodeid, do, dn, factor)
    return out


def _structure(r: dict[str, Any]) -> str:
    return f"{r.get('got', '')}  {r.get('containers', '')}".strip()


def _deviation(nodeid: str, do: dict[str, Any], dn: dict[str, Any], factor: float) -> list[Change]:
    x, y = float(do.get("max_abs_diff", 0.0)), float(dn.get("max_abs_diff", 0.0))
    same_ref = do.get("against") == dn.get("against")
    text = f"{x:.3g} → {y:.3g}"
    if do.get("tolerance") != dn.get("tolerance") or not same_ref:
        return [Change(nodeid, "deviation", f"{x:.3g} ({do.get('against')}; {do.get('tolerance')})",
                       f"{y:.3g} ({dn.get('against')}; {dn.get('tolerance')})", detail="held to another tolerance")]
    if y > FLOOR and y > x * factor:
        oracle = dn.get("against") == "oracle"
        ratio = f"×{y / x:.3g}" if x else "from 0"
        return [Change(nodeid, "deviation", f"{x:.3g}", f"{y:.3g}", "regression" if oracle else "",
                       f"grew {ratio} vs {dn.get('against')} ({dn.get('tolerance')})")]
    if x > FLOOR and x > y * factor:
        return [Change(nodeid, "deviation", f"{x:.3g}", f"{y:.3g}", "improvement",
                       f"shrank {text} vs {dn.get('against')} ({dn.get('tolerance')})")]
    return []


def text(result: Result) -> str:
    """The report a person reads in a CI log: summary first, then each kind, regressions last."""
    r, lines = result, []
    lines.append(f"old: {r.old.label}  ({r.old.path}, {len(r.old.cases)} cases)")
    lines.append(f"new: {r.new.label}  ({r.new.path}, {len(r.new.cases)} cases)")
    lines.append(f"{r.common} cases in both, {len(r.only_old)} only in old, {len(r.only_new)} only in new")
    if not r.changes and not r.only_old and not r.only_new:
        return "\n".join(lines + ["", "no changes", ""])
    lines.append(f"{len(r.regressions)} regression(s), {len(r.improvements)} improvement(s), "
                 f"{len(r.changes) - len(r.regressions) - len(r.improvements)} other change(s)")
    by_kind: dict[str, list[Change]] = collections.defaultdict(list)
    for c in r.changes:
        by_kind[c.kind].append(c)
    for kind, title in KINDS.items():
        if not by_kind.get(kind):
            continue
        lines += ["", f"== {title} changed: {len(by_kind[kind])} case(s)"]
        groups: dict[tuple, list[Change]] = collections.defaultdict(list)
        for c in by_kind[kind]:
            groups[(c.old, c.new, c.effect) if kind == "verdict" else (c.effect,)].append(c)
        for key, items in sorted(groups.items(), key=lambda kv: (kv[0][-1] != "regression", kv[0])):
            mark = f"  [{key[-1].upper()}]" if key[-1] else ""
            if kind == "verdict":
                lines.append(f"  {key[0]} → {key[1]}: {len(items)}{mark}")
            elif mark:
                lines.append(f" {mark.strip()}: {len(items)}")
            if kind == "verdict":  # cases that changed for the same reason: the reason once
                for detail, same in itertools.groupby(sorted(items, key=lambda c: (c.detail, c.nodeid)),
                                                      key=lambda c: c.detail):
                    lines += [f"    {detail}"] if detail else []
                    lines += [f"      {c.nodeid}" for c in same]
                continue
            for c in items:
                lines += [f"    {c.nodeid}", f"      old: {c.old}", f"      new: {c.new}"]
                lines += [f"      {c.detail}"] if c.detail else []
    for title, only in (("only in old", r.only_old), ("only in new", r.only_new)):
        if only:
            lines += ["", f"== {title}: {len(only)} case(s)"]
            lines += [f"    {nodeid}  ({v})" for nodeid, v in only]
    lines.append("")
    if r.regressions:
        lines.append(f"REGRESSIONS: {len(r.regressions)}")
        lines += [f"  {c.nodeid}: {c.kind} {c.old} → {c.new}" for c in r.regressions]
    else:
        lines.append("no regression")
    return "\n".join(lines) + "\n"


def as_json(result: Result) -> dict[str, Any]:
    r = result
    return {"schema": "rnn-conformance/diff/1", "deviation_factor": r.factor, "deviation_floor": FLOOR,
            "old": {"label": r.old.label, "file": str(r.old.path), "cases": len(r.old.cases)},
            "new": {"label": r.new.label, "file": str(r.new.path), "cases": len(r.new.cases)},
            "regressions": len(r.regressions), "improvements": len(r.improvements),
            "changes": [dataclasses.asdict(c) for c in r.changes],
            "only_in_old": [{"nodeid": n, "verdict": v} for n, v in r.only_old],
            "only_in_new": [{"nodeid": n, "verdict": v} for n, v in r.only_new]}


def write_json(path: Path, result: Result) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(as_json(result), indent=1) + "\n", encoding="utf-8")
