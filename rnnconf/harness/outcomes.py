"""How a case can end besides passing or failing, named once for every part of the harness.

The runner, the fixtures, the case axes and the report all import these from here (downward):

- *not applicable*: a capability the implementation, or this release of it, does not have (an
  option its constructor does not take, training on an inference-only backend). The case is
  skipped with a reason that starts with :data:`NOT_APPLICABLE`, and the report shows it as
  ``n/a``, never as a failure or an ordinary skip;
- *no GPU*: a GPU case where the backend sees none (an error instead with ``--require-gpu``).

:data:`SEVERITY` orders the outcomes a test can have, from worst to best; a test's outcome is
the worst of its phases.
"""

from __future__ import annotations

from typing import Any

import pytest

NOT_APPLICABLE = "not applicable in "
SEVERITY = ("crashed", "error", "failed", "xpassed", "xfailed", "passed", "skipped")


def not_applicable(impl: Any, what: str) -> None:
    """Skip a case the implementation cannot express as "not applicable in <module> <version>:
    <what>" (the report shows it as n/a)."""
    pytest.skip(not_applicable_reason(impl, what))


def not_applicable_reason(impl: Any, what: str) -> str:
    return f"{NOT_APPLICABLE}{impl.module.__name__} {impl.version}: {what}"


def no_gpu_reason(impl: Any) -> str:
    probe = f" (the GPU probe raised {impl.gpu_probe_error})" if impl.gpu_probe_error else ""
    return (f"no GPU visible to {impl.backend} {impl.backend_version}{probe}: GPU cases run where "
            "one is; pass --require-gpu to make its absence an error")


def skip_without_gpu(impl: Any, device: str) -> None:
    if device == "gpu" and not impl.gpus():
        pytest.skip(no_gpu_reason(impl))


def skip_without_float64(impl: Any) -> None:
    """A float64 case where the backend runs without 64-bit types (JAX without JAX_ENABLE_X64):
    skipped with what to set."""
    if not impl.supports_float64():
        pytest.skip(f"{impl.backend} {impl.backend_version} runs without 64-bit types "
                    "(JAX_ENABLE_X64 unset): set JAX_ENABLE_X64=1 to test float64 layers")
