"""Fixtures every conformance test may ask for: the implementation, the built case, the record
of what a test saw, and the guard that keeps Keras's global state from leaking between tests."""

from __future__ import annotations

from typing import Any

import pytest

from rnnconf import catalog
from rnnconf.adapter import Implementation
from rnnconf.options import IMPL_KEY
from rnnconf.report.record import RECORD_STASH, CaseRecord

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
    """``make_run(**layer_options)``: the memoised :class:`~rnnconf.runner.CaseRun` for this
    (entry, shape, device) and these layer options (``go_backwards=True``, ``dtype=...``)."""
    from rnnconf.runner import CaseRun

    skip_without_gpu(impl, device)

    def make(**options: Any) -> CaseRun:
        return case_run(impl, entry, shape, device, **options)

    return make


def case_run(impl: Implementation, entry: catalog.Entry, shape: catalog.Shape, device: str,
             **options: Any) -> Any:
    """The memoised case on ``device`` (a CPU/GPU comparison asks for both)."""
    from rnnconf.runner import CaseRun

    key = (entry.id, shape, device, tuple(sorted(options.items())))
    if key not in _RUNS:
        _RUNS[key] = CaseRun(impl, entry, shape, device, options)
    return _RUNS[key]


@pytest.fixture
def run(make_run: Any) -> Any:
    """The case with default layer options."""
    return make_run()


def not_applicable(impl: Implementation, what: str) -> None:
    """Skip a case the implementation cannot express -- an argument this release of it does not
    take -- as "not applicable in <module> <version>: ..." (the report shows it as n/a, never as
    a failure). Detected from the implementation itself (see runner.CaseRun.new_layer)."""
    pytest.skip(not_applicable_reason(impl, what))


def not_applicable_reason(impl: Implementation, what: str) -> str:
    from rnnconf.report.record import NOT_APPLICABLE

    return f"{NOT_APPLICABLE}{impl.module.__name__} {impl.version}: {what}"


def no_gpu_reason(impl: Implementation) -> str:
    probe = f" (the GPU probe raised {impl.gpu_probe_error})" if impl.gpu_probe_error else ""
    return (f"no GPU visible to {impl.backend} {impl.backend_version}{probe}: GPU cases run where "
            "one is; pass --require-gpu to make its absence an error")


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
