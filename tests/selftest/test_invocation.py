"""Bad invocations stop with a usage error that says what to do; nothing runs green by accident.

And the implementation can be chosen by environment variable, echoed in the report header.
"""

from __future__ import annotations

import os
import re

import pytest

from rnnconf.spec.catalog import NOTEBOOK_SHAPE

from .suite import STRUCTURE, catalog_ids, run_suite

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.selftest

USAGE_ERROR = int(pytest.ExitCode.USAGE_ERROR)
ARITY_LSTM = "test_arity and [LSTM- and B1T4F5U3"


def assert_usage_error(run, *patterns: str) -> None:
    __tracebackhide__ = True
    assert run.ret == USAGE_ERROR, f"exit code {run.ret}, expected {USAGE_ERROR} (usage error)\n{run.stderr[-2000:]}"
    assert not run.cases, f"no test may run on a usage error; ran {sorted(run.cases)[:3]}"
    assert not re.search(r"\d+ (passed|failed)", run.stdout), run.stdout[-2000:]
    for pattern in patterns:
        assert re.search(pattern, run.stderr), f"stderr does not match {pattern!r}:\n{run.stderr[-2000:]}"


def test_impl_that_cannot_be_imported(pytester, monkeypatch):
    run = run_suite(pytester, monkeypatch, "no_such_module", [STRUCTURE])
    assert_usage_error(run, r"--impl 'no_such_module': cannot import module 'no_such_module'",
                       r"ModuleNotFoundError",
                       # what to pass instead
                       r"Pass 'keras'.*'tf_keras'.*<module>\.layers")


def test_impl_without_layers(pytester, monkeypatch):
    run = run_suite(pytester, monkeypatch, "json", [STRUCTURE])
    assert_usage_error(run, r"--impl 'json': module 'json' .* has no attribute 'layers'",
                       r"<module>\.layers")


def test_empty_impl(pytester, monkeypatch):
    run = run_suite(pytester, monkeypatch, " ", [STRUCTURE])
    assert_usage_error(run, r"--impl is empty: pass keras, tf_keras or a module path")


def test_require_gpu_without_a_gpu(pytester, monkeypatch, impl):
    if impl.gpus():
        pytest.skip(f"a GPU is visible here ({', '.join(impl.gpus())}): --require-gpu cannot fail")
    run = run_suite(pytester, monkeypatch, "keras", [STRUCTURE], "--require-gpu", k=ARITY_LSTM)
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    assert_usage_error(run, rf"--require-gpu: no GPU is visible to {backend} \S+",
                       r"drop --require-gpu")


def test_gpu_cases_alone_without_a_gpu(pytester, monkeypatch, impl):
    """--device gpu where no GPU is visible: every case would be deselected, so the run is a
    usage error that says what to do -- never pytest's "no tests ran"."""
    if impl.gpus():
        pytest.skip(f"a GPU is visible here ({', '.join(impl.gpus())}): --device gpu runs")
    run = run_suite(pytester, monkeypatch, "keras", [STRUCTURE], "--device", "gpu", k=ARITY_LSTM)
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    assert_usage_error(run, rf"--device gpu: no GPU is visible to {backend} \S+", r"pass --device cpu")


def test_impl_from_environment(pytester, monkeypatch):
    """RNN_CONFORMANCE_IMPL selects the implementation when --impl is not given."""
    monkeypatch.setenv("RNN_CONFORMANCE_IMPL", "fixtures.broken.wrong_arity")
    run = run_suite(pytester, monkeypatch, None, [STRUCTURE], k=ARITY_LSTM)
    assert re.search(r"rnn-conformance: implementation fixtures\.broken\.wrong_arity \S+ "
                     r"\(module fixtures\.broken\.wrong_arity, keras3\)", run.stdout), run.stdout[-3000:]
    assert "RNN_CONFORMANCE_IMPL=fixtures.broken.wrong_arity" in run.stdout, \
        "the header's env line must echo RNN_CONFORMANCE_IMPL"
    arity = dict(module=STRUCTURE, test="test_arity", entries=["LSTM"], shapes=[NOTEBOOK_SHAPE])
    run.assert_outcomes(failed={r"expected 3 items": catalog_ids(**arity, return_state=[True])},
                        passed=catalog_ids(**arity, return_state=[False]))


def test_impl_option_beats_environment(pytester, monkeypatch):
    """--impl wins over RNN_CONFORMANCE_IMPL (the variable is only the default)."""
    monkeypatch.setenv("RNN_CONFORMANCE_IMPL", "no_such_module")
    run = run_suite(pytester, monkeypatch, "json", [STRUCTURE])
    assert_usage_error(run, r"--impl 'json'")
