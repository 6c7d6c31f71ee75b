"""The merged page in a real browser (headless Chromium): its script runs to the end without an
error, and what the DOM shows adds up to every run and every case the page says it holds.

``--dump-dom`` prints the DOM after the page's scripts ran; the inline script sets
``data-ready="1"`` on <body> as its last statement (a script error leaves it unset) and
``data-shown-cases`` to the cases it counted in each run's columns."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from rnnconf.tools.matrix import load, merge

RUNS = Path(__file__).resolve().parents[2] / "fixtures" / "runs"
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def dump_dom(page: Path, profile: Path) -> str:
    """The DOM after load, as Chromium serializes it (its own profile: tests may run in parallel)."""
    done = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                           "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.skipif(BROWSER is None, reason="no Chromium: apt-get install -y chromium")
def test_merged_page_runs_its_script_and_shows_every_run_and_case(tmp_path: Path) -> None:
    runs = load.load([RUNS / "tf-3.14.json", RUNS / "tf-3.15.json", RUNS / "jax-3.15.json"])
    page, _ = merge.write(tmp_path / "out", runs)
    dom = dump_dom(page, tmp_path / "profile")

    body = re.search(r"<body([^>]*)>", dom)
    assert body, dom[:500]
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', body.group(1)))
    assert attrs.get("data-ready") == "1", "the page's script did not run to its end"
    n_runs, n_cases = int(attrs["data-runs"]), int(attrs["data-cases"])
    assert n_runs == 3 and n_cases == len({c["nodeid"] for r in runs for c in r.cases})
    # every run's columns account for every case (absent ones included), as the browser counted
    assert attrs["data-shown-cases"] == ",".join([str(n_cases)] * n_runs)
    assert f'<span id="case-count">{n_cases}</span>' in dom
    for run in runs:  # each run's label is shown (the runs table) and heads its columns
        assert re.search(r'<td class="runlabel"><span[^>]*></span>' + re.escape(run.label) + "</td>", dom), run.label
        assert dom.count(f'title="{run.label} (') == 1
    # the script folded the entries where nothing is wrong and added its buttons
    assert "collapsed" in dom and ">only rows where runs differ</button>" in dom
