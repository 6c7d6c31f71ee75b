"""Command-line options, the implementation under test and the report header.

The implementation is imported once per process (controller and each xdist worker) in
``pytest_configure``; a wrong invocation stops there with a usage error that says what to pass.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

import pytest

from rnnconf.impl.base import Implementation, ImplementationError
from rnnconf.impl.loader import load
from rnnconf.harness.expectations import EXPECT_KEY, Expectations, ExpectationsError

IMPL_KEY = pytest.StashKey[Implementation]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rnn-conformance", "Keras recurrent-layer conformance")
    group.addoption("--impl", default=os.environ.get("RNN_CONFORMANCE_IMPL", "keras"),
                    help="implementation under test: keras (Keras 3, backend from KERAS_BACKEND), "
                         "tf_keras (Keras 2), or an importable module exposing <module>.layers "
                         "(default: $RNN_CONFORMANCE_IMPL or keras)")
    group.addoption("--require-gpu", action="store_true", default=False,
                    help="stop with an error when no GPU is visible, instead of skipping GPU cases")
    group.addoption("--device", choices=("all", "cpu", "gpu"), default="all",
                    help="run the cases of one device only (default: both; GPU cases are deselected "
                         "with a reason when no GPU is visible)")
    group.addoption("--full", action="store_true",
                    default=os.environ.get("RNN_CONFORMANCE_FULL", "") not in ("", "0"),
                    help="run the option tests on every option shape, not one (slower; "
                         "default: $RNN_CONFORMANCE_FULL)")
    group.addoption("--export", default=os.environ.get("RNN_CONFORMANCE_EXPORT", ""), type=_formats,
                    help="run the export family (tests/test_export.py) on these formats: 'all' or a "
                         "comma-separated list of tf_saved_model, onnx, openvino, litert, torch "
                         "(default: $RNN_CONFORMANCE_EXPORT, else none; make export runs it)")
    group.addoption("--expectations", default="auto",
                    help="TOML file of known nonconformances (each names the failure it expects); "
                         "'auto' picks fixtures/expectations/<impl>[-<backend>].toml, 'none' "
                         "disables them")
    group.addoption("--report-dir", default="reports",
                    help="where shapes.json and shapes.html are written (relative to the "
                         "rootdir; default: reports)")
    group.addoption("--no-report", action="store_true", default=False,
                    help="do not write shapes.json / shapes.html")
    group.addoption("--lane", default=os.environ.get("RNN_CONFORMANCE_LANE", ""),
                    help="a name for this run in merged reports, e.g. keras-jax or keras@3.4.1 "
                         "(python -m rnnconf lanes sets it; default: $RNN_CONFORMANCE_LANE)")
    group.addoption("--shard", default=os.environ.get("RNN_CONFORMANCE_SHARD", ""), type=_shard,
                    help="run shard I of N (I/N, 1-based) of the cases, a case's tests together; "
                         "join the shards' shapes.json with python -m rnnconf merge-shards "
                         "(default: $RNN_CONFORMANCE_SHARD)")


def _formats(text: str) -> tuple[str, ...]:
    """``"all"`` -> every format; ``"onnx,litert"`` -> those; empty -> none."""
    from rnnconf.impl.export import BY_NAME

    names = [t.strip() for t in text.split(",") if t.strip()]
    if names == ["all"]:
        return tuple(BY_NAME)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise argparse.ArgumentTypeError(f"--export {text!r}: unknown format(s) {', '.join(unknown)}; "
                                         f"expected 'all' or some of {', '.join(BY_NAME)}")
    return tuple(names)


def _shard(text: str) -> tuple[int, int] | None:
    """``"2/4"`` -> (2, 4); empty -> None."""
    if not text:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise argparse.ArgumentTypeError(f"--shard {text!r}: expected I/N with 1 <= I <= N, e.g. 2/4")
    return int(m.group(1)), int(m.group(2))


def pytest_configure(config: pytest.Config) -> None:
    try:
        impl = load(config.getoption("--impl"))
    except ImplementationError as exc:
        raise pytest.UsageError(str(exc)) from None
    if config.getoption("--require-gpu") and not impl.gpus():
        probe = (f" The GPU probe raised {impl.gpu_probe_error}." if impl.gpu_probe_error
                 else "")
        raise pytest.UsageError(
            f"--require-gpu: no GPU is visible to {impl.backend} {impl.backend_version} "
            f"({impl.title}).{probe} Run on a machine with a GPU and a GPU build of the backend, "
            "or drop --require-gpu to skip the GPU cases.")
    if config.getoption("--device") == "gpu" and not impl.gpus():
        # the GPU cases alone, and no GPU: every case would be deselected (pytest's "no tests")
        probe = (f" The GPU probe raised {impl.gpu_probe_error}." if impl.gpu_probe_error else "")
        raise pytest.UsageError(
            f"--device gpu: no GPU is visible to {impl.backend} {impl.backend_version} "
            f"({impl.title}), so no case can run.{probe} Run on a machine with a GPU and a GPU "
            "build of the backend, or pass --device cpu (or all) for the CPU cases.")
    config.stash[IMPL_KEY] = impl
    try:
        config.stash[EXPECT_KEY] = Expectations.for_run(config.getoption("--expectations"),
                                                        Path(config.rootpath), impl)
    except ExpectationsError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_report_header(config: pytest.Config) -> list[str]:
    impl = config.stash[IMPL_KEY]
    expectations = config.stash[EXPECT_KEY]
    gpus = impl.gpus()
    if gpus:
        gpu_text = ", ".join(gpus)
    elif impl.gpu_probe_error:
        gpu_text = f"none: the GPU probe raised {impl.gpu_probe_error} (GPU cases deselected)"
    else:
        gpu_text = "none visible (GPU cases deselected)"
    lines = [
        f"rnn-conformance: implementation {impl.spec} {impl.version} "
        f"(module {impl.module.__name__}, {impl.flavor}), backend {impl.backend} {impl.backend_version}",
        f"rnn-conformance: devices cpu, gpu: {gpu_text}"
        f"{' [--require-gpu]' if config.getoption('--require-gpu') else ''}",
        f"rnn-conformance: expectations {expectations.describe()}",
    ]
    exports = config.getoption("--export")
    lines.append("rnn-conformance: export family: " + (
        f"formats {', '.join(exports)}" if exports else "not selected (--export all runs it; make export)"))
    if impl.settings:
        lines.append(f"rnn-conformance: backend settings: {impl.settings}")
    for warning in impl.warnings_at_import:  # facts about the implementation, never errors
        lines.append(f"rnn-conformance: the implementation warned at import: {warning}")
    env = impl.info()["env"]
    lines.append("rnn-conformance: env " + (" ".join(f"{k}={v}" for k, v in env.items()) or "(none set)"))
    return lines
