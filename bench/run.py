"""Time the conformance lane (what `make report` runs): `-n auto` against `-n 0`, wall clock.

Usage: .venv/bin/python bench/run.py [--repeat N] [extra pytest args]
Prints one line per run and a summary; paste it into README "Current figures" with the date
and the machine. No test asserts on time: this script is where speed is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The selection `make report` runs: the conformance suite, without the harness's own tests.
IGNORED = ["--ignore=tests/selftest", "--ignore=tests/unit", "--ignore=tests/test_oracle.py",
           "--ignore=tests/test_oracle_torch.py"]


def one_run(workers: str, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pytest", "-q", "-n", workers, "tests", *IGNORED,
               "--report-dir", tmp, "-p", "no:randomly", *extra]
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
        wall = time.perf_counter() - start
        doc = json.loads((Path(tmp) / "shapes.json").read_text()) if (Path(tmp) / "shapes.json").exists() else {}
    cpu_cases = sum(1 for c in doc.get("cases", []) if c.get("device") != "gpu" and c["outcome"] != "skipped")
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-300:]
    return {"workers": workers, "wall_s": round(wall, 1), "exit": proc.returncode,
            "cpu_cases_run": cpu_cases, "summary": re.sub(r"\s+", " ", tail)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workers", default="auto,0")
    args, extra = parser.parse_known_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for _ in range(args.repeat):
        for workers in args.workers.split(","):
            r = one_run(workers, extra)
            print(f"-n {r['workers']:>4}: {r['wall_s']:6.1f} s wall, exit {r['exit']}, "
                  f"{r['cpu_cases_run']} CPU cases run; {r['summary']}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
