"""Report hooks: attach each test's record to its report, gather every outcome on the
controller, and write reports/shapes.json and shapes.html when the session ends -- whatever
happened: failures, errors, crashes, an empty collection. Old report files are removed when a
run starts, so a report on disk is always the last run's."""

from __future__ import annotations

import collections
import os
import re
from pathlib import Path
from typing import Any, Iterable

import pytest

from rnnconf.harness.axes import GPU_DESELECTED_KEY
from rnnconf.harness.expectations import EXPECT_KEY
from rnnconf.harness.outcomes import no_gpu_reason
from rnnconf.harness.options import IMPL_KEY
from rnnconf.harness.report.record import RECORD_KEY, RECORD_STASH, Collector

COLLECTOR_KEY = pytest.StashKey[Collector]()
PATHS_KEY = pytest.StashKey[list]()
# expectation entries ("source|pattern") that match a case this run deselected (the default lane's
# rule, --shard, -k, no GPU visible): such an entry is "not run in this lane", not stale. Workers collect and
# deselect, so each sends its set to the controller in xdist's workeroutput.
NOT_RUN_KEY = pytest.StashKey[set]()
WORKEROUTPUT_NOT_RUN = "rnnconf.not_run"
WORKEROUTPUT_GPU = "rnnconf.gpu_deselected"  # every worker collects, and deselects, the same cases
REPORT_FILES = ("shapes.json", "shapes.html")


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def _writes_reports(config: pytest.Config) -> bool:
    return _is_controller(config) and not config.getoption("--no-report")


def report_dir(config: pytest.Config) -> Path:
    return Path(config.rootpath) / config.getoption("--report-dir")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Before anything can fail: remove the previous run's report files."""
    if _writes_reports(config):
        for name in REPORT_FILES:
            (report_dir(config) / name).unlink(missing_ok=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if _is_controller(config) and IMPL_KEY in config.stash:
        impl = config.stash[IMPL_KEY]
        info = impl.info()
        info["module_file"] = display_path(info.get("module_file"), Path(config.rootpath))
        info["lane"] = config.getoption("--lane") or f"{impl.spec}-{impl.backend}"
        collector = Collector(info, clean=path_cleaner(Path(config.rootpath)),
                              shard=config.getoption("--shard"))
        config.stash[COLLECTOR_KEY] = collector
        config.pluginmanager.register(collector, "rnnconf-collector")


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        record_not_run(items[0].config, (item.nodeid for item in items))


def record_not_run(config: pytest.Config, nodeids: Iterable[str]) -> None:
    """Cases this run leaves out (deselected, or never made: rnnconf.harness.keyword): the
    expectation entries they match are "not run in this lane", not stale."""
    expectations = config.stash.get(EXPECT_KEY, None)
    if expectations is not None:
        config.stash.setdefault(NOT_RUN_KEY, set()).update(expectations.matched(nodeids))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist, on the controller: a worker finished; keep what it deselected."""
    output = getattr(node, "workeroutput", {})
    node.config.stash.setdefault(NOT_RUN_KEY, set()).update(output.get(WORKEROUTPUT_NOT_RUN, []))
    if WORKEROUTPUT_GPU in output:
        node.config.stash[GPU_DESELECTED_KEY] = max(output[WORKEROUTPUT_GPU],
                                                    node.config.stash.get(GPU_DESELECTED_KEY, 0))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    from rnnconf.harness.axes import mode_of

    mode = mode_of(item)
    if mode != "inference" and report.when == "setup":
        report.user_properties.append(("rnnconf.mode", mode))
    record = item.stash.get(RECORD_STASH, None)
    if record is not None and record.data and (report.when == "call" or not report.passed):
        report.user_properties.append((RECORD_KEY, record.json()))
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workeroutput"):
        config.workeroutput[WORKEROUTPUT_NOT_RUN] = sorted(config.stash.get(NOT_RUN_KEY, set()))
        if GPU_DESELECTED_KEY in config.stash:
            config.workeroutput[WORKEROUTPUT_GPU] = config.stash[GPU_DESELECTED_KEY]
        return
    collector = config.stash.get(COLLECTOR_KEY, None)
    if not _writes_reports(config) or collector is None:
        return
    from rnnconf.harness.report import writers

    collector.not_run = set(config.stash.get(NOT_RUN_KEY, set()))
    if GPU_DESELECTED_KEY in config.stash:
        collector.implementation["gpu_cases_deselected"] = config.stash[GPU_DESELECTED_KEY]
    collector.implementation["export_formats"] = list(config.getoption("--export"))
    paths = writers.write_all(report_dir(config), collector, config.stash[EXPECT_KEY], int(exitstatus))
    config.stash[PATHS_KEY] = [display_path(str(p), Path(config.rootpath)) for p in paths]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not _is_controller(config):
        return
    expectations = config.stash.get(EXPECT_KEY, None)
    collector = config.stash.get(COLLECTOR_KEY, None)
    if expectations is not None and collector is not None and collector.cases:
        stale, not_run = expectations.unmatched(collector.nodeids(), config.stash.get(NOT_RUN_KEY, set()))
        if stale:
            terminalreporter.section("rnn-conformance: stale expectations")
            for entry in stale:
                terminalreporter.write_line(f"matches no case that ran or exists in this selection "
                                            f"(fixed or renamed): {entry.source}: {entry.pattern}")
        if not_run:
            sources = ", ".join(dict.fromkeys(e.source for e in not_run))
            terminalreporter.write_line(f"rnn-conformance: {len(not_run)} expectation(s) not run in this "
                                        f"lane (their cases are deselected here: the default lane, --shard, -k, or no GPU): {sources}")
    gpu_deselected = config.stash.get(GPU_DESELECTED_KEY, 0)
    if gpu_deselected:
        terminalreporter.write_line(f"rnn-conformance: {gpu_deselected} GPU case(s) deselected: "
                                    + no_gpu_reason(config.stash[IMPL_KEY]))
    diverged = collections.Counter((d["behaviour"], d["choice"]) for c in (collector.cases if collector else [])
                                   for d in c.get("divergences", []))
    if diverged:
        terminalreporter.write_line(
            "rnn-conformance: divergences where the documentation leaves the value open (passed; the "
            "report's Divergences section): " + ", ".join(f"{b} = {ch} in {n} case(s)"
                                                         for (b, ch), n in sorted(diverged.items())))
    paths = config.stash.get(PATHS_KEY, None)
    if paths:
        terminalreporter.write_sep("-", "rnn-conformance reports")
        for p in paths:
            terminalreporter.write_line(p)


# ---- paths: the report names files relative to the repository, never the machine's paths ----
def display_path(path: str | None, rootdir: Path) -> str | None:
    """``rnnconf/spec/oracle.py`` inside the repository; ``…/site-packages/keras/__init__.py`` outside."""
    if not path:
        return path
    p = Path(path)
    try:
        return str(p.resolve().relative_to(rootdir.resolve()))
    except (ValueError, OSError):
        parts = p.parts
        for marker in ("site-packages", "dist-packages"):
            if marker in parts:
                return "…/" + "/".join(parts[parts.index(marker):])
        return "…/" + "/".join(parts[-2:])


def path_cleaner(rootdir: Path) -> Any:
    """A function that rewrites the rootdir and site-packages prefixes out of a message."""
    root = str(rootdir.resolve()) + os.sep
    site = re.compile(r"(?:/[^\s'\"():]+)+/(site-packages|dist-packages)/")

    def clean(text: str) -> str:
        return site.sub(r"…/\1/", text.replace(root, ""))

    return clean
