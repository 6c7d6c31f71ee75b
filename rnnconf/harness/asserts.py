"""Assertion helpers: each failure says what was expected, what came back, and for which case."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnconf.spec import contract


def max_abs_diff(a: Any, b: Any) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def assert_structure(expected: Any, actual: Any, context: str, *, shapes: bool = True) -> None:
    __tracebackhide__ = True
    problems = contract.structure_mismatches(expected, actual)
    if not shapes:
        problems = [p for p in problems if ".shape=" not in p]
    assert not problems, (
        f"{context}:\n  " + "\n  ".join(problems)
        + f"\n  expected {contract.describe(expected)}")


def assert_identical(lhs: Any, rhs: Any, what: str, context: str) -> None:
    """Bit-for-bit equality: the two are documented to be the same tensor."""
    __tracebackhide__ = True
    lhs, rhs = np.asarray(lhs), np.asarray(rhs)
    if lhs.shape != rhs.shape:
        raise AssertionError(f"{what}: shapes {lhs.shape} and {rhs.shape} differ, for {context}")
    if not np.array_equal(lhs, rhs):
        bad = int(np.sum(lhs != rhs))
        raise AssertionError(
            f"{what} does not hold for {context}: {bad} of {lhs.size} values differ, "
            f"max |diff| = {max_abs_diff(lhs, rhs):.3g}\n  lhs[0]={_head(lhs)}\n  rhs[0]={_head(rhs)}")


def assert_close(actual: Any, expected: Any, what: str, context: str, *, rtol: float,
                 atol: float, against: str = "the NumPy oracle") -> float:
    """Compare with a tolerance; returns the max |diff| so reports can show it."""
    __tracebackhide__ = True
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise AssertionError(f"{what}: shape {actual.shape}, expected {expected.shape}, for {context}")
    diff = max_abs_diff(actual, expected)
    ok = np.allclose(actual, expected, rtol=rtol, atol=atol)
    if not ok:
        raise AssertionError(
            f"{what} differs from {against} for {context}: max |diff| = {diff:.3g} "
            f"(rtol={rtol:g}, atol={atol:g})\n  got[0]      ={_head(actual)}\n  expected[0] ={_head(expected)}")
    return diff


def _head(a: np.ndarray) -> str:
    flat = np.asarray(a).reshape(-1)
    shown = np.array2string(flat[:6], precision=6, separator=", ")
    return shown + (" ..." if flat.size > 6 else "")


def assert_matches_oracle(got: dict[str, np.ndarray], expected: dict[str, np.ndarray], context: str,
                          *, rtol: float, atol: float, against: str = "the NumPy oracle") -> float:
    """Every returned role against the oracle's (or another reference's, named by ``against``);
    returns the worst |diff| over them, and fails naming every role that differs."""
    __tracebackhide__ = True
    worst = 0.0
    problems = []
    for role, value in got.items():
        try:
            worst = max(worst, assert_close(value, expected[role], role, context, rtol=rtol, atol=atol,
                                            against=against))
        except AssertionError as exc:
            problems.append(str(exc))
    if problems:
        raise AssertionError("\n".join(problems))
    return worst
