"""Known nonconformances name the failure they expect: end to end on a fake (fixtures.broken.
wrong_arity, whose LSTM(return_state=True) drops c) with a made-up expectations file whose
entries cover every verdict -- the named failure, a different failure, a pass (fixed), an entry
outside its version range, a stale entry, and an entry whose cases this run deselected (not run
in this lane, which is not stale)."""

from __future__ import annotations

import re

import pytest

from rnnconf.spec.catalog import NOTEBOOK_SHAPE

from .suite import STRUCTURE, catalog_ids, run_suite

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.selftest


def _arity(rs: bool, st: bool) -> str:
    (nodeid,) = catalog_ids(STRUCTURE, "test_arity", ["LSTM"], return_sequences=[rs], return_state=[st],
                            shapes=[NOTEBOOK_SHAPE])
    return nodeid


def test_each_verdict_of_an_expectation(pytester, monkeypatch):
    named = _arity(False, True)       # fails as the entry says: a known failure
    different = _arity(True, True)    # fails, but not as the entry says
    fixed = _arity(False, False)      # passes: the "bug" is gone
    out_of_range = _arity(True, False)  # passes; its entry is for versions < 0.1 only
    stale = f"{STRUCTURE}::test_arity[NoSuchLayer-*]"
    deselected = f"{STRUCTURE}::test_arity[GRU-*]"  # exists, but -k below selects LSTM only
    toml = pytester.path / "made-up.toml"
    entry = '[[xfail]]\nid = "{}"\nraises = "{}"\nmatch = \'{}\'\nreason = "{}"\nlink = "selftest"\n{}\n'
    toml.write_text("".join([
        entry.format(named, "AssertionError", r"expected 3 items \(.*\), got 2", "made up: drops c", ""),
        entry.format(different, "TypeError", "unsupported operand", "made up: a TypeError", ""),
        entry.format(fixed, "AssertionError", ".", "made up: fixed since", ""),
        entry.format(out_of_range, "AssertionError", ".", "made up: old releases", 'versions = "<0.1"'),
        entry.format(stale, "AssertionError", ".", "made up: matches nothing", ""),
        entry.format(deselected, "AssertionError", ".", "made up: not in this selection", ""),
    ]))
    run = run_suite(pytester, monkeypatch, "fixtures.broken.wrong_arity", [STRUCTURE],
                    expectations=str(toml), k="test_arity and [LSTM- and " + NOTEBOOK_SHAPE.id)
    assert re.search(r"rnn-conformance: expectations 5 known nonconformance\(s\) from made-up\.toml "
                     r"\(1 more do not apply to \S+ on \w+\)", run.stdout), run.stdout[-2000:]
    run.assert_outcomes(
        failed={
            # named both: what the entry expected and what happened
            r"known nonconformance is listed for this case \(made-up\.toml #2: .*\), expecting TypeError "
            r"matching /unsupported operand/, but it failed differently: AssertionError: .*expected 3 items":
                {different},
            r"\[XPASS\(strict\)\] known nonconformance no longer fails \(made-up\.toml #3: .*\): made up: "
            r"fixed since .*bound the entry with versions = \"<FIXED\"": {fixed},
        },
        xfailed={named}, passed={out_of_range})
    assert re.search(r"stale expectations.*\n.*matches no case that ran\b.*made-up\.toml #5: "
                     + re.escape(stale), run.stdout), run.stdout[-2000:]
    stale_section = run.stdout.split("stale expectations", 1)[1].split("rnn-conformance reports", 1)[0]
    assert "#6" not in stale_section.split("not run in this lane")[0], run.stdout[-2000:]
    assert re.search(r"rnn-conformance: 1 expectation\(s\) not run in this lane \(their cases are "
                     r"deselected here: the default lane, --shard, -k, or no GPU\): made-up\.toml #6", run.stdout), run.stdout[-2000:]


def test_an_entry_names_the_frame_its_error_arises_in(pytester, monkeypatch):
    """``raised_in``: the same exception and message arising in another frame is not the entry's
    bug (Keras 3's traceback filtering is off, so the frames are there to read)."""
    here, elsewhere = _arity(False, True), _arity(True, True)  # both fail the same way on this fake
    toml = pytester.path / "frames.toml"
    entry = ('[[xfail]]\nid = "{}"\nraises = "AssertionError"\nmatch = \'expected \\d+ items\'\n'
             'raised_in = \'{}\'\nreason = "made up"\nlink = "selftest"\n')
    toml.write_text(entry.format(here, r"tests/test_structure\.py:test_arity$")
                    + entry.format(elsewhere, r"keras/src/layers/rnn/lstm\.py:inner_loop$"))
    run = run_suite(pytester, monkeypatch, "fixtures.broken.wrong_arity", [STRUCTURE],
                    expectations=str(toml), k="test_arity and [LSTM- and " + NOTEBOOK_SHAPE.id)
    run.assert_outcomes(
        failed={r"known nonconformance is listed for this case \(frames\.toml #2: .*\), expecting AssertionError "
                r"matching /expected \\d\+ items/ raised in /keras/src/layers/rnn/lstm\\\.py:inner_loop\$/, but it "
                r"failed differently: AssertionError: .*\(raised in \S+:\w+\)": {elsewhere}},
        xfailed={here}, passed={_arity(False, False), _arity(True, False)})


def test_malformed_entry_is_a_usage_error(pytester, monkeypatch):
    toml = pytester.path / "bad.toml"
    toml.write_text('[[xfail]]\nid = "x"\nreason = "r"\nlink = "l"\n')
    run = run_suite(pytester, monkeypatch, "keras", [STRUCTURE], expectations=str(toml),
                    k="test_arity and [LSTM- and " + NOTEBOOK_SHAPE.id)
    assert run.ret == int(pytest.ExitCode.USAGE_ERROR), run.stderr[-2000:]
    assert re.search(r"bad\.toml: \[\[xfail\]\] #1 lacks \['raises', 'match'\]", run.stderr), run.stderr[-2000:]
    assert not run.cases


def test_an_entry_covers_exactly_its_claims_and_its_size(pytester, monkeypatch):
    """fixtures.broken.opt_lstm_gates_swapped gets every value of LSTM wrong (output, h and c). An
    entry naming c alone does not cover the case (output and h fail beside it); an entry whose
    size is far below the deviation does not either; an entry naming every role, unbounded, does."""
    from rnnconf.spec import catalog

    shape = catalog.SHAPES[1]

    def case(rs, st):
        (nodeid,) = catalog_ids("tests/test_values.py", "test_values_match_oracle", ["LSTM"],
                                return_sequences=[rs], return_state=[st], shapes=[shape])
        return nodeid

    only_c, too_small, whole = case(False, True), case(True, True), case(False, False)
    toml = pytester.path / "made-up.toml"
    entry = '[[xfail]]\nid = "{}"\nraises = "AssertionError"\nmatch = \'{}\'\nreason = "{}"\nlink = "selftest"\n{}\n'
    toml.write_text("".join([
        entry.format(only_c, r"^c differs from the NumPy oracle", "made up: c alone", ""),
        entry.format(too_small, r"differs from the NumPy oracle", "made up: a rounding", "max_abs = 1e-9"),
        entry.format(whole, r"differs from the NumPy oracle", "made up: the values", ""),
    ]))
    run = run_suite(pytester, monkeypatch, "fixtures.broken.opt_lstm_gates_swapped", ["tests/test_values.py"],
                    expectations=str(toml), k=f"test_values_match_oracle and [LSTM- and {shape.id}")
    run.assert_outcomes(
        failed={
            r"made-up\.toml #1: .*expecting AssertionError matching /\^c differs from the NumPy oracle/, but 2 of "
            r"the 3 failed claims are not that bug: (output|h) differs": {only_c},
            r"made-up\.toml #2: .*with max \|diff\| <= 1e-09, but 3 of the 3 failed claims are not that bug: "
            r".*max \|diff\| = \S+ exceeds the entry's 1e-09": {too_small},
            r"output differs from the NumPy oracle for LSTM": {case(True, False)},  # no entry: the bug itself
        },
        xfailed={whole})
