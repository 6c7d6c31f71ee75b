"""Fixtures every conformance test may ask for: the implementation, the built case, the record
of what a test saw, and the guard that keeps Keras's global state from leaking between tests."""

from __future__ import annotations

from typing import Any

import pytest

from rnnconf.spec import catalog
from rnnconf.impl.base import Implementation
from rnnconf.harness.options import IMPL_KEY
from rnnconf.harness.outcomes import skip_without_gpu
from rnnconf.harness.report.record import RECORD_STASH, CaseRecord
from rnnconf.harness.composed import ComposedRun
from rnnconf.harness.runner import CaseRun

_RUNS: dict[tuple, Any] = {}  # per-process memo of built cases (see runner.CaseRun)


@pytest.fixture(scope="session")
def impl(pytestconfig: pytest.Config) -> Implementation:
    """The implementation under test (see --impl)."""
    return pytestconfig.stash[IMPL_KEY]


@pytest.fixture
def record(request: pytest.FixtureRequest) -> CaseRecord:
    """What a test saw, tagged by kind (``record.returned(...)``, ``record.deviation(...)``);
    it travels to shapes.json and shapes.html."""
    return request.node.stash.setdefault(RECORD_STASH, CaseRecord())


@pytest.fixture
def make_run(impl: Implementation, entry: catalog.Entry, shape: catalog.Shape, device: str) -> Any:
    """``make_run(**layer_options)``: the memoised :class:`~rnnconf.harness.runner.CaseRun` for this
    (entry, shape, device) and these layer options (``go_backwards=True``, ``dtype=...``)."""
    skip_without_gpu(impl, device)

    def make(**options: Any) -> CaseRun:
        return case_run(impl, entry, shape, device, **options)

    return make


def case_run(impl: Implementation, entry: catalog.Entry, shape: catalog.Shape, device: str,
             **options: Any) -> Any:
    """The memoised case on ``device`` (a CPU/GPU comparison asks for both)."""
    key = (entry, shape, device, tuple(sorted(options.items())))  # an Entry is a frozen value
    if key not in _RUNS:
        _RUNS[key] = CaseRun(impl, entry, shape, device, options)
    return _RUNS[key]


@pytest.fixture
def composed(impl: Implementation, composition: Any, shape: catalog.Shape, device: str) -> Any:
    """The memoised :class:`~rnnconf.harness.composed.ComposedRun` of this composition (a stack or
    wired states, rnnconf/spec/models.py), shape and device."""
    skip_without_gpu(impl, device)
    key = ("composition", composition.id, shape, device)
    if key not in _RUNS:
        _RUNS[key] = ComposedRun(impl, composition, shape, device)
    return _RUNS[key]


@pytest.fixture
def run(make_run: Any) -> Any:
    """The case with default layer options."""
    return make_run()


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


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """After each test, what the backend does to keep a long worker healthy (Backend.between_tests)."""
    impl = item.config.stash.get(IMPL_KEY, None)
    if impl is not None:
        impl.facts.between_tests()
