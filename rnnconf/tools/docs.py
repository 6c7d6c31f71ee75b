"""``python -m rnnconf docs [--check]``: the documentation's generated parts, from their sources.

A Markdown file (the README, ``docs/*.md``, ``tests/README.md``) marks a generated part with

    <!-- generated: KIND SOURCE -->
    ...
    <!-- end generated -->

and this tool rewrites what lies between from SOURCE, so a table that comes from a run or from
the expectation files cannot drift from it silently (``tests/unit/test_docs.py`` fails when a
part differs from what this tool writes). The kinds:

- ``lanes docs/runs/<name>.json``: a recorded run's lanes (``python -m rnnconf lanes record``), as
  a table with when, where and what was run;
- ``expectations fixtures/expectations``: every known nonconformance, file by file, entry by
  entry (what the implementation does, the failure it expects, the releases and backends, the
  public record);
- ``lane-summary docs/runs/<name>.json``: one recorded default lane (``python -m rnnconf docs
  record REPORT_DIR``): cases run, passed, known failures, skipped with their reasons;
- ``arguments rnnconf/spec/documented_arguments.json``: per layer class, the arguments its
  docstrings document and which of them a test claims (``rnnconf/spec/arguments.py``);
- ``export-table docs/runs/<name>.json``: a recorded export run (``python -m rnnconf docs
  record-export OUT REPORT_DIR...``): per backend, format and entry, whether the exported
  artifact round-trips.

``--check`` writes nothing and exits 1 when a part is stale.
"""

from __future__ import annotations

import collections
import datetime as _dt
import json
import re
import tomllib
from pathlib import Path
from typing import Callable

from rnnconf.spec import arguments, unspecified
from rnnconf.tools import lanes

ROOT = Path(__file__).resolve().parents[2]
FILES = ("README.md", "docs/*.md", "tests/README.md")
BLOCK = re.compile(r"(<!-- generated: (?P<kind>[\w-]+) (?P<source>\S+) -->\n)(?P<body>.*?)(<!-- end generated -->)",
                   re.S)
# the expectation files in the order a reader meets them: every backend, then one backend each
EXPECTATION_ORDER = ("keras.toml", "keras-tensorflow.toml", "keras-jax.toml", "keras-torch.toml",
                     "keras-numpy.toml", "keras-openvino.toml", "tf_keras.toml")


def recorded_lanes(root: Path, source: str) -> str:
    doc = json.loads((root / source).read_text())
    head = (f"*Recorded {doc['recorded']} on {doc['machine']}: `{doc['command']}`.* "
            f"{doc.get('note', '')}".rstrip())
    return f"{head}\n\n{lanes.results_table(doc['lanes'])}\n"


def lane_summary(root: Path, source: str) -> str:
    doc = json.loads((root / source).read_text())
    s = doc["summary"]
    lines = [f"*Recorded {doc['recorded']} on {doc['machine']}: `{doc['command']}`, "
             f"{doc['implementation']}.*", "",
             f"- **{s['ran']:,} cases run**: {s['passed']:,} passed, {s['xfailed']:,} known failures "
             f"(each failing as its entry says), {s['failed']:,} failed, {s['not_applicable']:,} not "
             f"applicable; exit {doc['exit_status']}.",
             f"- **{s['skipped']:,} skipped**, by reason:"]
    lines += [f"  - {count:,}: {reason}" for reason, count in doc["skip_reasons"]]
    if doc.get("gpu_deselected"):
        lines.append(f"- **{doc['gpu_deselected']:,} GPU cases deselected**, not run: no GPU was "
                     "visible (a run on a GPU machine runs them).")
    return "\n".join(lines) + "\n"


def expectation_entries(root: Path, source: str) -> str:
    folder = root / source
    files = sorted(folder.glob("*.toml"),
                   key=lambda p: (EXPECTATION_ORDER.index(p.name) if p.name in EXPECTATION_ORDER
                                  else len(EXPECTATION_ORDER), p.name))
    out = []
    for path in files:
        entries = tomllib.loads(path.read_text()).get("xfail", [])
        out.append(f"### `{source}/{path.name}` ({len(entries)} entries)\n")
        for i, entry in enumerate(entries, start=1):
            ids = entry["id"] if isinstance(entry["id"], list) else [entry["id"]]
            scope = [f"releases {entry['versions']}" if entry.get("versions") else "every release",
                     f"backends {', '.join(entry['backends'])}" if entry.get("backends") else "",
                     f"max |diff| {entry['max_abs']:g}" if "max_abs" in entry else "",
                     f"max relative diff {entry['max_rel']:g}" if "max_rel" in entry else "",
                     f"on a CPU with {' or '.join(entry['cpu_flags'])}" if entry.get("cpu_flags") else "",
                     f"TensorFlow's oneDNN CPU kernels {'on' if entry['onednn'] else 'off'}" if "onednn" in entry else "",
                     "not yet observed" if entry.get("observed") is False else ""]
            link = entry["link"]
            record = f"<{link}>" if link.startswith("http") else link
            where = f" raised in `{entry['raised_in']}`" if entry.get("raised_in") else ""
            out.append(f"**#{i}** — {' · '.join(s for s in scope if s)}; expects `{entry['raises']}` "
                       f"matching `{entry['match']}`{where}\n")
            out += [f"- `{node}`" for node in ids]
            out.append("")
            out.append(" ".join(entry["reason"].split()))
            out.append("")
            out.append(f"Public record: {record}")
            out.append("")
    return "\n".join(out)


def open_behaviours(root: Path, source: str) -> str:
    """The behaviours the documentation leaves open, from rnnconf/spec/unspecified.py."""
    return unspecified.markdown()


def documented_arguments(root: Path, source: str) -> str:
    """Per layer class, its documented arguments with and without a claim test."""
    table = arguments.load(root / source)
    return arguments.markdown(table["documented"], table["sources"])


# ---- the export family: which format round-trips which entry, per backend ----
FREE_BATCH = "litert, batch free"  # test_litert_default_signature_runs: the docstring's export
EXPORT_MARKS = {"passed": "✓", "known": "known", "failed": "✗", "na": "n/a", "missing": "not installed"}


def _export_status(cases: list[dict]) -> tuple[str, str]:
    """One (backend, format, entry): ``passed`` (every check ran and held), ``known`` (a known
    nonconformance, and which), ``failed``, ``na`` or ``missing`` (the runtime is not installed)."""
    outcomes = {c["outcome"] for c in cases}
    if outcomes & {"failed", "error", "crashed", "xpassed"}:
        return "failed", ""
    if "xfailed" in outcomes:
        known = sorted({f"{c['expectation'].get('entry', '').split(' #')[0]}|{c['expectation'].get('pattern', '')}"
                        for c in cases if c["outcome"] == "xfailed" and c.get("expectation")})
        return "known", " || ".join(known)
    ran = [c for c in cases if c["outcome"] != "skipped"]
    if ran:
        return "passed", ""
    if all("not_applicable" in c for c in cases):
        return "na", ""
    return "missing", cases[0]["message"].removeprefix("Skipped: ").splitlines()[0] if cases else ""


def _known_by_pattern(root: Path, version: str, backend: str) -> dict[str, str]:
    """Every expectation entry that applies to ``version`` on ``backend``: its id pattern ->
    "<file> #<n>: <its reason's first sentence>", read now (a recorded run names the entries it met
    by pattern: their numbers change as the files grow, their patterns do not; two entries of
    other releases may share one pattern, so only those of the run's release are read)."""
    from rnnconf.harness.expectations import parse

    out: dict[str, str] = {}
    for path in sorted((root / "fixtures" / "expectations").glob("*.toml")):
        for known in parse(path.read_text(), path.name):
            if not known.applies_to(version, backend, machine=False):  # the machine the run was recorded on is not known here
                continue
            first = re.split(r"(?<=[a-z0-9)\"])\. ", " ".join(known.reason.split()), maxsplit=1)[0].rstrip(".")
            if len(first) > 220:
                first = first[:220].rsplit(" ", 1)[0] + " ..."
            out.setdefault(f"{path.name}|{known.pattern}", f"{known.source}: {first}")
    return out


def record_export(lane_dirs: list[Path], out: Path, command: str) -> dict:
    """Keep an export run -- one shapes.json per backend's lane -- as ``out``: per backend, format
    and entry, whether the exported artifact round-trips (every check held), fails as a known
    nonconformance says, fails, is n/a or its runtime is not installed; and each lane's counts."""
    from rnnconf.impl.export import FORMATS

    names = [f.name for f in FORMATS]
    lanes_out, cells = [], {}
    for folder in lane_dirs:
        doc = json.loads((folder / "shapes.json").read_text())
        impl = doc["implementation"]
        backend = impl["backend"]
        lane_json = folder / "lane.json"
        timing = json.loads(lane_json.read_text()) if lane_json.is_file() else {}
        order = [e["id"] for e in doc["catalog"]]
        groups: dict = collections.defaultdict(list)
        for c in doc["cases"]:
            fmt = next((p for p in c.get("params", []) if p in names), None)
            if c.get("mode") == "export" and fmt and c.get("entry"):
                if c["test"] == "test_litert_default_signature_runs":
                    fmt = FREE_BATCH
                groups[(fmt, c["entry"])].append(c)
        keys = sorted(groups, key=lambda k: order.index(k[1]) if k[1] in order else len(order))
        cells[backend] = {fmt: {entry: list(_export_status(groups[(f, entry)])) for f, entry in keys if f == fmt}
                          for fmt in (*names, FREE_BATCH)}
        counts = collections.Counter(c["outcome"] for c in doc["cases"])
        lanes_out.append({"lane": impl.get("lane", ""), "backend": f"{backend} {impl['backend_version']}",
                          "keras": impl["version"], "exit": doc["exit_status"], "run_s": timing.get("run_s"),
                          "counts": dict(counts)})
    record = {"recorded": _dt.date.today().isoformat(), "machine": lanes.machine(), "command": command,
              "lanes": lanes_out, "cells": cells}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    return record


def export_table(root: Path, source: str) -> str:
    """Which format round-trips which entry on which backend, from a recorded export run."""
    doc = json.loads((root / source).read_text())
    lines = [f"*Recorded {doc['recorded']} on {doc['machine']}: `{doc['command']}`.*", ""]
    for lane in doc["lanes"]:
        c = lane["counts"]
        lines.append(f"- `{lane['lane']}` (keras {lane['keras']}, {lane['backend']}): {c.get('passed', 0):,} passed, "
                     f"{c.get('xfailed', 0):,} known failures, "
                     f"{sum(c.get(k, 0) for k in ('failed', 'error', 'crashed', 'xpassed')):,} failed, "
                     f"{c.get('skipped', 0):,} skipped; exit {lane['exit']}"
                     + (f", {lane['run_s']} s" if lane.get("run_s") is not None else ""))
    # a format Keras does not document for a backend is left out (every cell n/a)
    columns = [(b, f) for b, fmts in doc["cells"].items() for f, entries in fmts.items()
               if entries and any(status != "na" for status, _ in entries.values())]
    entries = list(dict.fromkeys(e for b, f in columns for e in doc["cells"][b][f]))
    lines += ["", "| entry | " + " | ".join(f"{f} ({b})" for b, f in columns) + " |",
              "|---|" + "---|" * len(columns)]
    notes: list[str] = []
    keras_of = {lane["backend"].split()[0]: lane["keras"] for lane in doc["lanes"]}
    current = {b: _known_by_pattern(root, keras_of.get(b, ""), b) for b in doc["cells"]}
    for e in entries:
        row = []
        for b, f in columns:
            status, what = doc["cells"][b][f].get(e, ["", ""])
            mark = EXPORT_MARKS.get(status, "–")
            if status == "known":
                numbers = []
                for key in what.split(" || "):
                    note = current[b].get(key, f"an entry for `{key.split('|', 1)[-1]}` (no longer listed)")
                    if note not in notes:
                        notes.append(note)
                    numbers.append(notes.index(note) + 1)
                mark += " " + "".join(f"[{n}]" for n in sorted(set(numbers)))
            row.append(mark)
        lines.append(f"| {e} | " + " | ".join(row) + " |")
    lines += [""] + [f"[{i}] {n}" + ("" if n.endswith("...") else ".") for i, n in enumerate(notes, start=1)]
    lines += ["", "✓: every check of the entry's exported artifact held; known: it fails as the numbered note says "
              "(an entry of `docs/nonconformances.md`); ✗: it fails; n/a: Keras does not document the format on that "
              "backend; not installed: the runtime or exporter is missing from the lane. *litert* fixes the batch in "
              "`input_signature`; *litert, batch free* is the export as its docstring shows it. A format Keras does "
              "not document for a backend has no column."]
    return "\n".join(lines) + "\n"


KINDS: dict[str, Callable[[Path, str], str]] = {
    "lanes": recorded_lanes, "expectations": expectation_entries, "lane-summary": lane_summary,
    "unspecified": open_behaviours, "arguments": documented_arguments, "export-table": export_table}


def files(root: Path) -> list[Path]:
    return sorted({p for pattern in FILES for p in root.glob(pattern)})


def render(root: Path, text: str, where: str) -> str:
    def replace(m: re.Match) -> str:
        kind, source = m.group("kind"), m.group("source")
        if kind not in KINDS:
            raise ValueError(f"{where}: unknown generated kind {kind!r} (known: {', '.join(KINDS)})")
        if not (root / source).exists():
            raise ValueError(f"{where}: generated {kind} from {source}, which does not exist")
        return m.group(1) + KINDS[kind](root, source) + m.group(5)
    return BLOCK.sub(replace, text)


def update(root: Path = ROOT, check: bool = False) -> list[str]:
    """Rewrite every generated part under ``root``; return the files that were (``check``:
    would be) changed."""
    changed = []
    for path in files(root):
        text = path.read_text()
        new = render(root, text, str(path.relative_to(root)))
        if new != text:
            changed.append(str(path.relative_to(root)))
            if not check:
                path.write_text(new)
    return changed


def record_lane(report_dir: Path, out: Path, command: str) -> dict:
    """Keep one default-lane run (its shapes.json) as ``out``: the counts and the skip reasons
    the README's figures are generated from."""
    doc = json.loads((report_dir / "shapes.json").read_text())
    cases = doc["cases"]
    counts = collections.Counter(c["outcome"] for c in cases)
    reasons = collections.Counter(_reason(c["message"]) for c in cases
                                  if c["outcome"] == "skipped" and "not_applicable" not in c)
    impl = doc["implementation"]
    summary = {"ran": sum(1 for c in cases if c["outcome"] != "skipped"),
               "passed": counts["passed"], "xfailed": counts["xfailed"],
               "failed": sum(counts[k] for k in ("failed", "error", "crashed", "xpassed")),
               "not_applicable": sum(1 for c in cases if "not_applicable" in c),
               "skipped": sum(1 for c in cases if c["outcome"] == "skipped" and "not_applicable" not in c)}
    gpus = ", ".join(impl.get("gpus") or []) or "no GPU visible"
    record = {"recorded": _dt.date.today().isoformat(), "machine": f"{lanes.machine()}, {gpus}", "command": command,
              "implementation": f"{impl['impl']} {impl['version']} on {impl['backend']} {impl['backend_version']}",
              "exit_status": doc["exit_status"], "summary": summary,
              "skip_reasons": sorted(reasons.items(), key=lambda kv: -kv[1])}
    if impl.get("gpu_cases_deselected"):
        record["gpu_deselected"] = impl["gpu_cases_deselected"]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    return record


def _reason(message: str) -> str:
    """A skip message without its location and without what differs from case to case."""
    text = message.strip().removeprefix("Skipped: ")
    return text.splitlines()[0] if text else "(no reason given)"


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m rnnconf docs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a part is stale")
    sub = parser.add_subparsers(dest="action")
    rec = sub.add_parser("record", help="keep a default-lane run (REPORT_DIR/shapes.json) as OUT.json (under docs/runs/)")
    rec.add_argument("report_dir", type=Path, metavar="REPORT_DIR")
    rec.add_argument("out", type=Path, metavar="OUT.json")
    rec.add_argument("--command", default="make report")
    exp = sub.add_parser("record-export", help="keep an export run (one REPORT_DIR per backend's lane) as OUT.json")
    exp.add_argument("out", type=Path, metavar="OUT.json")
    exp.add_argument("report_dirs", type=Path, nargs="+", metavar="REPORT_DIR")
    exp.add_argument("--command", default="make export")
    args = parser.parse_args(argv)
    if args.action == "record-export":
        doc = record_export(args.report_dirs, args.out, args.command)
        print(f"recorded {len(doc['lanes'])} export lane(s) in {args.out}; now run python -m rnnconf docs")
        return 0
    if args.action == "record":
        doc = record_lane(args.report_dir, args.out, args.command)
        print(f"recorded {doc['summary']['ran']:,} cases run in {args.out}; now run python -m rnnconf docs")
        return 0
    changed = update(ROOT, check=args.check)
    for name in changed:
        print(f"{'stale' if args.check else 'rewrote'}: {name}")
    if args.check and changed:
        print("the generated parts above differ from their sources: run python -m rnnconf docs")
        return 1
    return 0
