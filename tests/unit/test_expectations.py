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
