"""Every tolerance is pinned, its absolute and its relative part separately: each
tolerance-pinning fake fails just outside a tolerance (test_fakes_options.py proves that) and
passes here, where only the part it pins is ten times looser -- so loosening the rtol or the atol
of any tolerance in rnnconf.spec.reference by 10x turns a self-test red."""

from __future__ import annotations

import pytest

from .suite import run_suite
from .test_fakes_options import CAUGHT

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.selftest

PINS = {  # fake -> (the part it pins, of which tolerances)
    "opt_off_by_5x_the_tolerance": ("atol", "float32, float64, float16, bfloat16 against the oracle"),
    "opt_scaled_by_5x_the_rtol": ("rtol", "float32, float64, float16, bfloat16 against the oracle"),
    "opt_unroll_slightly_off": ("atol", "an implementation against itself (unroll == loop)"),
    "opt_unroll_slightly_scaled": ("rtol", "an implementation against itself (unroll == loop)"),
    "opt_dropout_changes_values": ("atol", "an implementation against itself (dropout at inference)"),
}


@pytest.mark.parametrize("fake", list(PINS))
def test_pinning_fake_passes_when_its_tolerance_is_ten_times_looser(pytester, monkeypatch, fake):
    part, _ = PINS[fake]
    (spec,) = [c for c in CAUGHT if c.fake == fake]
    must_fail = sorted(set().union(*spec.failed.values()))
    monkeypatch.setenv("RNNCONF_LOOSEN", part)
    run = run_suite(pytester, monkeypatch, f"fixtures.broken.{fake}", must_fail, "-p", "loosen_plugin")
    run.assert_outcomes(passed=must_fail)
