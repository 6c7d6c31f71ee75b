"""Writers: reports/shapes.json (versioned schema) and reports/shapes.html (Jinja2 template).

Both are made from the records the controller gathered (see record.py); the HTML is a view of
the JSON document and nothing else, so what a reader sees is what a machine can read.
"""

from __future__ import annotations

import collections
import datetime as _dt
import json
from pathlib import Path
from typing import Any

from rnnconf import catalog, contract
from rnnconf.expectations import glob_pattern

SCHEMA = "rnn-conformance/shapes/1"
OUTCOMES = ("passed", "failed", "error", "xfailed", "xpassed", "skipped")
COMBOS = [(rs, st) for rs in (False, True) for st in (False, True)]


def document(collector: Any, expectations: Any, exitstatus: int) -> dict[str, Any]:
    cases = sorted(collector.cases, key=lambda c: c["nodeid"])
    counts = collections.Counter(c["outcome"] for c in cases)
    stale = expectations.stale(c["nodeid"] for c in cases)
    return {
        "schema": SCHEMA,
        "generated_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "implementation": collector.implementation,
        "exit_status": int(exitstatus),
        "summary": {k: counts.get(k, 0) for k in OUTCOMES} | {"total": len(cases)},
        "catalog": [{"id": e.id, "label": e.label, "needs": list(e.needs)} for e in catalog.ENTRIES],
        "shapes": [s.id for s in catalog.SHAPES],
        "notebook_shape": catalog.NOTEBOOK_SHAPE.id,
        "expectations": {
            "files": expectations.files,
            "entries": [e.as_dict() for e in expectations.entries],
            "stale": [e.as_dict() for e in stale],
        },
        "cases": cases,
    }


def write_all(out_dir: Path, collector: Any, expectations: Any, exitstatus: int) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = document(collector, expectations, exitstatus)
    json_path = out_dir / "shapes.json"
    json_path.write_text(json.dumps(doc, indent=1, default=str) + "\n")
    html_path = out_dir / "shapes.html"
    html_path.write_text(render_html(doc))
    return [html_path, json_path]


# ---- the HTML view --------------------------------------------------------------------------
def _status(outcomes: collections.Counter) -> str:
    for status in ("failed", "error", "xpassed", "xfailed", "passed"):
        if outcomes.get(status):
            return status
    return "skipped"


def view(doc: dict[str, Any]) -> dict[str, Any]:
    """Everything the template shows, pre-aggregated (the template only lays it out)."""
    cases = doc["cases"]
    entry_ids = [e["id"] for e in doc["catalog"]]
    devices = sorted({c.get("device") for c in cases if c.get("device")}, key=("cpu", "gpu").index)

    # 1. what each layer returned (test_shapes records), per shape and device
    returned: dict[tuple, dict] = {}
    for c in cases:
        if c["test"] == "test_shapes":
            returned[(c["shape"], c["device"], c["entry"], c["return_sequences"], c["return_state"])] = c
    shape_tables, skipped_tables = [], []
    for shape_id in doc["shapes"]:
        for device in devices:
            rows = []
            for eid in entry_ids:
                cells = []
                for rs, st in COMBOS:
                    c = returned.get((shape_id, device, eid, rs, st))
                    cells.append(c)
                if any(cells):
                    rows.append({"entry": eid, "cells": cells})
            ran = any(c and c["outcome"] != "skipped" for row in rows for c in row["cells"])
            if rows and not ran:
                skipped_tables.append({"shape": shape_id, "device": device,
                                       "reason": next(c["message"] for row in rows for c in row["cells"] if c)})
            elif rows:
                shape_tables.append({"shape": shape_id, "device": device, "rows": rows,
                                     "notebook": shape_id == doc["notebook_shape"]})

    # 2. the matrix: entry x (device, combination) over every test of that case
    # per device: the four combinations, then "across combinations" (as the template's header)
    matrix_cols = [col for d in devices for col in [(d, rs, st) for rs, st in COMBOS] + [(d, None, None)]]
    agg: dict[tuple, collections.Counter] = collections.defaultdict(collections.Counter)
    for c in cases:
        if "entry" not in c:
            continue
        rs, st = c.get("return_sequences"), c.get("return_state")
        if rs is not None and st is None:
            st = True  # identity tests look at the return_state=True call
        agg[(c["entry"], c.get("device"), rs, st)][c["outcome"]] += 1
    matrix = []
    for eid in entry_ids:
        row = []
        for col in matrix_cols:
            counter = agg.get((eid, *col), collections.Counter())
            total = sum(counter.values())
            row.append({"status": _status(counter) if total else "none", "counts": dict(counter),
                        "passed": counter.get("passed", 0), "total": total})
        if any(cell["total"] for cell in row):
            matrix.append({"entry": eid, "cells": row})

    # 3. per test family
    families: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for c in cases:
        families[f"{c['module']}::{c['test']}"][c["outcome"]] += 1

    # 4. failures, known nonconformances, skips, value deviations
    failures = [c for c in cases if c["outcome"] in ("failed", "error", "xpassed")]
    known = []
    for entry in doc["expectations"]["entries"]:
        hits = [c for c in cases if glob_pattern(entry["pattern"]).fullmatch(c["nodeid"])]
        known.append(dict(entry, count=len(hits), outcomes=dict(collections.Counter(c["outcome"] for c in hits)),
                          example=hits[0]["nodeid"] if hits else "", url=entry["link"].startswith("http")))
    skips = collections.Counter(c["message"] for c in cases if c["outcome"] == "skipped")
    # worst |diff| per (entry, test): a matrix, entries down, value tests across
    deviations: dict[tuple[str, str], dict] = {}
    for c in cases:
        if "max_abs_diff" in c and c.get("entry"):
            d = deviations.setdefault((c["entry"], c["test"]), {"worst": 0.0, "cases": 0, "tolerance": c.get("tolerance", ""),
                                                                "worst_case": ""})
            d["cases"] += 1
            if c["max_abs_diff"] >= d["worst"]:
                d["worst"], d["worst_case"] = c["max_abs_diff"], c["nodeid"]
    value_tests = sorted({t for _, t in deviations})
    value_rows = [{"entry": eid, "cells": [deviations.get((eid, t)) for t in value_tests]}
                  for eid in entry_ids if any((eid, t) in deviations for t in value_tests)]
    tolerances = sorted({d["tolerance"] for d in deviations.values() if d["tolerance"]})
    return {
        "devices": devices,
        "combos": [contract.flags_id(rs, st) for rs, st in COMBOS],
        "combo_flags": COMBOS,
        "shape_tables": shape_tables,
        "skipped_tables": skipped_tables,
        "matrix_cols": matrix_cols,
        "matrix": matrix,
        "families": sorted((k, dict(v), sum(v.values())) for k, v in families.items()),
        "failures": failures,
        "known": sorted(known, key=lambda k: -k["count"]),
        "skips": skips.most_common(),
        "value_tests": value_tests,
        "value_rows": value_rows,
        "tolerances": tolerances,
        "labels": {e["id"]: e["label"] for e in doc["catalog"]},
    }


def render_html(doc: dict[str, Any]) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    return env.get_template("shapes.html").render(doc=doc, v=view(doc), outcomes=OUTCOMES)
