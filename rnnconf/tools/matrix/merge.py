"""``merge``: several runs side by side on one page, the way web-platform-tests' dashboard
puts browsers side by side.

Rows are catalog entries x checks (test functions); columns are runs x devices. The page has to
stay usable with ten runs of ~9,000 cases, so the parametrized cases of one (entry, check,
device) become one cell: the worst verdict colours it, the counts are its text, and what the
layer returned and why it failed are in its hover text. A case one run has and another lacks is
counted as ``absent`` in the run that lacks it, so every run's column group adds up to the same
number of distinct cases -- the page itself shows nothing is dropped.
"""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any

from rnnconf.tools.matrix import chart
from rnnconf.tools.matrix.load import (BAD, SYMBOLS, VERDICTS, Run, device_of, order_devices, reason,
                                 short, sizeless, verdict, worst)

OTHER = ""  # the group of cases that have no catalog entry
OTHER_LABEL = "whole layer / other"
TITLE_ITEMS = 3  # distinct returned structures / messages shown in one cell's hover text


def build(runs: list[Run]) -> dict[str, Any]:
    """Everything the page shows, pre-aggregated; the template only lays it out."""
    devices = order_devices(d for r in runs for d in r.devices())
    columns = [{"run": i, "device": d} for i, _ in enumerate(runs) for d in devices]
    # (entry, module, test, device) -> run index -> cases
    cells: dict[tuple, dict[int, list]] = collections.defaultdict(lambda: collections.defaultdict(list))
    ids: dict[tuple, set[str]] = collections.defaultdict(set)
    for i, run in enumerate(runs):
        for c in run.cases:
            key = (c.get("entry") or OTHER, c.get("module", ""), c.get("test", c["nodeid"]), device_of(c))
            cells[key][i].append(c)
            ids[key].add(c["nodeid"])
    # how the layer ran in a check (the test's mode marker): eager inference, training or compiled
    modes = {(c.get("module", ""), c.get("test", "")): c["mode"] for r in runs for c in r.cases if c.get("mode")}
    labels = _entry_labels(runs)
    order = {e: n for n, e in enumerate(labels)}
    groups = []
    for entry in sorted({k[0] for k in cells}, key=lambda e: (e == OTHER, order.get(e, len(order)), e)):
        tests = sorted({k[1:3] for k in cells if k[0] == entry})
        rows = [{"module": m, "test": t, "mode": modes.get((m, t), "inference"), "cells": [
                    _cell(cells.get((entry, m, t, col["device"]), {}).get(col["run"], []),
                          len(ids.get((entry, m, t, col["device"]), ())), runs[col["run"]], col["device"])
                    for col in columns]}
                for m, t in tests]
        for row in rows:
            row["differs"] = _differs(row["cells"], columns)
        totals = [_total([row["cells"][n] for row in rows]) for n in range(len(columns))]
        groups.append({"entry": entry or "other", "label": labels.get(entry, OTHER_LABEL if entry == OTHER else entry),
                       "rows": rows, "totals": totals, "differs": sum(r["differs"] for r in rows),
                       "open": any(t["verdict"] in BAD for t in totals)})
    for n, col in enumerate(columns):  # a column where nothing ran (no GPU visible, say) says so once
        verdicts = {v for g in groups for row in g["rows"] for v, k in row["cells"][n]["counts"].items() if k}
        col["ran"] = bool(verdicts - {"skipped", "n/a", "absent"})
        col["why"] = "" if col["ran"] else next(
            (reason(c) for c in runs[col["run"]].cases if device_of(c) == col["device"]), "no case")
    n_cases = len({nid for s in ids.values() for nid in s})
    return {"runs": [_run_summary(r) for r in runs], "devices": devices, "columns": columns,
            "groups": groups, "n_cases": n_cases, "verdicts": VERDICTS, "symbols": SYMBOLS,
            "charts": chart.panels(runs), "title": _title(runs),
            "colours": [chart.colour(i) for i in range(len(runs))]}


def _differs(cells: list[dict], columns: list[dict]) -> bool:
    """Whether the runs disagree on this row (on some device): the rows a reader looks for."""
    by_device: dict[str, set] = collections.defaultdict(set)
    for cell, col in zip(cells, columns):
        by_device[col["device"]].add(tuple(sorted(cell["counts"].items())))
    return any(len(v) > 1 for v in by_device.values())


def _entry_labels(runs: list[Run]) -> dict[str, str]:
    """Catalog order and labels, first run first (a newer catalog may add entries)."""
    labels: dict[str, str] = {}
    for run in runs:
        for e in run.doc.get("catalog", []):
            labels.setdefault(e["id"], e.get("label", e["id"]))
    return labels


def _cell(cases: list[dict], n_ids: int, run: Run, device: str) -> dict[str, Any]:
    counts = collections.Counter(verdict(c) for c in cases)
    if n_ids > len(cases):
        counts["absent"] = n_ids - len(cases)
    v = worst(k for k in counts if k != "absent") if cases else "absent"
    return {"verdict": v, "counts": counts, "n": n_ids, "text": _text(counts),
            "title": _title_of(cases, counts, run, device) if cases else f"{run.label} · {device}: no such case"}


def _total(cells: list[dict]) -> dict[str, Any]:
    counts: collections.Counter = sum((c["counts"] for c in cells), collections.Counter())
    v = worst(k for k in counts if k != "absent") if set(counts) - {"absent"} else "absent"
    title = ", ".join(f"{counts[k]} {k}" for k in VERDICTS if counts.get(k))
    return {"verdict": v, "counts": counts, "n": sum(counts.values()), "text": _text(counts), "title": title}


def _text(counts: collections.Counter) -> str:
    """``3✗ 37✓``: the two worst verdicts present, then an ellipsis if there are more."""
    present = [k for k in VERDICTS if counts.get(k)]
    text = " ".join(f"{counts[k]}{SYMBOLS[k]}" for k in present[:2])
    return text + (" …" if len(present) > 2 else "")


def _title_of(cases: list[dict], counts: collections.Counter, run: Run, device: str) -> str:
    """Hover text: the counts, the distinct returned structures, the distinct reasons."""
    first, notebook = cases[0], run.doc.get("notebook_shape")
    lines = [f"{first.get('entry') or OTHER_LABEL} · {first.get('test', '')} · {run.label} · {device}",
             ", ".join(f"{counts[k]} {k}" for k in VERDICTS if counts.get(k))]
    structures: dict[tuple, list[dict]] = collections.defaultdict(list)
    for c in cases:  # one line per kind of structure, sizes from the notebook's shape if it ran
        r = c.get("returned")
        if r and r.get("got"):
            key = (r.get("view", "?"), sizeless(str(r["got"])), r.get("containers", ""), "/".join(r.get("dtypes", [])))
            structures[key].append(c)
    for (view, _, containers, dtypes), group in list(structures.items())[:TITLE_ITEMS]:
        shown = min(group, key=lambda c: (c.get("shape") != notebook, c["nodeid"]))
        lines.append(short(f"got ({view}) ×{len(group)}: {shown['returned']['got']}  {containers}  {dtypes}", 200))
    if len(structures) > TITLE_ITEMS:
        lines.append(f"… {len(structures) - TITLE_ITEMS} more kinds of returned structure")
    devs = [c for c in cases if c.get("deviation", {}).get("against") == "oracle"]
    if devs:
        w = max(devs, key=lambda c: c["deviation"]["max_abs_diff"])
        lines.append(f"worst |Δ| vs oracle {w['deviation']['max_abs_diff']:.2g} ({w['deviation']['tolerance']})")
    reasons: collections.Counter = collections.Counter()
    for c in sorted(cases, key=lambda c: VERDICTS.index(verdict(c))):
        if verdict(c) != "passed" and reason(c):
            reasons[f"{verdict(c)}: {short(reason(c), 240)}"] += 1
    lines += [f"{r}  ×{n}" for r, n in list(reasons.items())[:TITLE_ITEMS]]
    if len(reasons) > TITLE_ITEMS:
        lines.append(f"… {len(reasons) - TITLE_ITEMS} more reasons")
    return "\n".join(lines)


IMPL_DEFAULTS = {"impl": "?", "module": "?", "version": "?", "flavor": "", "backend": "", "backend_version": "",
                 "gpus": [], "gpu_probe_error": "", "env": {}}


def _run_summary(run: Run) -> dict[str, Any]:
    impl, doc = IMPL_DEFAULTS | run.impl, run.doc
    counts = collections.Counter(verdict(c) for c in run.cases)
    expectations = doc.get("expectations") or {}
    by_id = run.by_id()
    known = []
    for e in expectations.get("entries", []):
        hits = collections.Counter(verdict(by_id[n]) for n in e.get("cases", []) if n in by_id)
        known.append(dict(e, hits=", ".join(f"{n} {k}" for k, n in hits.most_common()) or "no case",
                          url=str(e.get("link", "")).startswith("http")))
    gpus = impl.get("gpus") or []
    return {"label": run.label, "file": run.path.name, "path": str(run.path), "impl": impl,
            "exit_status": doc.get("exit_status"), "exit_meaning": doc.get("exit_meaning", ""),
            "counts": counts, "total": len(run.cases), "generated_at": doc.get("generated_at", ""),
            "gpus": ", ".join(map(str, gpus)) if gpus else (f"none (probe: {impl['gpu_probe_error']})"
                                                            if impl.get("gpu_probe_error") else "none"),
            "files": expectations.get("files", []), "known": known,
            "not_applicable": expectations.get("not_applicable", []), "stale": expectations.get("stale", []),
            "shard": doc.get("shard"), "schema": doc.get("schema"),
            "bad": bool(doc.get("exit_status")) or any(counts.get(k) for k in BAD)}


def _title(runs: list[Run]) -> str:
    """What was run, in one line: each release with the backends it ran on."""
    impls: dict[str, list[str]] = {}
    for r in runs:
        impls.setdefault(f"{r.impl.get('module', '?')} {r.impl.get('version', '?')}", []).append(
            r.impl.get("backend", "?"))
    return "; ".join(f"{k} on {', '.join(dict.fromkeys(v))}" for k, v in impls.items())


def as_json(view: dict[str, Any]) -> dict[str, Any]:
    """The machine-readable twin of the page (no hover texts)."""
    runs = [{k: r[k] for k in ("label", "file", "impl", "exit_status", "exit_meaning", "counts", "total",
                               "generated_at", "files", "shard", "schema")} for r in view["runs"]]
    return {"schema": "rnn-conformance/matrix/1", "runs": runs, "columns": view["columns"],
            "cases": view["n_cases"],
            "groups": [{"entry": g["entry"], "label": g["label"],
                        "rows": [{"module": r["module"], "test": r["test"],
                                  "cells": [{"verdict": c["verdict"], "counts": dict(c["counts"])} for c in r["cells"]]}
                                 for r in g["rows"]]} for g in view["groups"]],
            "deviations": chart.worst_table(view["charts"])}


def render(view: dict[str, Any]) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
                             autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    return env.get_template("matrix.html").render(v=view)


def write(out_dir: Path, runs: list[Run]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    view = build(runs)
    html, data = out_dir / "matrix.html", out_dir / "matrix.json"
    html.write_text(render(view), encoding="utf-8")
    data.write_text(json.dumps(as_json(view), indent=1) + "\n", encoding="utf-8")
    return [html, data]
