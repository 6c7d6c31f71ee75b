"""CPU and GPU agree: the same layer (same weights, same input) placed on the GPU returns what it
returns on the CPU -- the same containers, roles and shapes, and values within
reference.DEVICE_TOLERANCE with TF32 off -- through whatever path the backend takes there
(cuDNN on TensorFlow, torch's fused kernels, jax.experimental.rnn: docs/keras-facts.md, "Where
'the same layer' runs different code").

These are GPU cases: without a visible GPU they skip with the reason (--require-gpu makes that
an error). With a right-padded mask the valid steps and the final states must agree; at the
padded steps the documented output is the previous output (what the CPU returns), and TensorFlow's
cuDNN kernel returns zeros instead (tf #49241): that test is a separate claim with its own
expectation entry, so it never hides the valid-step comparison.
"""

import numpy as np
import pytest

from rnnconf.spec import catalog, contract, reference
from rnnconf.harness.asserts import assert_matches_oracle
from rnnconf.harness.checks import roles_of
from rnnconf.harness.fixtures import case_run

on_gpu = pytest.mark.devices("gpu")


def _both(run, return_sequences, return_state, **call_kwargs):
    """(gpu roles, cpu roles) of one call; the structures must agree first."""
    __tracebackhide__ = True
    cpu_run = case_run(run.impl, run.entry, run.shape, "cpu", **run.options)
    gpu, got = roles_of(run, return_sequences, return_state, **call_kwargs)
    cpu, want = roles_of(cpu_run, return_sequences, return_state, **call_kwargs)
    context = run.describe(return_sequences, return_state) + " against the same layer on cpu"
    assert got.containers == want.containers, (
        f"{context}: containers differ: gpu {got.containers}, cpu {want.containers}")
    shapes = lambda tree: [tuple(a.shape) for a in contract.flatten(tree)]  # noqa: E731
    assert shapes(got.tree) == shapes(want.tree), (
        f"{context}: shapes differ: gpu {contract.describe(got.tree)}, cpu {contract.describe(want.tree)}")
    return gpu, cpu, context


def _compare(gpu, cpu, context, record, keep=lambda role, value: value):
    __tracebackhide__ = True
    worst = assert_matches_oracle({r: keep(r, v) for r, v in gpu.items()}, {r: keep(r, v) for r, v in cpu.items()},
                                  context, **reference.DEVICE_TOLERANCE, against="the cpu")
    record.deviation(worst, reference.device_tolerance_text(), against="cpu")


@on_gpu
@pytest.mark.shapes("options")
def test_gpu_matches_cpu(run, entry, return_sequences, return_state, shape, device, record):
    gpu, cpu, context = _both(run, return_sequences, return_state)
    _compare(gpu, cpu, context, record)


def _right_padded(run):
    return reference.make_mask("right_padded", run.shape.batch, run.shape.timesteps)


@on_gpu
@pytest.mark.entries(lambda e: e in catalog.MASK_ENTRIES)
@pytest.mark.shapes("masks")
def test_gpu_matches_cpu_at_valid_steps(run, entry, return_sequences, return_state, shape, device, record):
    """Right-padded mask (the one cuDNN accepts): the states, and the outputs at valid steps."""
    mask = _right_padded(run)
    gpu, cpu, context = _both(run, return_sequences, return_state, mask=mask)

    def valid(role, value):
        if role.startswith("output") and return_sequences:
            return np.where(mask[(...,) + (None,) * (value.ndim - 2)], value, 0.0)
        return value
    _compare(gpu, cpu, context + " with a right-padded mask, valid steps", record, valid)


@on_gpu
@pytest.mark.entries(lambda e: e in catalog.MASK_ENTRIES and not e.bidirectional)
@pytest.mark.shapes("masks")
def test_gpu_matches_cpu_at_padded_steps(run, entry, shape, device, record):
    """Right-padded mask, return_sequences=True: at a padded step the output repeats the last
    valid output (documented; what the CPU returns)."""
    mask = _right_padded(run)
    gpu, cpu, context = _both(run, True, False, mask=mask)
    padded = lambda role, value: np.where(mask[..., None], 0.0, value)  # noqa: E731
    _compare({r: v for r, v in gpu.items() if r.startswith("output")}, cpu,
             context + " with a right-padded mask, padded steps", record, padded)
