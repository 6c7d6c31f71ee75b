"""rnnconf.harness.expectations in-process: parsing, version and backend bounds, matching, verdicts."""

import pytest

from rnnconf.harness.expectations import Expectations, ExpectationsError, Known, glob_pattern, parse, verdict

ENTRY = '''
[[xfail]]
id = ["tests/a.py::test_x[LSTM-*]", "tests/a.py::test_y[*]"]
raises = "AssertionError"
match = "differs from the NumPy oracle"
versions = "<3.16"
backends = ["jax", "torch"]
reason = "r"
link = "l"
'''


def known(**kw):
    base = dict(pattern="p", raises="AssertionError", match="oracle", reason="r", link="l", source="f #1")
    return Known(**(base | kw))


def test_parse_expands_ids_and_keeps_bounds():
    a, b = parse(ENTRY, "k.toml")
    assert (a.pattern, b.pattern) == ("tests/a.py::test_x[LSTM-*]", "tests/a.py::test_y[*]")
    assert a.versions == "<3.16" and a.backends == ("jax", "torch") and a.source == "k.toml #1"
    assert a.fixed_in() == "3.16" and a.scope() == "versions <3.16 on jax, torch"


@pytest.mark.parametrize("text, said", [
    ('[[xfail]]\nid = "x"\nreason = "r"\nlink = "l"\n', r"lacks \['raises', 'match'\]"),
    ('[[xfail]]\nid = "x"\nraises = "E"\nmatch = "("\nreason = "r"\nlink = "l"\n', r"#1: error"),
    ('[[xfail]]\nid = "x"\nraises = "E"\nmatch = "m"\nversions = "<<3"\nreason = "r"\nlink = "l"\n',
     r"InvalidSpecifier"),
    ('[[xfail]]\nid = "x"\nraises = "E"\nmatch = "m"\nreason = "r"\nlink = "l"\nfixed = "3"\n',
     r"unknown keys \['fixed'\]"),
])
def test_malformed_entries_are_refused(text, said):
    with pytest.raises(ExpectationsError, match=said):
        parse(text, "bad.toml")


@pytest.mark.parametrize("version, backend, applies", [
    ("3.15.1", "jax", True), ("3.16.0", "jax", False), ("3.16.0.dev2026112700", "jax", False),
    ("3.15.1", "tensorflow", False), ("3.0.0", "torch", True), ("unknown", "jax", False),
])
def test_version_and_backend_bounds(version, backend, applies):
    entry = parse(ENTRY, "k.toml")[0]
    assert entry.applies_to(version, backend) is applies
    exp = Expectations([entry], ["k.toml"], version=version, backend=backend)
    assert (exp.match("tests/a.py::test_x[LSTM-seq]") is not None) is applies
    assert (entry in exp.not_applicable) is not applies


def test_unbounded_entry_applies_everywhere():
    assert known().applies_to("anything", "numpy") and known().scope() == "every version"


def test_glob_is_literal_but_star():
    assert glob_pattern("t[a-*]").fullmatch("t[a-b-c]")
    assert not glob_pattern("t[a-*]").fullmatch("tab")



@pytest.mark.parametrize("pattern", [
    "tests/a.py::test_x[LSTM-*]", "tests/a.py::test_x*", "tests/a.py::test_*[GRU-*-cpu]", "tests/*",
    "*[LSTM-seq-state]", "tests/a.py::test_x[LSTM-seq-state]", "tests/a.py::test_x", "tests/a.py::test_",
    "tests/a.py::test_x*[*]*", "tests/b.py::*",
])
def test_narrowed_matching_is_the_pattern_itself(pattern):
    """match() looks only at the entries of the node id's own test (``file::function``): for every
    pattern shape, that narrowing finds exactly what the pattern alone matches."""
    ids = ["tests/a.py::test_x[LSTM-seq-state]", "tests/a.py::test_x[GRU-last-state-cpu]", "tests/a.py::test_x",
           "tests/a.py::test_xy[LSTM-seq-state]", "tests/a.py::test_[GRU-x-cpu]", "tests/b.py::test_x[LSTM-1]"]
    entry = known(pattern=pattern)
    exp = Expectations([entry], ["k.toml"])
    assert [exp.match(n) is entry for n in ids] == [bool(glob_pattern(pattern).fullmatch(n)) for n in ids]
    assert exp.matched(ids) == ({entry.key} if any(glob_pattern(pattern).fullmatch(n) for n in ids) else set())

def test_verdicts():
    k = known(match="differs from the .* oracle")
    assert verdict(k, ["AssertionError", "Exception"], "output differs from the NumPy oracle").outcome == "xfailed"
    wrong_type = verdict(k, ["TypeError", "Exception"], "differs from the NumPy oracle")
    assert wrong_type.outcome == "failed" and "expecting AssertionError matching" in wrong_type.text \
        and "failed differently: TypeError" in wrong_type.text
    wrong_text = verdict(k, ["AssertionError"], "expected 3 items, got 2")
    assert wrong_text.outcome == "failed" and "expected 3 items" in wrong_text.text
    fixed = verdict(k, None, "")
    assert fixed.outcome == "failed" and fixed.text.startswith("[XPASS(strict)]") and "versions" in fixed.text
    # a base class name matches a subclass (ValueError raised, "Exception" expected)
    assert verdict(known(raises="Exception", match="."), ["ValueError", "Exception"], "x").outcome == "xfailed"


def test_stale_only_counts_files_that_ran():
    a, b = parse(ENTRY, "k.toml")
    exp = Expectations([a, b], ["k.toml"], version="3.15.1", backend="jax")
    assert exp.stale(["tests/a.py::test_x[LSTM-1]"]) == [b]
    assert exp.stale(["tests/other.py::test_z"]) == []


# ---- one claim at a time, and the size of a numeric bug ------------------------------------------
from rnnconf.harness.asserts import Claim, ClaimFailures, assert_matches_oracle  # noqa: E402

ORACLE = "differs from the NumPy oracle for X"


def _claims(**got_minus_expected):
    """The ClaimFailures assert_matches_oracle raises for roles off by the given amounts."""
    import numpy as np

    expected = {role: np.ones(3) for role in got_minus_expected}
    got = {role: np.ones(3) + off for role, off in got_minus_expected.items()}
    with pytest.raises(ClaimFailures) as exc:
        assert_matches_oracle(got, expected, "X", rtol=1e-5, atol=1e-5)
    return exc.value


def test_every_failed_role_is_a_claim_with_its_size():
    failure = _claims(output=0.0, h=1e-3, c=0.5)
    assert [c.message.split(" ")[0] for c in failure.claims] == ["h", "c"]
    assert [c.max_abs for c in failure.claims] == pytest.approx([1e-3, 0.5])
    assert [c.max_rel for c in failure.claims] == pytest.approx([1e-3, 0.5])


def test_an_entry_naming_one_claim_does_not_cover_another():
    failure = _claims(h=0.5, c=0.5)
    only_c = known(match=r"^c differs")
    judged = verdict(only_c, ["ClaimFailures", "AssertionError"], str(failure), failure.claims)
    assert judged.outcome == "failed" and "1 of the 2 failed claims are not that bug: h differs" in judged.text
    both = known(match=r"^(h|c) differs")
    assert verdict(both, ["AssertionError"], str(failure), failure.claims).outcome == "xfailed"
    # judged as one joined message (no claims), an entry naming one symptom accepts the other too:
    # the hole this closes
    loose = known(match=r"c differs")
    assert verdict(loose, ["AssertionError"], str(failure)).outcome == "xfailed"
    assert verdict(loose, ["AssertionError"], str(failure), failure.claims).outcome == "failed"


@pytest.mark.parametrize(("bounds", "outcome", "said"), [
    ({"max_abs": 1e-2}, "xfailed", ""),
    ({"max_abs": 1e-4}, "failed", "max |diff| = 0.001 exceeds the entry's 0.0001"),
    ({"max_rel": 1e-2}, "xfailed", ""),
    ({"max_rel": 1e-4}, "failed", "max relative diff = 0.001 exceeds the entry's 0.0001"),
])
def test_a_numeric_entry_covers_deviations_up_to_its_size(bounds, outcome, said):
    failure = _claims(output=1e-3)
    judged = verdict(known(match="oracle", **bounds), ["AssertionError"], str(failure), failure.claims)
    assert judged.outcome == outcome and said in judged.text


def test_a_bounded_entry_does_not_cover_a_failure_without_a_size():
    judged = verdict(known(match="oracle", max_abs=1.0), ["AssertionError"], "shape differs from the oracle",
                     [Claim("shape differs from the oracle")])
    assert judged.outcome == "failed" and "carries no max |diff|" in judged.text
    assert verdict(known(match="oracle", max_abs=1.0), ["AssertionError"], "the oracle").outcome == "failed"


def test_bounds_parse_and_must_be_positive():
    (entry,) = parse('[[xfail]]\nid = "x"\nraises = "E"\nmatch = "m"\nmax_abs = 1e-7\nreason = "r"\nlink = "l"\n', "k")
    assert entry.max_abs == 1e-7 and entry.max_rel is None and "max |diff| <= 1e-07" in entry.expected_failure()
    with pytest.raises(ExpectationsError, match="max_rel must be a positive number"):
        parse('[[xfail]]\nid = "x"\nraises = "E"\nmatch = "m"\nmax_rel = 0\nreason = "r"\nlink = "l"\n', "k")


def test_an_unobserved_entry_is_not_a_strict_xpass():
    unobserved = known(observed=False)
    judged = verdict(unobserved, None, "")
    assert judged.outcome == "passed" and "not yet observed nonconformance" in judged.text
    assert verdict(unobserved, ["AssertionError"], "the oracle").outcome == "xfailed"  # first seen: as listed
    assert verdict(known(), None, "").outcome == "failed"  # an observed one that stops failing: strict
    assert "(not yet observed)" in unobserved.scope()


def test_a_machine_dependent_entry_applies_only_where_the_cpu_has_the_flag(monkeypatch):
    import rnnconf.harness.expectations as expectations

    entry = known(cpu_flags=("avx512_bf16", "amx_bf16"))
    monkeypatch.setattr(expectations, "cpu_flags", lambda: {"sse2", "avx2"})
    assert not entry.applies_to("3.15.1", "openvino")
    monkeypatch.setattr(expectations, "cpu_flags", lambda: {"sse2", "amx_bf16"})
    assert entry.applies_to("3.15.1", "openvino") and "on a CPU with avx512_bf16 or amx_bf16" in entry.scope()


def test_an_entry_bound_to_tensorflows_onednn_applies_only_where_its_state_matches():
    entry = known(backends=("tensorflow",), onednn=False)
    assert not entry.applies_to("3.15.1", "tensorflow", True)
    assert entry.applies_to("3.15.1", "tensorflow", True, machine=False)  # a run recorded elsewhere
    assert entry.applies_to("3.15.1", "tensorflow", False) and "oneDNN CPU kernels off" in entry.scope()
    assert not entry.applies_to("3.15.1", "jax", False)
    assert not entry.applies_to("3.15.1", "tensorflow", None)  # no TensorFlow to ask
    exp = Expectations([entry], ["k.toml"], version="3.15.1", backend="tensorflow", onednn=False)
    assert exp.entries == [entry]
    (parsed,) = parse('[[xfail]]\nid = "x"\nraises = "E"\nmatch = "m"\nonednn = false\nreason = "r"\nlink = "l"\n', "k")
    assert parsed.onednn is False
    with pytest.raises(ExpectationsError, match="onednn must be true or false"):
        parse('[[xfail]]\nid = "x"\nraises = "E"\nmatch = "m"\nonednn = "off"\nreason = "r"\nlink = "l"\n', "k")


def test_observed_and_cpu_flags_parse():
    (entry,) = parse('[[xfail]]\nid = "x"\nraises = "E"\nmatch = "m"\nobserved = false\ncpu_flags = "amx_bf16"\n'
                     'reason = "r"\nlink = "l"\n', "k")
    assert entry.observed is False and entry.cpu_flags == ("amx_bf16",)
    with pytest.raises(ExpectationsError, match="observed must be true or false"):
        parse('[[xfail]]\nid = "x"\nraises = "E"\nmatch = "m"\nobserved = "no"\nreason = "r"\nlink = "l"\n', "k")


def test_an_entry_raised_in_a_frame_covers_that_frame_only():
    k = known(raises="IndexError", match="list index out of range", raised_in=r"rnn/lstm\.py:inner_loop$")
    inside = ["tests/t.py:test_x", "/x/site-packages/keras/src/layers/rnn/lstm.py:inner_loop"]
    assert verdict(k, ["IndexError"], "list index out of range", frames=inside).outcome == "xfailed"
    other = verdict(k, ["IndexError"], "list index out of range", frames=["tests/t.py:test_x", "/x/a.py:f"])
    assert other.outcome == "failed" and "raised in /rnn/lstm" in other.text and "(raised in /x/a.py:f)" in other.text
    assert verdict(k, ["IndexError"], "list index out of range").outcome == "failed"  # no frames: not shown


def test_raised_in_parses_and_must_compile():
    (entry,) = parse(ENTRY.replace('reason = "r"', 'raised_in = "a\\\\.py:f$"\nreason = "r"'), "k.toml")[:1]
    assert entry.raised_in == r"a\.py:f$"
    with pytest.raises(ExpectationsError, match="k.toml"):
        parse(ENTRY.replace('reason = "r"', 'raised_in = "("\nreason = "r"'), "k.toml")


def test_an_entry_may_name_two_exceptions_and_no_other():
    k = known(raises="AssertionError|RuntimeError", match="differs|Can not create")
    assert verdict(k, ["AssertionError", "Exception"], "differs").outcome == "xfailed"
    assert verdict(k, ["RuntimeError", "Exception"], "Can not create StaticMemory").outcome == "xfailed"
    other = verdict(k, ["ValueError", "Exception"], "differs")
    assert other.outcome == "failed" and "expecting AssertionError|RuntimeError matching" in other.text


def test_a_self_test_expects_what_a_machine_bound_entry_says_of_a_case_that_cannot_run_here(monkeypatch):
    """A fake wraps Keras's layer, so a case a machine-bound Keras entry claims here (TensorFlow's
    oneDNN off) fails as that entry says on the fake too; the self-test then expects that
    failure for it, and still needs the fake's own failure somewhere."""
    import tests.selftest.suite as suite

    here = known(pattern="t.py::test_a[CF-*]", raises="UnimplementedError", match="NHWC", onednn=False)
    monkeypatch.setattr(suite, "machine_bound", lambda: (here,))
    want = {"t.py::test_a[CF-1]": "passed", "t.py::test_a[CF-2]": "failed", "t.py::test_a[X-1]": "failed"}
    failed = {"fake's message": {"t.py::test_a[CF-2]", "t.py::test_a[X-1]"}}
    assert suite._cannot_run_here(want, failed) == []
    assert want == dict.fromkeys(want, "failed")
    assert failed == {"fake's message": {"t.py::test_a[X-1]"}, "NHWC": {"t.py::test_a[CF-1]", "t.py::test_a[CF-2]"}}
    # a fake whose every failing case cannot run here is not shown caught: a problem, not a pass
    failed = {"fake's message": {"t.py::test_a[CF-2]"}}
    (problem,) = suite._cannot_run_here({"t.py::test_a[CF-2]": "failed"}, failed)
    assert "the fake is not shown caught here" in problem
