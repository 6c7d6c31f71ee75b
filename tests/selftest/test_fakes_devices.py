"""The CPU/GPU comparisons fail on a fake that differs on the GPU, on a machine with no GPU.

fixtures/broken/gpu_differs.py changes three layers on the GPU only (values, containers,
shapes); the inner run simulates a GPU (``-p simulated_gpu_plugin``: the backend's probe sees
one, the fake's device scope runs "gpu:0" on the CPU). Which node ids fail, and with which
message, is spelled from the fake's docstring and the contract, never from a run.
"""

from __future__ import annotations

import pytest

from rnnconf.spec import catalog
from rnnconf.harness.caseid import case_id

from .suite import log_failing_sites, run_suite

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.selftest

EQUIVALENCE = "tests/test_device_equivalence.py"
B3 = catalog.OPTION_SHAPES[0]
assert B3 in catalog.MASK_SHAPES
BOTH = (False, True)
TESTS = ("test_gpu_matches_cpu", "test_gpu_matches_cpu_at_valid_steps")


def _ids(test: str, entry: str, *, states=BOTH, sequences=BOTH) -> set[str]:
    return {case_id(EQUIVALENCE, test, entry=entry, return_sequences=rs, return_state=st, shape=B3,
                    device="gpu") for rs in sequences for st in states}


def _padded(entry: str) -> set[str]:
    return {case_id(EQUIVALENCE, "test_gpu_matches_cpu_at_padded_steps", entry=entry, shape=B3, device="gpu")}


def test_gpu_differences_are_caught(pytester, monkeypatch):
    run = run_suite(pytester, monkeypatch, "fixtures.broken.gpu_differs", (EQUIVALENCE,),
                    "-p", "simulated_gpu_plugin", "--device", "gpu",
                    k=f"{B3.id} and ([LSTM- or [GRU- or [SimpleRNN- or [RNN_GRUCell-)")
    assert "simulated GPU (selftest: the CPU)" in run.stdout, "the header must show the simulated GPU"
    lstm = set().union(*(_ids(t, "LSTM") for t in TESTS)) | _padded("LSTM")
    gru = set().union(*(_ids(t, "GRU", states=[True]) for t in TESTS))
    simple = set().union(*(_ids(t, "SimpleRNN", states=[True]) for t in TESTS))
    passed = (set().union(*(_ids(t, "GRU", states=[False]) | _ids(t, "SimpleRNN", states=[False])
                            | _ids(t, "RNN_GRUCell") for t in TESTS))
              | _padded("GRU") | _padded("SimpleRNN") | _padded("RNN_GRUCell"))
    run.assert_outcomes(failed={
        r"differs from the cpu for LSTM\(units\) .*\(rtol=1e-05, atol=1e-05\)": lstm,
        r"containers differ: gpu list\[tensor, tensor\], cpu tuple\[tensor, tensor\]": gru,
        r"SimpleRNN\(units\) .* against the same layer on cpu: shapes differ: gpu .*\(3, 1\)": simple,
    }, passed=passed)
    log_failing_sites("gpu_differs", run)


def test_real_keras_on_a_simulated_gpu_passes(pytester, monkeypatch):
    """The control: real Keras under the simulated GPU (its "gpu:0" scope falls back to the
    CPU) passes every node id the fake fails."""
    run = run_suite(pytester, monkeypatch, "keras", (EQUIVALENCE,), "-p", "simulated_gpu_plugin",
                    "--device", "gpu", k=f"{B3.id} and ([LSTM- or [GRU- or [SimpleRNN-)")
    ids = set().union(*(_ids(t, e) for t in TESTS for e in ("LSTM", "GRU", "SimpleRNN")))
    run.assert_outcomes(passed=ids | _padded("LSTM") | _padded("GRU") | _padded("SimpleRNN"))
