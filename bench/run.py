"""Time what users run: ``make report`` (and ``make test``'s phases), wall clock, optionally
alternating with another checkout of the suite (the previous commit, a branch) in one loop.

Usage:
  .venv/bin/python bench/run.py [--targets report,unit,selftest] [--repeat 3] [--against DIR]

Each run is ``make -s <target>`` in the checkout, with its reports in a temporary folder; with
``--against DIR`` every repeat runs DIR's ``make <target>`` right after this checkout's, with this
checkout's virtual environment (its install step skipped), so both meet the same machine state.
Prints one line per run, then the median per target and checkout and their ratio; paste the
output into docs/figures.md with the date and the machine. No test asserts on time: this script
is where speed is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def one_run(checkout: Path, target: str, venv: Path, extras: str) -> dict:
    stamp = venv / f".installed-{extras.replace(',', '-')}"
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["make", "-s", "-C", str(checkout), target, f"VENV={venv}", f"EXTRAS={extras}",
               f"REPORTS={tmp}", "-o", str(stamp)]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - start
        doc_path = Path(tmp) / "shapes.json"
        doc = json.loads(doc_path.read_text()) if doc_path.is_file() else {}
    cases = sum(1 for c in doc.get("cases", []) if c["outcome"] != "skipped") if doc else None
    lines = [line for line in proc.stdout.splitlines() if " in " in line and ("passed" in line or "failed" in line)]
    return {"target": target, "wall_s": round(wall, 1), "exit": proc.returncode, "cases_run": cases,
            "summary": " | ".join(line.strip("= ") for line in lines[-2:]) or proc.stderr[-300:].strip()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", default="report", help="make targets, comma-separated (report, unit, selftest)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against", type=Path, metavar="DIR", help="another checkout to alternate with")
    parser.add_argument("--extras", default="tensorflow", help="the EXTRAS the virtual environment was made with")
    args = parser.parse_args()
    venv = Path(sys.prefix)
    checkouts = [REPO] + ([args.against.resolve()] if args.against else [])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"venv {venv}; checkouts: {', '.join(map(str, checkouts))}", flush=True)
    walls: dict[tuple[str, Path], list[float]] = {}
    for i in range(args.repeat):
        for target in args.targets.split(","):
            for checkout in checkouts:
                r = one_run(checkout, target, venv, args.extras)
                walls.setdefault((target, checkout), []).append(r["wall_s"])
                cases = f", {r['cases_run']} cases run" if r["cases_run"] is not None else ""
                print(f"[{i + 1}/{args.repeat}] make {target:8} {checkout.name:>12}: {r['wall_s']:6.1f} s, "
                      f"exit {r['exit']}{cases}; {r['summary']}", flush=True)
    print("medians:")
    for target in args.targets.split(","):
        medians = [statistics.median(walls[(target, c)]) for c in checkouts]
        ratio = f"  ratio {medians[0] / medians[1]:.2f}" if len(medians) == 2 else ""
        print(f"  make {target:8} " + "  ".join(f"{c.name} {m:.1f} s" for c, m in zip(checkouts, medians)) + ratio)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
