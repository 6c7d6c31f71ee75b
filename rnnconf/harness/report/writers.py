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

from rnnconf.impl.export import FORMATS
from rnnconf.spec import arguments, catalog, contract, models, option_pairs, pairwise, unspecified
from rnnconf.harness.caseid import seq_word, state_word
from rnnconf.harness import tree
from rnnconf.harness.outcomes import SEVERITY

SCHEMA = "rnn-conformance/shapes/3"
OUTCOMES = ("passed", "failed", "error", "crashed", "xfailed", "xpassed", "skipped")
COMBOS = [(rs, st) for rs in (False, True) for st in (False, True)]
EXPORT_FORMATS = [f.name for f in FORMATS]
MODES = ("inference", "training", "compiled", "export")  # rnnconf.harness.axes.MODES: a test's mode marker
ACROSS = "across combinations"
# "in a model": per catalog entry, the families that put it in a model (rnnconf/spec/models.py);
# a composition kind's column, and the masked-model tests' (the entry behind Masking/Embedding)
IN_A_MODEL = "in a model"
MODEL_COLUMNS = {"front": "behind a front", "stack": "in a stack", "wiring": "wired states",
                 "timedistributed": "TimeDistributed"}
FRONT_MODULE = "tests/test_masked_models.py"
BAD = ("failed", "error", "crashed", "xpassed")
EXIT_MEANING = {0: "all cases as expected", 1: "some cases failed", 2: "interrupted",
                3: "internal error", 4: "usage error", 5: "no test was collected"}


def document(collector: Any, expectations: Any, exitstatus: int) -> dict[str, Any]:
    cases = sorted(collector.cases, key=lambda c: c["nodeid"])
    counts = collections.Counter(c["outcome"] for c in cases)
    # entries whose cases this run deselected (collector.not_run) are not run in this lane, not stale
    stale, not_run = expectations.unmatched((c["nodeid"] for c in cases), collector.not_run)
    matched: dict[str, list[str]] = collections.defaultdict(list)
    for c in cases:
        known = expectations.match(c["nodeid"])
        if known is not None:
            matched[known.key].append(c["nodeid"])
    return {
        "schema": SCHEMA,
        "generated_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "implementation": collector.implementation,
        "tree": tree.digest(),  # the suite's sources (rnnconf.harness.tree): a rerun of the same would judge alike
        "exit_status": int(exitstatus),
        "exit_meaning": EXIT_MEANING.get(int(exitstatus), "unknown"),
        "summary": {k: counts.get(k, 0) for k in OUTCOMES} | {
            "not_applicable": sum(1 for c in cases if "not_applicable" in c), "total": len(cases)},
        # the catalog's entries, then the models composed of them (rnnconf/spec/models.py): both
        # are rows of the matrix
        "catalog": [{"id": e.id, "label": e.label, "needs": list(e.needs)} for e in catalog.ENTRIES]
        + [{"id": c.id, "label": c.label, "needs": list(c.needs), "composition": c.kind,
            "entries": [link.entry for link in c.links if link.entry in catalog.BY_ID]}
           for c in models.COMPOSITIONS],
        "shapes": [s.id for s in catalog.SHAPES],
        "notebook_shape": catalog.NOTEBOOK_SHAPE.id,
        "expectations": {
            "files": expectations.files,
            "version": expectations.version,
            "backend": expectations.backend,
            "entries": [e.as_dict() | {"cases": matched.get(e.key, [])}
                        for e in expectations.entries],
            "not_applicable": [e.as_dict() for e in expectations.not_applicable],
            "stale": [e.as_dict() for e in stale],
            "not_run": [e.as_dict() for e in not_run],
        },
        "warnings": sorted(collector.warnings.values(), key=lambda w: -w["count"]),
        "unspecified": divergences(cases),
        # per layer class, its documented arguments and which a test claims: from the spec, not the run
        "documented_arguments": {"sources": arguments.SOURCES, "classes": arguments.coverage()},
        "option_pairs": pair_coverage(cases),
        "cases": cases,
    } | ({"shard": {"index": collector.shard[0], "count": collector.shard[1]}}
         if collector.shard else {})


def divergences(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every behaviour the documentation leaves open (rnnconf/spec/unspecified.py), with the cases
    of this run whose values followed another choice than the oracle's, per choice."""
    out = []
    for b in unspecified.BEHAVIOURS:
        chosen: dict[str, list[str]] = collections.defaultdict(list)
        for c in cases:
            for d in c.get("divergences", []):
                if d["behaviour"] == b.key:
                    chosen[d["choice"]].append(c["nodeid"])
        out.append({"key": b.key, "what": b.what, "documented": b.documented, "choices": b.choices,
                    "oracle_choice": b.oracle_choice,
                    "diverged": [{"choice": ch, "text": b.choices[ch], "cases": ids}
                                 for ch, ids in sorted(chosen.items())]})
    return out


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
    for status in ("crashed", "error", "failed", "xpassed", "xfailed", "passed"):
        if outcomes.get(status):
            return status
    return "skipped"


def _worst(cases: list[dict]) -> dict:
    """The case whose outcome is worst (the first of equals)."""
    return min(cases, key=lambda c: SEVERITY.index(c["outcome"]) if c["outcome"] in SEVERITY else 0)


def view(doc: dict[str, Any]) -> dict[str, Any]:
    """Everything the template shows, pre-aggregated (the template only lays it out). Records
    are selected by what the tests tagged (``returned``, ``deviation``), never by test name."""
    cases = doc["cases"]
    entry_ids = [e["id"] for e in doc["catalog"]]
    devices = sorted({c.get("device") for c in cases if c.get("device")}, key=("cpu", "gpu").index)

    # 1. what each layer returned: records tagged returned/eager, per (shape, device, entry, combo);
    # a cell shows the worst of the checks that looked at that call (arity, shapes)
    inference = [c for c in cases if c.get("mode", "inference") == "inference"]
    eager_tests = {c["test"] for c in inference if c.get("returned", {}).get("view") == "eager"}
    eager: dict[tuple, list] = collections.defaultdict(list)
    for c in inference:
        if c.get("returned", {}).get("view") == "eager" or (
                c["outcome"] in ("skipped", "error", "crashed") and c["test"] in eager_tests):
            eager[(c.get("shape"), c.get("device"), c.get("entry"), c.get("return_sequences"),
                   c.get("return_state"))].append(c)
    shape_tables, skipped_tables = [], []
    for shape_id in doc["shapes"]:
        for device in devices:
            rows = []
            for eid in entry_ids:
                cells = []
                for rs, st in COMBOS:
                    group = eager.get((shape_id, device, eid, rs, st))
                    cells.append(_cell(group) if group else None)
                if any(cells):
                    rows.append({"entry": eid, "cells": cells})
            ran = any(c and c["outcome"] != "skipped" for row in rows for c in row["cells"])
            if rows and not ran:
                skipped_tables.append({"shape": shape_id, "device": device,
                                       "reason": next(c["message"] for row in rows for c in row["cells"] if c)})
            elif rows:
                shape_tables.append({"shape": shape_id, "device": device, "rows": rows,
                                     "notebook": shape_id == doc["notebook_shape"]})

    # 2. the matrix: entry x column, columns grouped by device, then by mode (how the layer ran:
    # eager inference per flag combination; training and compiled per test module)
    combos = [contract.flags_id(rs, st) for rs, st in COMBOS]
    by_mode = {m: sorted({_matrix_column(c)[2] for c in cases if "entry" in c and c.get("mode") == m},
                         key=_column_order) for m in MODES[1:]}
    # ... and "in a model": each composition's cases count for every catalog entry in it too
    in_models = {c["id"]: c for c in doc["catalog"] if "composition" in c}
    model_columns = [label for kind, label in MODEL_COLUMNS.items()
                     if any(c.get("module") == FRONT_MODULE if kind == "front" else
                            in_models.get(c.get("entry"), {}).get("composition") == kind for c in cases)]
    matrix_groups = []
    for d in devices:
        if any(c.get("device") == d and c.get("mode", "inference") == "inference" for c in cases):
            matrix_groups.append({"device": d, "mode": "inference", "columns": combos + [ACROSS]})
        matrix_groups += [{"device": d, "mode": m, "columns": by_mode[m]} for m in MODES[1:] if by_mode[m]]
        if model_columns:
            matrix_groups.append({"device": d, "mode": IN_A_MODEL, "columns": model_columns})
    matrix_cols = [(g["device"], g["mode"], col) for g in matrix_groups for col in g["columns"]]
    agg: dict[tuple, list] = collections.defaultdict(list)
    for c in cases:
        if "entry" not in c:
            continue
        if c.get("module") == FRONT_MODULE:  # the entry behind a front: in a model only
            agg[(c["entry"], c.get("device"), IN_A_MODEL, MODEL_COLUMNS["front"])].append(c)
            continue
        agg[(c["entry"], *_matrix_column(c))].append(c)
        comp = in_models.get(c["entry"])
        for eid in dict.fromkeys(comp["entries"] if comp else []):
            agg[(eid, c.get("device"), IN_A_MODEL, MODEL_COLUMNS[comp["composition"]])].append(c)
    matrix = []
    for eid in entry_ids:
        row = [_matrix_cell(agg.get((eid, *col), [])) for col in matrix_cols]
        if any(cell["total"] for cell in row):
            matrix.append({"entry": eid, "cells": row})

    # 3. per test family
    families: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for c in cases:
        families[f"{c['module']}::{c['test']}"][c["outcome"]] += 1

    # 4. failures, known nonconformances, skips, value deviations
    failures = [c for c in cases if c["outcome"] in BAD]
    known = []
    for entry in doc["expectations"]["entries"]:
        hits = [c for c in cases if c["nodeid"] in set(entry["cases"])]
        outcomes = collections.Counter(c["outcome"] for c in hits)
        known.append(dict(entry, count=len(hits), outcomes=dict(outcomes), status=_status(outcomes) if hits else "none",
                          url=entry["link"].startswith("http")))
    skips = collections.Counter(c["message"] for c in cases if c["outcome"] == "skipped")
    # worst |diff| per (entry, test): a matrix, entries down, value tests across
    # a column per (test, tolerance): a test run under several dtypes gets one column per dtype
    deviations: dict[tuple[str, tuple[str, str]], dict] = {}
    for c in cases:
        dev = c.get("deviation")
        if dev and c.get("entry"):
            column = (c["test"], dev["tolerance"])
            d = deviations.setdefault((c["entry"], column), {"worst": 0.0, "cases": 0, "tolerance": dev["tolerance"],
                                                             "worst_case": "", "against": dev["against"]})
            d["cases"] += 1
            if dev["max_abs_diff"] >= d["worst"]:
                d["worst"], d["worst_case"] = dev["max_abs_diff"], c["nodeid"]
    columns = sorted({col for _, col in deviations})
    split = {t for t, _ in columns if sum(1 for u, _ in columns if u == t) > 1}
    value_tests = [f"{t} ({tol.split(':')[0]})" if t in split else t for t, tol in columns]
    value_rows = [{"entry": eid, "cells": [deviations.get((eid, col)) for col in columns]}
                  for eid in entry_ids if any((eid, col) in deviations for col in columns)]
    self_tests = sorted({t for (_, (t, _)), d in deviations.items() if d["against"] == "self"})
    tolerances = sorted({d["tolerance"] for d in deviations.values() if d["tolerance"]})
    return {
        "exported": _exported_view(doc, entry_ids),
        "devices": devices,
        "combos": [contract.flags_id(rs, st) for rs, st in COMBOS],
        "combo_flags": COMBOS,
        "shape_tables": shape_tables,
        "skipped_tables": skipped_tables,
        "matrix_groups": matrix_groups,
        "matrix": matrix,
        "families": sorted((k, dict(v), sum(v.values())) for k, v in families.items()),
        "failures": failures,
        "known": sorted(known, key=lambda k: -k["count"]),
        "skips": skips.most_common(),
        "value_tests": value_tests,
        "value_rows": value_rows,
        "self_tests": self_tests,
        "tolerances": tolerances,
        "labels": {e["id"]: e["label"] for e in doc["catalog"]},
        "bad": any(doc["summary"][o] for o in BAD) or doc["exit_status"] != 0,
    }


def _exported_view(doc: dict[str, Any], entry_ids: list[str]) -> dict[str, Any]:
    """The "Exported models" section: per format and device, entries down and flag combinations
    across; a cell is the worst outcome of the family's tests of that combination, with what the
    runtime returned on the case's input (``returned``, view ``exported``) and declared; a row
    head holds the artifact's operator summary. Plus the LiteRT export with the batch free."""
    cases = [c for c in doc["cases"] if c.get("mode") == "export" and c.get("entry")]
    fmt_of = {c["nodeid"]: next((p for p in c.get("params", []) if p in EXPORT_FORMATS), "") for c in cases}
    # the dtype-policy tests get a table per policy: a float32 artifact's cell is not the worst of them
    policy_of = {c["nodeid"]: next((p for p in c.get("params", []) if p in contract.DTYPE_POLICIES), "")
                 for c in cases}
    tables = []
    for fmt, policy in [(f, p) for f in EXPORT_FORMATS for p in ("", *contract.DTYPE_POLICIES)]:
        for device in sorted({c.get("device") for c in cases if fmt_of[c["nodeid"]] == fmt
                              and policy_of[c["nodeid"]] == policy}):
            mine = [c for c in cases if fmt_of[c["nodeid"]] == fmt and c.get("device") == device
                    and policy_of[c["nodeid"]] == policy and c["test"] != "test_litert_default_signature_runs"]
            rows = []
            for eid in entry_ids:
                of_entry = [c for c in mine if c["entry"] == eid]
                if not of_entry:
                    continue
                cells = []
                for rs, st in COMBOS:
                    # the identity test has no return_state axis: it looks at the return_state=True call
                    group = [c for c in of_entry if c.get("return_sequences") == rs
                             and c.get("return_state", True) == st]
                    if not group:
                        cells.append(None)
                        continue
                    worst = _worst(group)
                    shown = next((c for c in group if c.get("returned", {}).get("view") == "exported"), {})
                    export = shown.get("notes", {}).get("export", {})
                    cells.append({"outcome": worst["outcome"], "nodeid": worst["nodeid"], "message": worst["message"],
                                  "got": shown.get("returned", {}).get("got", ""),
                                  "expected": shown.get("returned", {}).get("expected", ""),
                                  "declared": export.get("outputs", []),
                                  "checks": dict(collections.Counter(c["outcome"] for c in group))})
                notes = next((c["notes"]["export"] for c in of_entry if c.get("notes", {}).get("export")), {})
                rows.append({"entry": eid, "cells": cells, "recurrence": notes.get("recurrence", ""),
                             "extra": notes.get("extra", ""), "operators": notes.get("operators", "")})
            if rows:
                counts = collections.Counter(c["outcome"] for c in mine)
                tables.append({"format": fmt, "policy": policy, "device": device, "rows": rows, "counts": dict(counts),
                               "runtime": FORMATS[EXPORT_FORMATS.index(fmt)].runtime})
    free = []
    for c in cases:
        if c["test"] == "test_litert_default_signature_runs":
            notes = c.get("notes", {}).get("export", {})
            free.append({"entry": c["entry"], "device": c.get("device"), "outcome": c["outcome"],
                         "nodeid": c["nodeid"], "message": c["message"], "recurrence": notes.get("recurrence", ""),
                         "extra": notes.get("extra", ""), "operators": notes.get("operators", "")})
    free.sort(key=lambda r: (entry_ids.index(r["entry"]) if r["entry"] in entry_ids else 0, r["device"] or ""))
    return {"formats": list(doc["implementation"].get("export_formats", [])), "tables": tables, "litert_free": free}


def _column_order(column: str) -> tuple:
    """Export formats in the order Keras lists them, other columns by name."""
    return (EXPORT_FORMATS.index(column), "") if column in EXPORT_FORMATS else (len(EXPORT_FORMATS), column)


def _short(module: str) -> str:
    """``tests/test_gradients.py`` -> ``gradients``: a matrix column's name."""
    return module.rsplit("/", 1)[-1].removeprefix("test_").removesuffix(".py")


def _matrix_column(case: dict) -> tuple[str | None, str, str]:
    """(device, mode, column) of a case in the matrix."""
    mode = case.get("mode", "inference")
    if mode == "export":  # a column per format: the test's format parameter
        return case.get("device"), mode, next((p for p in case.get("params", []) if p in EXPORT_FORMATS),
                                              _short(case["module"]))
    if mode != "inference":
        return case.get("device"), mode, _short(case["module"])
    rs, st = case.get("return_sequences"), case.get("return_state")
    if rs is None:
        return case.get("device"), mode, ACROSS
    # identity tests without a return_state axis look at the return_state=True call
    return case.get("device"), mode, contract.flags_id(rs, True if st is None else st)


def _matrix_cell(group: list[dict]) -> dict:
    counter = collections.Counter(c["outcome"] for c in group)
    total = len(group)
    status = _status(counter) if total else "none"
    if total and all("not_applicable" in c for c in group):
        status = "na"
    return {"status": status, "counts": dict(counter), "passed": counter.get("passed", 0), "total": total,
            "why": group[0].get("not_applicable", "") if status == "na" else ""}


def _cell(group: list[dict]) -> dict:
    worst = _worst(group)
    shown = next((c for c in group if "returned" in c), worst)
    returned = shown.get("returned", {})
    return {"outcome": worst["outcome"], "nodeid": worst["nodeid"], "message": worst["message"],
            "got": returned.get("got", ""), "expected": returned.get("expected", ""),
            "containers": returned.get("containers", ""), "dtypes": returned.get("dtypes", []),
            "placements": returned.get("placements", [])}


def render_html(doc: dict[str, Any]) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    return env.get_template("shapes.html").render(doc=doc, v=view(doc), outcomes=OUTCOMES)


def pair_coverage(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per entry whose option rows ran (tests/test_option_pairs.py): the rows that ran and passed
    (or failed as a known entry says), and the pairs of option values those rows cover, against
    the pairs its covering array must cover (rnnconf/spec/option_pairs.py)."""
    ran: dict[str, dict[str, list[str]]] = {}
    for case in cases:
        if not case.get("test", "").startswith("test_option_pairs") or not case.get("entry") in catalog.BY_ID:
            continue
        key = _row_key(case["return_sequences"], case["return_state"], case["params"][0] if case.get("params") else "")
        ran.setdefault(case["entry"], {}).setdefault(key, []).append(case["outcome"])
    out = []
    for entry_id, outcomes in ran.items():
        entry = catalog.BY_ID[entry_id]
        factors = option_pairs.factors(entry)
        rows = {_row_key(r["return_sequences"], r["return_state"], option_pairs.row_id(r)): r
                for r in option_pairs.rows(entry)}
        required = pairwise.required_pairs(factors, option_pairs.allowed)
        # a row's cases on each device: a skipped one (no GPU visible) neither runs nor covers
        ran_outcomes = {k: [x for x in o if x != "skipped"] for k, o in outcomes.items() if k in rows}
        run = [rows[k] for k, o in ran_outcomes.items() if o]
        passed = [rows[k] for k, o in ran_outcomes.items() if o and all(x == "passed" for x in o)]
        out.append({"entry": entry_id, "rows": len(rows), "rows_run": len(run), "rows_passed": len(passed),
                    "required_pairs": len(required),
                    "pairs_run": len(pairwise.pairs_of(run, factors) & required),
                    "pairs_passed": len(pairwise.pairs_of(passed, factors) & required),
                    "factors": {k: [str(v) for v in vals] for k, vals in factors.items()}})
    return out


def _row_key(return_sequences: bool, return_state: bool, row_id: str) -> str:
    """An option row as its case id spells it: the flags' words and the row's options."""
    return f"{seq_word(return_sequences)}-{state_word(return_state)}-{row_id}"
