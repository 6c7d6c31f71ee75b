"""Known nonconformances are strict xfails: an entry whose bug is gone turns the run red, and an
entry that matches no case is reported as stale. Checked on Keras itself with a made-up file."""

from __future__ import annotations

import re

import pytest

from rnnconf.catalog import NOTEBOOK_SHAPE

from .suite import STRUCTURE, catalog_ids, run_suite

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.selftest

ARITY = dict(module=STRUCTURE, test="test_arity", entries=["LSTM"], shapes=[NOTEBOOK_SHAPE])


def test_fixed_bug_and_stale_entry_are_reported(pytester, monkeypatch):
    # Keras returns (output, h, c) here as documented: "known" to be broken, it will XPASS.
    claimed = f"{STRUCTURE}::test_arity[LSTM-last-state-{NOTEBOOK_SHAPE.id}-cpu]"
    stale = f"{STRUCTURE}::test_arity[NoSuchLayer-*]"
    toml = pytester.path / "made-up.toml"
    toml.write_text(
        f'[[xfail]]\nid = "{claimed}"\nreason = "made up: LSTM drops c"\nlink = "selftest"\n\n'
        f'[[xfail]]\nid = "{stale}"\nreason = "made up: matches nothing"\nlink = "selftest"\n')
    run = run_suite(pytester, monkeypatch, "keras", [STRUCTURE], expectations=str(toml),
                    k="test_arity and [LSTM- and B1T4F5U3")
    assert "rnn-conformance: expectations 2 known nonconformance(s) from made-up.toml" in run.stdout
    run.assert_outcomes(failed={r"XPASS\(strict\).*made up: LSTM drops c": {claimed}},
                        passed=catalog_ids(**ARITY) - {claimed})
    assert re.search(r"stale expectations.*\n.*matches no case that ran\b.*: "
                     + re.escape(stale), run.stdout), run.stdout[-2000:]
