"""The pytest plugin: options, the report header, the case axes, expectations and reports.

Loaded by the repository's ``conftest.py``. The implementation is imported once per process
(controller and each xdist worker) in ``pytest_configure``; nothing heavy happens at import.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from rnnconf import catalog
from rnnconf.adapter import Implementation, ImplementationError, load
from rnnconf.expectations import Expectations
from rnnconf.report.record import Collector, RECORD_KEY

IMPL_KEY = pytest.StashKey[Implementation]()
EXPECT_KEY = pytest.StashKey[Expectations]()
COLLECTOR_KEY = pytest.StashKey[Collector]()
RECORD_STASH = pytest.StashKey[dict]()
PATHS_KEY = pytest.StashKey[list]()

DEVICES = ("cpu", "gpu")
_RUNS: dict[tuple, Any] = {}  # per-process memo of built cases (see runner.CaseRun)


# ---- options --------------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rnn-conformance", "Keras recurrent-layer conformance")
    group.addoption("--impl", default=os.environ.get("RNN_CONFORMANCE_IMPL", "keras"),
                    help="implementation under test: keras (Keras 3, backend from KERAS_BACKEND), "
                         "tf_keras (Keras 2), or an importable module exposing <module>.layers "
                         "(default: $RNN_CONFORMANCE_IMPL or keras)")
    group.addoption("--require-gpu", action="store_true", default=False,
                    help="stop with an error when no GPU is visible, instead of skipping GPU cases")
    group.addoption("--device", choices=("all", "cpu", "gpu"), default="all",
                    help="run the cases of one device only (default: both; GPU cases skip "
                         "with a reason when no GPU is visible)")
    group.addoption("--full", action="store_true",
                    default=os.environ.get("RNN_CONFORMANCE_FULL", "") not in ("", "0"),
                    help="run the option tests on every option shape, not one (slower; "
                         "default: $RNN_CONFORMANCE_FULL)")
    group.addoption("--expectations", default="auto",
                    help="TOML file of known nonconformances (strict xfails); 'auto' picks "
                         "fixtures/expectations/<impl>[-<backend>].toml, 'none' disables them")
    group.addoption("--report-dir", default="reports",
                    help="where shapes.json and shapes.html are written (relative to the "
                         "rootdir; default: reports)")
    group.addoption("--no-report", action="store_true", default=False,
                    help="do not write shapes.json / shapes.html")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "entries(predicate): limit a test to catalog entries "
                                       "for which predicate(entry) is true")
    config.addinivalue_line("markers", "shapes(*shapes): run a test on these input shapes only")
    try:
        impl = load(config.getoption("--impl"))
    except ImplementationError as exc:
        raise pytest.UsageError(str(exc)) from None
    if config.getoption("--require-gpu") and not impl.gpus():
        raise pytest.UsageError(
            f"--require-gpu: no GPU is visible to {impl.backend} {impl.backend_version} "
            f"({impl.title}). Run on a machine with a GPU and a GPU build of the backend, "
            "or drop --require-gpu to skip the GPU cases.")
    config.stash[IMPL_KEY] = impl
    config.stash[EXPECT_KEY] = Expectations.for_run(config.getoption("--expectations"),
                                                    Path(config.rootpath), impl)
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist) gathers
        collector = Collector(impl.info())
        config.stash[COLLECTOR_KEY] = collector
        config.pluginmanager.register(collector, "rnnconf-collector")


def pytest_report_header(config: pytest.Config) -> list[str]:
    impl = config.stash[IMPL_KEY]
    expectations = config.stash[EXPECT_KEY]
    gpus = impl.gpus()
    lines = [
        f"rnn-conformance: implementation {impl.spec} {impl.version} "
        f"(module {impl.module.__name__}, {impl.flavor}), backend {impl.backend} {impl.backend_version}",
        f"rnn-conformance: devices cpu, gpu: {', '.join(gpus) if gpus else 'none visible (GPU cases skip)'}"
        f"{' [--require-gpu]' if config.getoption('--require-gpu') else ''}",
        f"rnn-conformance: expectations {expectations.describe()}",
    ]
    env = impl.info()["env"]
    lines.append("rnn-conformance: env " + (" ".join(f"{k}={v}" for k, v in env.items()) or "(none set)"))
    return lines


# ---- the case axes --------------------------------------------------------------------------
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    names = metafunc.fixturenames
    if "entry" in names:
        pred = _marker_arg(metafunc, "entries")
        entries = [e for e in catalog.ENTRIES if pred is None or pred(e)]
        shapes_marker = metafunc.definition.get_closest_marker("shapes")
        option_test = shapes_marker is not None and any(isinstance(a, str) for a in shapes_marker.args)
        if option_test and not metafunc.config.getoption("--full"):
            entries = [e for e in entries if catalog.in_default_option_lane(e)]
        metafunc.parametrize("entry", entries, ids=[e.id for e in entries])
    if "return_sequences" in names:
        metafunc.parametrize("return_sequences", [False, True], ids=["last", "seq"])
    if "return_state" in names:
        metafunc.parametrize("return_state", [False, True], ids=["nostate", "state"])
    if "shape" in names:
        marker = metafunc.definition.get_closest_marker("shapes")
        shapes = _resolve_shapes(marker.args, metafunc.config) if marker else list(catalog.SHAPES)
        metafunc.parametrize("shape", shapes, ids=[s.id for s in shapes])
    if "device" in names:
        wanted = metafunc.config.getoption("--device")
        devices = [d for d in DEVICES if wanted in ("all", d)]
        metafunc.parametrize("device", devices, ids=devices)


def _resolve_shapes(args: tuple, config: pytest.Config) -> list[catalog.Shape]:
    """Shape objects, or names of catalog.SHAPE_SETS (their --full variant with --full)."""
    full = config.getoption("--full")
    shapes: list[catalog.Shape] = []
    for arg in args:
        shapes += catalog.SHAPE_SETS[arg][1 if full else 0] if isinstance(arg, str) else [arg]
    return list(dict.fromkeys(shapes))


def _marker_arg(metafunc: pytest.Metafunc, name: str) -> Any:
    marker = metafunc.definition.get_closest_marker(name)
    return marker.args[0] if marker else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    expectations = config.stash[EXPECT_KEY]
    impl = config.stash[IMPL_KEY]
    no_gpu = pytest.mark.skip(reason=no_gpu_reason(impl)) if not impl.gpus() else None
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("device") == "gpu":
            item.add_marker(pytest.mark.gpu)
            if no_gpu is not None:  # skip before any fixture runs: cheap, and the same reason
                item.add_marker(no_gpu)
        known = expectations.match(item.nodeid)
        if known is not None:
            item.add_marker(pytest.mark.xfail(strict=True, reason=known.text()))


# ---- xdist: the cases of one (entry, shape, device) share built layers: one worker each ----
@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With ``-n`` (xdist's default "load" distribution) send every test of one case to the
    same worker, where the layers it needs are already built (see runner.CaseRun). Any other
    --dist choice is left alone."""
    if config.getoption("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class CaseScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return case_group(nodeid)

    return CaseScheduling(config, log)


def case_group(nodeid: str) -> str:
    """``LSTM-B3T4F5U3-cpu`` for any test of that case; the node id itself otherwise."""
    if not nodeid.endswith("]") or "[" not in nodeid:
        return nodeid
    params = nodeid[nodeid.index("[") + 1:-1].split("-")
    if params[0] not in catalog.BY_ID:
        return nodeid
    shape = next((p for p in params if p in _SHAPE_IDS), "")
    device = next((p for p in params if p in DEVICES), "")
    return f"{params[0]}-{shape}-{device}"


_SHAPE_IDS = {s.id for shapes in (catalog.SHAPES,) for s in shapes}


# ---- fixtures -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def impl(pytestconfig: pytest.Config) -> Implementation:
    """The implementation under test (see --impl)."""
    return pytestconfig.stash[IMPL_KEY]


@pytest.fixture
def record(request: pytest.FixtureRequest) -> dict:
    """A dict a test fills with what it saw; it travels to the JSON and HTML reports."""
    return request.node.stash.setdefault(RECORD_STASH, {})


@pytest.fixture
def make_run(impl: Implementation, entry: catalog.Entry, shape: catalog.Shape, device: str) -> Any:
    """``make_run(**layer_options)``: the memoised :class:`~rnnconf.runner.CaseRun` for this
    (entry, shape, device) and these layer options (``go_backwards=True``, ``dtype=...``)."""
    from rnnconf.runner import CaseRun

    skip_without_gpu(impl, device)

    def make(**options: Any) -> CaseRun:
        key = (entry.id, shape, device, tuple(sorted(options.items())))
        if key not in _RUNS:
            _RUNS[key] = CaseRun(impl, entry, shape, device, options)
        return _RUNS[key]

    return make


@pytest.fixture
def run(make_run: Any) -> Any:
    """The case with default layer options."""
    return make_run()


def no_gpu_reason(impl: Implementation) -> str:
    return (f"no GPU visible to {impl.backend} {impl.backend_version}: GPU cases run where one is; "
            "pass --require-gpu to make its absence an error")


def skip_without_gpu(impl: Implementation, device: str) -> None:
    if device == "gpu" and not impl.gpus():
        pytest.skip(no_gpu_reason(impl))


@pytest.fixture(autouse=True)
def _keras_global_state(request: pytest.FixtureRequest) -> Any:
    """Fail a test that leaves the dtype policy or floatx changed (and restore them)."""
    impl = request.config.stash[IMPL_KEY]
    before = impl.global_state()
    yield
    after = impl.global_state()
    if after != before:
        impl.set_global_state(before)
        pytest.fail(f"test leaked Keras global state: (dtype policy, floatx) was {before}, "
                    f"left as {after}; pass dtype= to the layer instead", pytrace=False)


# ---- recording and reports ------------------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    params = getattr(getattr(item, "callspec", None), "params", {})
    if "device" not in params:  # only conformance cases go to the report (not oracle/self-tests)
        return report
    if report.when == "call" or (report.when == "setup" and not report.passed):
        data = dict(item.stash.get(RECORD_STASH, {}))
        for name in ("return_sequences", "return_state", "device"):
            if name in params:
                data.setdefault(name, params[name])
        if "entry" in params:
            data.setdefault("entry", params["entry"].id)
        if "shape" in params:
            data.setdefault("shape", params["shape"].id)
        report.user_properties.append((RECORD_KEY, json.dumps(data, default=str)))
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput") or COLLECTOR_KEY not in config.stash:
        return
    collector = config.stash[COLLECTOR_KEY]
    if config.getoption("--no-report") or not collector.cases:
        return
    from rnnconf.report import writers

    out_dir = Path(config.rootpath) / config.getoption("--report-dir")
    expectations = config.stash[EXPECT_KEY]
    paths = writers.write_all(out_dir, collector, expectations, exitstatus)
    config.stash[PATHS_KEY] = [str(p) for p in paths]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    expectations = config.stash.get(EXPECT_KEY, None)
    collector = config.stash.get(COLLECTOR_KEY, None)
    if expectations is not None and collector is not None and collector.cases:
        stale = expectations.stale(collector.nodeids())
        if stale:
            terminalreporter.section("rnn-conformance: stale expectations")
            for entry in stale:
                terminalreporter.write_line(f"matches no case that ran (fixed, renamed or deselected): {entry.pattern}")
    paths = config.stash.get(PATHS_KEY, None)
    if paths:
        terminalreporter.write_sep("-", "rnn-conformance reports")
        for p in paths:
            terminalreporter.write_line(p)
