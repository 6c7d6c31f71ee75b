"""Check helpers shared by the value and option tests: call a case, pair what came back with
the contract's roles, and compare it with the NumPy oracle (recording the deviation)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

from rnnconf.spec import contract, reference, unspecified
from rnnconf.harness.asserts import ClaimFailures, assert_matches_oracle
from rnnconf.harness.outcomes import skip_without_float64


def run_under_policy(make_run: Any, policy: str) -> Any:
    """The case made with ``dtype=policy`` (a key of contract.DTYPE_POLICIES); a float64 policy
    skips, saying what to set, where the backend runs without 64-bit types."""
    run = make_run(dtype=policy)
    skip_unless_policy_runs(run, policy)
    return run


def skip_unless_policy_runs(run: Any, policy: str) -> None:
    """Skip, saying what to set, a float64 case where the backend runs without 64-bit types."""
    if contract.DTYPE_POLICIES[policy][0] == "float64":
        skip_without_float64(run.impl)


def roles_of(run: Any, return_sequences: bool, return_state: bool, **call_kwargs: Any):
    """(role -> array, Returned) of one call; fails with both structures when they differ."""
    got = run.call(return_sequences, return_state, **call_kwargs)
    return roles_in(run, got.tree, return_sequences, return_state), got


def roles_in(run: Any, tree: Any, return_sequences: bool, return_state: bool, how: str = "",
             shape: Any = None) -> dict:
    """Pair a returned tree (of any call of the case: stateful, a clone, with dropout...) with
    the contract's roles, in order; fails, naming both structures, when the counts differ. Every
    test that compares returned tensors one by one gets its arity checked here, once. ``shape``:
    the call's input when it is not the case's (a stateful call on part of the sequence)."""
    __tracebackhide__ = True
    expected = contract.expected_tree(run.entry, shape or run.shape, return_sequences, return_state)
    roles = contract.by_role(expected, tree)
    if roles is None:
        pytest.fail(f"{run.describe(return_sequences, return_state)}{how} returned "
                    f"{contract.describe(tree)}, expected {contract.describe(expected)} "
                    "(test_structure reports the difference)", pytrace=False)
    return roles


def check_against_oracle(run: Any, return_sequences: bool, return_state: bool, record: Any, *,
                         dtype: str = "float32", call_kwargs: dict | None = None,
                         only: str = "all", rows: dict[str, np.ndarray] | None = None,
                         **oracle_kwargs: Any):
    """Call the case and compare the returned tensors with the oracle; record the deviation.
    ``only``: ``all``, ``output`` (the outputs alone) or ``states`` (the states alone), for a
    test that checks one claim of a call. ``rows``: label -> bool (batch,) selection: the outputs
    are compared group by group, each group its own claim (``output (<label>)``)."""
    __tracebackhide__ = True
    roles, got = roles_of(run, return_sequences, return_state, **(call_kwargs or {}))
    if only != "all":
        roles = {r: v for r, v in roles.items() if r.startswith("output") == (only == "output")}
    context = run.describe(return_sequences, return_state)
    if oracle_kwargs:
        context += " with " + ", ".join(f"{k}=<{type(v).__name__}>" if hasattr(v, "shape") or isinstance(v, list)
                                        else f"{k}={v!r}" for k, v in oracle_kwargs.items())

    def by_rows(tensors: dict[str, Any]) -> dict[str, Any]:
        if not rows:
            return tensors
        out = {}
        for role, value in tensors.items():
            if not role.startswith("output"):
                out[role] = value
                continue
            out.update({f"{role} ({label})": np.asarray(value)[chosen]
                        for label, chosen in rows.items() if np.any(chosen)})
        return out

    worst = judge_open_behaviours(
        run, record, lambda expected: assert_matches_oracle(by_rows(roles), by_rows(expected), context,
                                                            **reference.tolerance(dtype)),
        lambda choices: reference.expected_roles(run.entry, run.shape, run.weights, run.x, choices=choices,
                                                 return_sequences=return_sequences, **oracle_kwargs),
        **oracle_kwargs)
    record.deviation(worst, reference.tolerance_text(dtype))
    return roles, got


def judge_open_behaviours(run: Any, record: Any, compare: Callable[[Any], float],
                          expected_for: Callable[[dict[str, str]], Any], **options: Any) -> float:
    """``compare(expected_for({}))``: the oracle's values, as everywhere. Where the case depends
    on a behaviour the documentation leaves open (rnnconf/spec/unspecified.py) and the oracle's
    choice fails, each other listed choice is tried: if every claim holds under one, the case
    passes and the record names the divergence; if none does, the oracle's failure stands."""
    __tracebackhide__ = True
    try:
        return compare(expected_for({}))
    except ClaimFailures as failed:
        for behaviour in unspecified.applicable(run.entry, run.shape, **options):
            for choice in behaviour.alternatives:
                try:
                    expected = expected_for({behaviour.key: choice})
                except ValueError:  # this case cannot make that choice (e.g. no state shaped like the output)
                    continue
                try:
                    worst = compare(expected)
                except AssertionError:
                    continue
                record.divergence(behaviour.key, choice, oracle=failed.claims[0].message.split("\n")[0])
                return worst
        raise


def check_composed(composed: Any, outputs: Any, return_sequences: bool, return_state: bool,
                   how: str, record: Any, front: str | None = None, rows: int | None = None,
                   dtype: str = "float32") -> None:
    """The composition's returned tensors (``outputs``, got ``how``; of the first ``rows`` rows
    only, if given) against the oracle chain at ``dtype``'s tolerance; records the deviation."""
    __tracebackhide__ = True
    context = f"{composed.describe(return_sequences, return_state, front)}, {how}"
    roles = roles_of_outputs(composed.comp, composed.shape, outputs.arrays(return_sequences, return_state),
                             return_sequences, return_state, context)
    expected = {role: value[:rows] for role, value in composed.oracle(return_sequences, front).items()}
    worst = assert_matches_oracle(roles, expected, context, **reference.tolerance(dtype))
    record.deviation(worst, reference.tolerance_text(dtype))


def roles_of_outputs(comp: Any, shape: Any, arrays: list, return_sequences: bool,
                     return_state: bool, context: str) -> dict[str, np.ndarray]:
    """Pair a composition's flat outputs with the last layer's roles; fails on another count."""
    __tracebackhide__ = True
    expected = comp.expected(shape, return_sequences, return_state)
    roles = contract.by_role(expected, arrays)
    if roles is None:
        pytest.fail(f"{context} returned {len(arrays)} tensor(s) "
                    f"({', '.join(str(tuple(a.shape)) for a in arrays)}), expected {contract.describe(expected)}",
                    pytrace=False)
    return roles
