"""Assertion helpers: each failure says what was expected, what came back, and for which case."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from rnnconf.spec import contract


@dataclasses.dataclass(frozen=True)
class Claim:
    """One failed claim of a test (one role's values, one gradient): what it said, and -- for a
    numeric comparison -- how far off it was, so an expectation can be held to a size."""

    message: str
    max_abs: float | None = None  # max |got - expected|
    max_rel: float | None = None  # max |got - expected| / |expected| over the nonzero expected values


class ClaimFailures(AssertionError):
    """The failed claims of one test, each judged on its own by an expectation entry
    (:func:`rnnconf.harness.expectations.verdict`): an entry that names one symptom never
    accepts another that failed beside it."""

    def __init__(self, claims: list[Claim]) -> None:
        super().__init__("\n".join(c.message for c in claims))
        self.claims = list(claims)


def max_rel_diff(a: Any, b: Any) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    nonzero = b != 0
    if not nonzero.any():
        return 0.0 if np.array_equal(a, b) else float("inf")
    worst = float(np.max(np.abs(a - b)[nonzero] / np.abs(b[nonzero])))
    return worst if np.array_equal(a[~nonzero], b[~nonzero]) else float("inf")


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
        zeros = " (got all zeros)" if actual.size and not np.any(actual) else ""
        raise ClaimFailures([Claim(
            f"{what} differs from {against} for {context}: max |diff| = {diff:.3g} "
            f"(rtol={rtol:g}, atol={atol:g}){zeros}\n  got[0]      ={_head(actual)}\n  expected[0] ={_head(expected)}",
            max_abs=diff, max_rel=max_rel_diff(actual, expected))])
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
    claims: list[Claim] = []
    for role, value in got.items():
        try:
            worst = max(worst, assert_close(value, expected[role], role, context, rtol=rtol, atol=atol,
                                            against=against))
        except ClaimFailures as exc:
            claims += exc.claims
        except AssertionError as exc:  # a shape: no size to hold an expectation to
            claims.append(Claim(str(exc)))
    if claims:
        raise ClaimFailures(claims)
    return worst


def assert_flat_matches_oracle(got: list, expected: dict[str, np.ndarray], context: str,
                               *, rtol: float, atol: float) -> float:
    """A flat list of returned tensors against the oracle's roles, in the documented order
    (``expected``'s): first how many there are -- a missing or extra tensor is the claim that
    fails, named with the documented roles -- then each by value (:func:`assert_matches_oracle`)."""
    __tracebackhide__ = True
    roles = list(expected)
    if len(got) != len(roles):
        raise ClaimFailures([Claim(f"{len(got)} tensors for {context}; documented: {len(roles)}, {roles}")])
    return assert_matches_oracle(dict(zip(roles, got)), expected, context, rtol=rtol, atol=atol)
