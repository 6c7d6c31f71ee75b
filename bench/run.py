"""Time what users run: ``make report`` (and ``make test``'s phases), wall clock, optionally
alternating with another checkout of the suite (the previous commit, a branch) in one loop.

Usage:
  .venv/bin/python bench/run.py [--targets report,unit,selftest] [--repeat 3] [--against DIR]
                                [--anchor "SHELL COMMAND"]

Each run is ``make -s <target>`` in the checkout, with its reports in a temporary folder; with
``--against DIR`` every repeat runs DIR's ``make <target>`` right after this checkout's, with this
checkout's virtual environment (its install step skipped), so both meet the same machine state.
``--anchor CMD`` alternates the first target with any shell command as well -- Keras's own
recurrent-layer tests from a checkout of its release, for example::

    git -C keras checkout v3.15.1 && bench/run.py --anchor \
      "cd keras && KERAS_BACKEND=tensorflow $PWD/.venv/bin/python -m pytest -q -p no:randomly keras/src/layers/rnn"

and prints the ratio of the first target's median to the anchor's.
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
    parser.add_argument("--anchor", metavar="CMD", help="a shell command to alternate with the first target")
    args = parser.parse_args()
    venv = Path(sys.prefix)
    checkouts = [REPO] + ([args.against.resolve()] if args.against else [])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"venv {venv}; checkouts: {', '.join(map(str, checkouts))}", flush=True)
    if args.anchor:
        print(f"anchor: {args.anchor}", flush=True)
    walls: dict[tuple[str, Path], list[float]] = {}
    anchor: list[float] = []
    targets = args.targets.split(",")
    for i in range(args.repeat):
        for target in targets:
            for checkout in checkouts:
                r = one_run(checkout, target, venv, args.extras)
                walls.setdefault((target, checkout), []).append(r["wall_s"])
                cases = f", {r['cases_run']} cases run" if r["cases_run"] is not None else ""
                print(f"[{i + 1}/{args.repeat}] make {target:8} {checkout.name:>12}: {r['wall_s']:6.1f} s, "
                      f"exit {r['exit']}{cases}; {r['summary']}", flush=True)
            if args.anchor and target == targets[0]:
                r = anchor_run(args.anchor)
                anchor.append(r["wall_s"])
                print(f"[{i + 1}/{args.repeat}] anchor {'':>17}: {r['wall_s']:6.1f} s, exit {r['exit']}; "
                      f"{r['summary']}", flush=True)
    print("medians:")
    for target in targets:
        medians = [statistics.median(walls[(target, c)]) for c in checkouts]
        ratio = f"  ratio {medians[0] / medians[1]:.2f}" if len(medians) == 2 else ""
        print(f"  make {target:8} " + "  ".join(f"{c.name} {m:.1f} s" for c, m in zip(checkouts, medians)) + ratio)
    if anchor:
        first = statistics.median(walls[(targets[0], REPO)])
        print(f"  anchor   {statistics.median(anchor):.1f} s; make {targets[0]} / anchor = "
              f"{first / statistics.median(anchor):.2f}")
    return 0


def anchor_run(command: str) -> dict:
    start = time.perf_counter()
    proc = subprocess.run(command, shell=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    lines = [line for line in proc.stdout.splitlines() if " in " in line and ("passed" in line or "failed" in line)]
    return {"wall_s": round(wall, 1), "exit": proc.returncode,
            "summary": (lines[-1].strip("= ") if lines else proc.stderr[-300:].strip())}


if __name__ == "__main__":
    raise SystemExit(main())
