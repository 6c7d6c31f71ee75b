"""Every assertion site of the conformance tests is proven able to fail: each is the site that
reported a failure in at least one verified broken-fake run (tests/selftest/test_fakes*.py log
them in reports/selftest-sites/), or it is listed below with the reason no fake can reach it.

And every conformance test function (each ``def test_*`` of tests/test_*.py) is failed by at least
one verified fake run: a shared helper makes one site stand for many tests, so a site reached
through one test says nothing of the others. A verified run checks each failure's message against
the fake's spec, so the failure is for the reason the test claims.

Runs after the fake self-tests (``make selftest`` runs it second, ``-m sites``); on its own it
fails, saying to run them first.
"""

from __future__ import annotations

import ast
import json

import pytest

from rnnconf.harness.caseid import parse_case_id

from .sites import REPO, all_sites, site_files
from .suite import SITE_LOG
from .test_fakes import CAUGHT as STRUCTURE_FAKES
from .test_fakes_modes import CAUGHT as MODE_FAKES
from .test_fakes_options import CAUGHT as OPTION_FAKES
from .test_fakes_training import CAUGHT as TRAINING_FAKES

pytestmark = pytest.mark.sites

# Sites no broken implementation can reach, each with its reason. Keys: see sites.Site.key.
UNREACHABLE: dict[str, str] = {
    'tests/test_identities.py::test_cell_state_is_not_hidden_state: assert pairs, f"no cell state (c) was returned for {context}"':
        "a guard on the suite: the roles come from the contract, which gives every LSTM-style entry a c; "
        "an implementation that returns no c changes the arity, and roles_of fails first "
        "(fixtures.broken.wrong_arity reaches that site)",
    'tests/test_identities.py::test_flag_combinations_agree: assert checked, f"no quantity is shared between flag combinations of {entry.label}"':
        "a guard on the suite: contract.views gives every entry quantities shared between combinations "
        "(the states at least); no implementation can change what the contract expects",
    'tests/test_masking.py::test_final_state_is_state_after_last_unmasked_step: assert np.any(~mask), "the mask must mask something"':
        "a guard on the suite's own mask (reference.make_mask), which no implementation touches",
}


def test_every_fake_logged_its_sites():
    fakes = [c.fake for c in (*STRUCTURE_FAKES, *OPTION_FAKES, *MODE_FAKES, *TRAINING_FAKES)]
    missing = [f for f in fakes if not (SITE_LOG / f"{f}.json").is_file()]
    assert not missing, (f"no site log for {missing[:5]} in {SITE_LOG}: run the fake self-tests "
                         "first (make selftest runs them, then this module)")


def conformance_tests(repo=REPO) -> list[tuple[str, str]]:
    """(file, function) of every conformance test: each ``def test_*`` at the top of tests/test_*.py
    (the oracle's own tests excluded, as for the sites)."""
    out = []
    for path in site_files(repo):
        if path.parent.name != "tests":
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                out.append((str(path.relative_to(repo)), node.name))
    return out


def test_every_conformance_test_fails_on_some_fake():
    failed = set()
    for log in sorted(SITE_LOG.glob("*.json")):
        for nodeids in json.loads(log.read_text()).values():
            for nodeid in nodeids:
                case = parse_case_id(nodeid)
                failed.add((case.module, case.test))
    never = [f"{module}::{test}" for module, test in conformance_tests() if (module, test) not in failed]
    assert not never, (f"{len(never)} conformance test(s) failed on no verified broken fake (add a fake that "
                       "breaks the claim, with a spec in tests/selftest/test_fakes*.py):\n  " + "\n  ".join(never))


def test_every_assertion_site_fails_on_some_fake():
    sites = {s.key: s for s in all_sites()}
    reached: dict[str, list[str]] = {}
    for log in sorted(SITE_LOG.glob("*.json")):
        for key in json.loads(log.read_text()):
            reached.setdefault(key, []).append(log.stem)
    unexplained = sorted(k for k in sites if k not in reached and k not in UNREACHABLE)
    assert not unexplained, (
        f"{len(unexplained)} assertion site(s) never reported a failure on any broken fake and are "
        "not listed in UNREACHABLE with a reason (add a fake that breaks the claim):\n  "
        + "\n  ".join(f"{k}  (line {sites[k].start})" for k in unexplained))
    wrongly_listed = sorted(k for k in UNREACHABLE if k in reached)
    assert not wrongly_listed, f"listed as unreachable but reached by a fake: {wrongly_listed}"
    gone = sorted(k for k in UNREACHABLE if k not in sites)
    assert not gone, f"UNREACHABLE lists sites that no longer exist: {gone}"
