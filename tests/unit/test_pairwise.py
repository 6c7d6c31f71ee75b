"""The covering-array generator (rnnconf/spec/pairwise.py): every pair of option values that some
allowed row can hold is in some generated row, every row is allowed, the array stays near the
lower bound, and the same inputs give the same rows in every process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rnnconf.spec import pairwise
from rnnconf.spec.pairwise import (covering_array, describe_pair, missing_pairs, pairs_of,
                                   required_pairs, sort_pairs, uncoverable_pairs)

REPO = Path(__file__).resolve().parents[2]

# The options of a recurrent layer the suite pairs, defaults first, and the rules between them.
LAYER_OPTIONS = {
    "mask": ("none", "arbitrary", "right_padded", "fully_masked"),
    "go_backwards": (False, True),
    "unroll": (False, True),
    "stateful": (False, True),
    "initial_state": (False, True),
    "zero_output_for_mask": (False, True),
    "dropout_training": (False, True),
    "use_cudnn": ("auto", False),
    "dtype_policy": ("float32", "mixed_float16", "mixed_bfloat16"),
    "return_sequences": (False, True),
    "return_state": (False, True),
}
DEFAULTS = {name: values[0] for name, values in LAYER_OPTIONS.items()}


def layer_allowed(row: dict) -> bool:
    """zero_output_for_mask needs a mask; a stateful layer is not fed a fully masked batch; the
    cuDNN kernel is not asked for with unroll; this backend has no bfloat16 cuDNN kernel."""
    if row["zero_output_for_mask"] and row["mask"] == "none":
        return False
    if row["stateful"] and row["mask"] == "fully_masked":
        return False
    if row["use_cudnn"] == "auto" and row["unroll"] and row["dtype_policy"] == "mixed_bfloat16":
        return False
    return True


def sized(*sizes: int) -> dict[str, tuple]:
    """Factors f0, f1, ... with values 0..size-1."""
    return {f"f{i}": tuple(range(s)) for i, s in enumerate(sizes)}


def lower_bound(factors: dict, allowed=None) -> int:
    """No array is shorter than the most required pairs of any two factors (a row holds one)."""
    per_two: dict[tuple[str, str], int] = {}
    for (fa, _), (fb, _) in required_pairs(factors, allowed):
        per_two[fa, fb] = per_two.get((fa, fb), 0) + 1
    return max(per_two.values(), default=0)


def assert_covering(rows: list[dict], factors: dict, allowed=None) -> None:
    """Every row names every factor with one of its values and is allowed; no pair is missing."""
    for n, row in enumerate(rows):
        assert list(row) == list(factors), f"row {n} has factors {list(row)}, expected {list(factors)}"
        for name, value in row.items():
            assert value in factors[name], f"row {n}: {name}={value!r} is not among {factors[name]}"
        assert allowed is None or allowed(row), f"row {n} is not allowed: {row}"
    missing = sort_pairs(missing_pairs(rows, factors, allowed), factors)
    assert not missing, f"{len(missing)} pairs in no row, e.g. {[describe_pair(p) for p in missing[:5]]}"


def no_rule(row: dict) -> bool:
    return True


def needs_mask(row: dict) -> bool:
    """zero_output_for_mask=True requires a mask (f0=0 is "none")."""
    return not (row["f1"] == 1 and row["f0"] == 0)


def two_rules(row: dict) -> bool:
    """needs_mask, and f2=1 (stateful) forbids f0=3 (a fully masked batch)."""
    return needs_mask(row) and not (row["f2"] == 1 and row["f0"] == 3)


# (factors, predicate, at most this many rows). The bound is the best possible plus one, a row
# of slack for a change of tie-breaks, and exact where a few small factors meet the bound. The
# best possible is the lower bound (lower_bound above) or, for binary factors, the known optimum:
# 4 factors 5, 5 factors 6, 7 factors 6, 11 factors 7. Today every array here is the best possible.
CASES = {
    "binary-2": (sized(2, 2), None, 4),
    "binary-3": (sized(2, 2, 2), None, 4),
    "binary-4": (sized(2, 2, 2, 2), None, 6),
    "binary-5": (sized(2, 2, 2, 2, 2), None, 7),
    "binary-7": (sized(*[2] * 7), None, 7),
    "binary-11": (sized(*[2] * 11), None, 8),
    "sizes-3-4": (sized(3, 4), None, 12),
    "ternary-4": (sized(3, 3, 3, 3), None, 10),
    "mixed-11": (sized(4, 2, 2, 2, 2, 2, 2, 2, 3, 2, 2), None, 13),
    "mixed-12": (sized(5, 5, 4, 3, 2, 2, 2, 2, 2, 2, 2, 2), None, 27),
    "always-allowed": (sized(4, 2, 3), no_rule, 12),
    "needs-mask": (sized(4, 2, 2, 2, 2), needs_mask, 9),
    "two-rules": (sized(4, 2, 2, 3, 2, 2), two_rules, 13),
    "layer-options": (LAYER_OPTIONS, layer_allowed, 13),
}


@pytest.mark.parametrize("case", CASES)
def test_every_coverable_pair_is_in_an_allowed_row(case):
    factors, allowed, _ = CASES[case]
    assert_covering(covering_array(factors, allowed), factors, allowed)


@pytest.mark.parametrize("case", CASES)
def test_the_array_stays_within_its_bound(case):
    factors, allowed, at_most = CASES[case]
    rows = covering_array(factors, allowed)
    bound = lower_bound(factors, allowed)
    assert bound <= len(rows) <= at_most, f"{len(rows)} rows for {case}, expected {bound}..{at_most}"
    assert len(rows) <= 2 * bound


@pytest.mark.parametrize("sizes, rows", [((2, 2, 2), 4), ((3, 4), 12), ((2, 5), 10), ((4, 4, 4), 16)])
def test_the_lower_bound_is_met_exactly_where_it_can_be(sizes, rows):
    assert len(covering_array(sized(*sizes))) == rows


def test_a_rule_makes_its_pair_uncoverable_and_not_required():
    factors = {"mask": ("none", "arbitrary", "fully_masked"), "stateful": (False, True),
               "zero_output_for_mask": (False, True)}

    def allowed(row):
        return not (row["stateful"] and row["mask"] == "fully_masked")

    forbidden = (("mask", "fully_masked"), ("stateful", True))
    assert uncoverable_pairs(factors, allowed) == {forbidden}
    assert forbidden not in required_pairs(factors, allowed)
    assert len(required_pairs(factors, allowed)) == 3 * 2 + 3 * 2 + 2 * 2 - 1
    rows = covering_array(factors, allowed)
    assert_covering(rows, factors, allowed)
    assert forbidden not in pairs_of(rows, factors)


def test_pairs_of_a_forbidden_value_are_all_uncoverable():
    """A dtype policy the backend lacks: no pair holds it, and no row."""
    factors = {"dtype_policy": ("float32", "mixed_bfloat16"), "go_backwards": (False, True),
               "unroll": (False, True)}

    def allowed(row):
        return row["dtype_policy"] != "mixed_bfloat16"

    assert uncoverable_pairs(factors, allowed) == {
        (("dtype_policy", "mixed_bfloat16"), ("go_backwards", False)),
        (("dtype_policy", "mixed_bfloat16"), ("go_backwards", True)),
        (("dtype_policy", "mixed_bfloat16"), ("unroll", False)),
        (("dtype_policy", "mixed_bfloat16"), ("unroll", True)),
    }
    rows = covering_array(factors, allowed)
    assert_covering(rows, factors, allowed)
    assert {r["dtype_policy"] for r in rows} == {"float32"}
    assert len(rows) == 4


def test_nothing_is_uncoverable_without_a_rule():
    factors = sized(3, 2, 2)
    assert uncoverable_pairs(factors) == set()
    assert required_pairs(factors) == required_pairs(factors, no_rule)
    assert len(required_pairs(factors)) == 3 * 2 + 3 * 2 + 2 * 2


def test_pairs_are_canonical_in_factor_order():
    factors = {"mask": ("none", "arbitrary"), "go_backwards": (False, True)}
    assert pairs_of([{"go_backwards": True, "mask": "arbitrary"}], factors) == {
        (("mask", "arbitrary"), ("go_backwards", True))}
    assert describe_pair((("go_backwards", True), ("mask", "arbitrary"))) == "go_backwards=True × mask=arbitrary"


def test_two_calls_give_the_same_rows():
    assert covering_array(LAYER_OPTIONS, layer_allowed) == covering_array(LAYER_OPTIONS, layer_allowed)
    assert covering_array(sized(*[2] * 11)) == covering_array(sized(*[2] * 11))


@pytest.mark.parametrize("hashseed", ["0", "4242"])
def test_the_rows_do_not_depend_on_hash_randomisation(hashseed):
    code = ("import sys; sys.path.insert(0, 'tests')\n"
            "from unit.test_pairwise import LAYER_OPTIONS, layer_allowed\n"
            "from rnnconf.spec.pairwise import covering_array, required_pairs, sort_pairs\n"
            "print(repr(covering_array(LAYER_OPTIONS, layer_allowed)))\n"
            "print(repr(sort_pairs(required_pairs(LAYER_OPTIONS, layer_allowed), LAYER_OPTIONS)))\n")
    env = {**os.environ, "PYTHONHASHSEED": hashseed, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    here = (repr(covering_array(LAYER_OPTIONS, layer_allowed)) + "\n"
            + repr(sort_pairs(required_pairs(LAYER_OPTIONS, layer_allowed), LAYER_OPTIONS)) + "\n")
    assert done.stdout == here


def test_seed_rows_come_first_and_are_kept():
    stateful = {**DEFAULTS, "stateful": True, "mask": "arbitrary"}
    seeds = [DEFAULTS, stateful, DEFAULTS]
    rows = covering_array(LAYER_OPTIONS, layer_allowed, seed_rows=seeds)
    assert rows[:3] == seeds
    assert_covering(rows, LAYER_OPTIONS, layer_allowed)
    assert len(rows) <= CASES["layer-options"][2] + len(seeds)


def test_a_seed_row_must_be_a_full_allowed_row():
    with pytest.raises(ValueError, match="not allowed"):
        covering_array(LAYER_OPTIONS, layer_allowed, seed_rows=[{**DEFAULTS, "zero_output_for_mask": True}])
    with pytest.raises(ValueError, match="missing \\['return_state'\\]"):
        covering_array(LAYER_OPTIONS, seed_rows=[{k: v for k, v in DEFAULTS.items() if k != "return_state"}])
    with pytest.raises(ValueError, match="not a value of factor 'mask'"):
        covering_array(LAYER_OPTIONS, seed_rows=[{**DEFAULTS, "mask": "left_padded"}])


def test_a_factor_needs_distinct_values():
    with pytest.raises(ValueError, match="repeats a value"):
        covering_array({"a": (1, 2, 1), "b": (0, 1)})
    with pytest.raises(ValueError, match="has no values"):
        covering_array({"a": (), "b": (0, 1)})


@pytest.mark.parametrize("case", ["mixed-11", "needs-mask", "layer-options"])
def test_missing_pairs_are_those_only_the_removed_row_held(case):
    factors, allowed, _ = CASES[case]
    rows = covering_array(factors, allowed)
    assert missing_pairs(rows, factors, allowed) == set()
    for n in range(len(rows)):
        others = rows[:n] + rows[n + 1:]
        only_this = pairs_of([rows[n]], factors) - pairs_of(others, factors)
        assert missing_pairs(others, factors, allowed) == only_this, f"without row {n}"


def test_a_short_list_of_rows_misses_what_it_lacks():
    factors = sized(2, 2)
    assert sort_pairs(missing_pairs([{"f0": 0, "f1": 0}, {"f0": 1, "f1": 1}], factors), factors) == [
        (("f0", 0), ("f1", 1)), (("f0", 1), ("f1", 0))]
    assert [describe_pair(p) for p in sort_pairs(missing_pairs([], factors), factors)] == [
        "f0=0 × f1=0", "f0=0 × f1=1", "f0=1 × f1=0", "f0=1 × f1=1"]


def test_one_factor_gives_one_row_per_allowed_value():
    factors = {"mask": ("none", "arbitrary", "fully_masked")}
    assert covering_array(factors) == [{"mask": "none"}, {"mask": "arbitrary"}, {"mask": "fully_masked"}]
    assert covering_array(factors, lambda row: row["mask"] != "arbitrary") == [
        {"mask": "none"}, {"mask": "fully_masked"}]
    assert covering_array(factors, seed_rows=[{"mask": "fully_masked"}]) == [
        {"mask": "fully_masked"}, {"mask": "none"}, {"mask": "arbitrary"}]
    assert required_pairs(factors) == uncoverable_pairs(factors) == set()


def test_no_factors_give_the_one_empty_row():
    """Documented choice: [{}], so that a test with no options still runs once."""
    assert covering_array({}) == [{}]
    assert covering_array({}, lambda row: False) == []
    assert required_pairs({}) == set()


def test_nothing_allowed_gives_no_rows():
    factors = sized(2, 3)
    assert covering_array(factors, lambda row: False) == []
    assert len(uncoverable_pairs(factors, lambda row: False)) == 6


def test_a_constrained_product_too_large_to_enumerate_is_refused(monkeypatch):
    monkeypatch.setattr(pairwise, "MAX_PRODUCT", 100)
    with pytest.raises(ValueError, match="MAX_PRODUCT"):
        covering_array(sized(5, 5, 5), no_rule)
    assert_covering(covering_array(sized(5, 5, 5)), sized(5, 5, 5))   # no predicate: no enumeration


@pytest.mark.parametrize("case", ["binary-11", "mixed-11", "layer-options", "mixed-12"])
def test_generation_is_fast(case):
    factors, allowed, _ = CASES[case]
    start = time.perf_counter()
    rows = covering_array(factors, allowed)
    seconds = time.perf_counter() - start
    print(f"\n{case}: {len(factors)} factors, sizes {[len(v) for v in factors.values()]}, "
          f"{len(rows)} rows in {seconds * 1000:.1f} ms")
    assert seconds < 5, f"{case}: {seconds:.2f} s to generate {len(rows)} rows, expected < 5 s"
