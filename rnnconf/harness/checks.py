"""Check helpers shared by the value and option tests: call a case, pair what came back with
the contract's roles, and compare it with the NumPy oracle (recording the deviation)."""

from __future__ import annotations

from typing import Any

import pytest

from rnnconf.spec import contract, reference
from rnnconf.harness.asserts import assert_matches_oracle


def roles_of(run: Any, return_sequences: bool, return_state: bool, **call_kwargs: Any):
    """(role -> array, Returned) of one call; fails with both structures when they differ."""
    got = run.call(return_sequences, return_state, **call_kwargs)
    return roles_in(run, got.tree, return_sequences, return_state), got


def roles_in(run: Any, tree: Any, return_sequences: bool, return_state: bool, how: str = "") -> dict:
    """Pair a returned tree (of any call of the case: stateful, a clone, with dropout...) with
    the contract's roles, in order; fails, naming both structures, when the counts differ. Every
    test that compares returned tensors one by one gets its arity checked here, once."""
    __tracebackhide__ = True
    expected = contract.expected_tree(run.entry, run.shape, return_sequences, return_state)
    roles = contract.by_role(expected, tree)
    if roles is None:
        pytest.fail(f"{run.describe(return_sequences, return_state)}{how} returned "
                    f"{contract.describe(tree)}, expected {contract.describe(expected)} "
                    "(test_structure reports the difference)", pytrace=False)
    return roles


def check_against_oracle(run: Any, return_sequences: bool, return_state: bool, record: Any, *,
                         dtype: str = "float32", call_kwargs: dict | None = None,
                         only: str = "all", **oracle_kwargs: Any):
    """Call the case and compare the returned tensors with the oracle; record the deviation.
    ``only``: ``all``, ``output`` (the outputs alone) or ``states`` (the states alone), for a
    test that checks one claim of a call."""
    __tracebackhide__ = True
    roles, got = roles_of(run, return_sequences, return_state, **(call_kwargs or {}))
    if only != "all":
        roles = {r: v for r, v in roles.items() if r.startswith("output") == (only == "output")}
    expected = reference.expected_roles(run.entry, run.shape, run.weights, run.x,
                                        return_sequences=return_sequences, **oracle_kwargs)
    context = run.describe(return_sequences, return_state)
    if oracle_kwargs:
        context += " with " + ", ".join(f"{k}=<{type(v).__name__}>" if hasattr(v, "shape") or isinstance(v, list)
                                        else f"{k}={v!r}" for k, v in oracle_kwargs.items())
    worst = assert_matches_oracle(roles, expected, context, **reference.tolerance(dtype))
    record.deviation(worst, reference.tolerance_text(dtype))
    return roles, got
