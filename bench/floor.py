"""Where the wall of the conformance suite goes: the implementation's own time (importing it,
building and calling layers, in Keras and its backend), the oracle's (the NumPy twins) and the
harness's (collection, parametrization, fixtures, expectations, records, report writing:
everything else), measured by sampling one process.

Usage:
  .venv/bin/python bench/floor.py [--shard K/N] [--impl keras] [--interval 0.005] [-- pytest args]

It runs ``make report``'s pytest command (the same plugins, ``--report-dir`` and ``--junitxml``
into a temporary folder, random order) in one process (``-p no:xdist``) on one shard of the
default lane (``--shard 1/8`` by default: the case groups a hash of their id picks, so every
family is in it), while a thread samples the main thread's stack every ``--interval`` seconds:

- **implementation**: a sample with a frame of the implementation's packages (``keras``,
  ``tf_keras``, ``tensorflow``, ``jax``, ``jaxlib``, ``torch``, ``openvino``, ``optree``,
  ``ml_dtypes``, ``h5py``, ``namex``) anywhere on the stack -- so a user-defined cell's ``call``,
  which Keras calls, is the implementation's time, and so is the NumPy work Keras does;
- **oracle**: a sample with a frame of ``rnnconf/spec/`` (the oracle, its references and
  gradients) and none of the implementation's;
- **harness**: the rest (pytest, the plugin, the adapter's own Python, the reports).

Each share times the wall gives seconds; divided by the cases the shard ran, a per-case figure.
A sample reads the stack only when the main thread lets go of the GIL (every switch interval, or
in native code that releases it), so short Python-only stretches are seen less often than their
share: the split is an estimate to compare runs by, not a clock. No test asserts on time.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMPLEMENTATION = ("keras", "tf_keras", "tensorflow", "jax", "jaxlib", "torch", "openvino", "optree",
                  "ml_dtypes", "h5py", "namex")


def owner(filename: str) -> str:
    """``implementation``, ``oracle`` or ``harness`` for a profiled function's file."""
    path = filename.replace(os.sep, "/")
    if "/site-packages/" in path:
        top = path.split("/site-packages/", 1)[1].split("/", 1)[0]
        return "implementation" if top in IMPLEMENTATION else "harness"
    if "/rnnconf/spec/" in path:
        return "oracle"
    return "harness"


def classify(frame) -> str:  # noqa: ANN001 - a frame object
    """The owner of a sampled stack: implementation over oracle over harness."""
    seen = "harness"
    while frame is not None:
        kind = owner(frame.f_code.co_filename)
        if kind == "implementation":
            return kind
        if kind == "oracle":
            seen = kind
        frame = frame.f_back
    return seen


class Sampler(threading.Thread):
    """Counts, every ``interval`` seconds, whose code the main thread is running."""

    def __init__(self, interval: float) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.counts: collections.Counter = collections.Counter()
        self.harness_lines: collections.Counter = collections.Counter()
        self.main_id = threading.main_thread().ident
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            frame = sys._current_frames().get(self.main_id)
            kind = classify(frame)
            self.counts[kind] += 1
            if kind == "harness" and frame is not None:
                code = frame.f_code
                self.harness_lines[(code.co_filename, code.co_name)] += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shard", default="1/8", help="the shard of the default lane to profile (K/N)")
    parser.add_argument("--impl", default="keras")
    parser.add_argument("--top", type=int, default=15, help="how many harness functions to list")
    parser.add_argument("--interval", type=float, default=0.005, help="seconds between samples")
    parser.add_argument("pytest_args", nargs="*", help="after --: more pytest arguments")
    args = parser.parse_args()
    import pytest

    with tempfile.TemporaryDirectory() as tmp:
        argv = ["tests", "--ignore=tests/selftest", "--ignore=tests/unit", "--ignore=tests/test_oracle.py",
                "--ignore=tests/test_oracle_torch.py", "-p", "no:xdist", "-q", "--impl", args.impl,
                "--device", "all", "--shard", args.shard, "--report-dir", tmp,
                "--junitxml", str(Path(tmp) / "junit.xml"), *args.pytest_args]
        sampler = Sampler(args.interval)
        os.chdir(REPO)
        start = time.perf_counter()
        sampler.start()
        code = pytest.main(argv)
        sampler.stopped.set()
        wall = time.perf_counter() - start
        doc = json.loads((Path(tmp) / "shapes.json").read_text())
    ran = sum(1 for c in doc["cases"] if c["outcome"] != "skipped")
    skipped = sum(1 for c in doc["cases"] if c["outcome"] == "skipped")
    total = sum(sampler.counts.values()) or 1
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"shard {args.shard} of the default lane, one process, {total} samples; pytest exit {code}")
    print(f"cases: {ran} run, {skipped} skipped; wall {wall:.1f} s")
    for name in ("implementation", "oracle", "harness"):
        share = sampler.counts[name] / total
        per = f", {1000 * share * wall / ran:.1f} ms per case run" if ran else ""
        print(f"  {name:15} {share * wall:7.1f} s  {100 * share:5.1f}%{per}")
    print(f"where the harness's samples stopped (top {args.top}):")
    for (filename, name), n in sampler.harness_lines.most_common(args.top):
        short = filename.replace(str(REPO) + os.sep, "").split("/site-packages/")[-1]
        print(f"  {100 * n / total:5.1f}%  {short} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
