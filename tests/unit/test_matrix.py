"""The cross-run tools in-process (``python -m rnnconf merge / diff / merge-shards``), on the small
hand-written runs in fixtures/runs/: tf-3.14 -> tf-3.15 has one case of each kind of change, and
jax-3.15 is one run with every outcome, also given as two shards (and a shard that clashes)."""

from __future__ import annotations

import copy
import html.parser
import json
from pathlib import Path

import pytest

from rnnconf.tools.cli import main
from rnnconf.tools.matrix import diff, load, merge, shards

RUNS = Path(__file__).resolve().parents[2] / "fixtures" / "runs"
OLD, NEW, JAX = RUNS / "tf-3.14.json", RUNS / "tf-3.15.json", RUNS / "jax-3.15.json"
SHARD1, SHARD2, CLASH = (RUNS / f"jax-3.15.shard-{n}.json" for n in ("1-of-2", "2-of-2", "clash"))
S = "tests/test_structure.py::"


class Page(html.parser.HTMLParser):
    """The attributes of every element, and the text of a few, from a rendered page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str], list[str]]] = []  # tag, attrs, enclosing tr classes
        self.row: list[str] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tr":
            self.row = a.get("class", "").split()
        self.elements.append((tag, a, self.row))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str, cls: str = "") -> list[dict[str, str]]:
        return [a for t, a, _ in self.elements if t == tag and (not cls or cls in a.get("class", "").split())]

    def check_cells(self) -> list[dict[str, str]]:
        return [a for t, a, row in self.elements if t == "td" and "check" in row]


def distinct_cases(*paths: Path) -> int:
    return len({c["nodeid"] for p in paths for c in json.loads(p.read_text())["cases"]})


@pytest.fixture
def merged(tmp_path: Path) -> tuple[Page, dict]:
    assert main(["merge", str(tmp_path), str(OLD), str(NEW), str(JAX)]) == 0
    return Page((tmp_path / "matrix.html").read_text()), json.loads((tmp_path / "matrix.json").read_text())


# ---- loading -------------------------------------------------------------------------------
def test_refuses_unknown_schema_and_non_json(tmp_path: Path) -> None:
    bad = tmp_path / "old.json"
    bad.write_text(json.dumps({"schema": "rnn-conformance/shapes/1", "cases": []}))
    with pytest.raises(load.RunError, match="schema 'rnn-conformance/shapes/1' is not one of"):
        load.read(bad)
    bad.write_text("{not json")
    with pytest.raises(load.RunError, match="not a JSON document"):
        load.read(bad)


def test_skip_with_not_applicable_is_n_a() -> None:
    assert load.verdict({"outcome": "skipped", "not_applicable": "not applicable in keras 3.0.0: x"}) == "n/a"
    assert load.verdict({"outcome": "skipped", "message": "Skipped: no GPU"}) == "skipped"


def test_labels_name_what_ran_and_tell_copies_apart() -> None:
    a, b = load.load([NEW, NEW])
    assert a.label == "keras 3.15.1 · tensorflow 2.21.0 (runs/tf-3.15.json)" and b.label.endswith("#2")
    (named,) = load.load([OLD], {str(OLD): "before"})
    assert named.label == "before"


# ---- merge ---------------------------------------------------------------------------------
def test_merge_shows_every_run_and_case(merged: tuple[Page, dict]) -> None:
    page, data = merged
    (body,) = page.all("body")
    n = distinct_cases(OLD, NEW, JAX)
    assert (body["data-runs"], body["data-cases"]) == ("3", str(n)) and data["cases"] == n
    assert [a["title"].split(" (")[0] for a in page.all("th", "run")] == [r["label"] for r in data["runs"]] == [
        "keras 3.14.0 · tensorflow 2.21.0", "keras 3.15.1 · tensorflow 2.21.0", "keras 3.15.1 · jax 0.10.2"]
    per_run = [0, 0, 0]
    for cell in page.check_cells():
        per_run[int(cell["data-run"])] += int(cell["data-n"])
    assert per_run == [n, n, n]  # a case a run lacks is counted there as absent


def test_merge_colours_each_verdict(merged: tuple[Page, dict]) -> None:
    page, data = merged
    classes = {c for a in page.check_cells() for c in a["class"].split() if c.startswith("v-")}
    assert classes == {f"v-{v.replace('/', '')}" for v in load.VERDICTS}
    rows = {(g["entry"], r["test"]): r["cells"] for g in data["groups"] for r in g["rows"]}
    cpu = [i for i, col in enumerate(data["columns"]) if col["device"] == "cpu"]
    assert [rows[("ConvLSTM3D", "test_shapes")][i]["verdict"] for i in cpu] == ["n/a", "passed", "absent"]
    arity = [rows[("LSTM", "test_arity")][i] for i in cpu]
    assert [c["verdict"] for c in arity] == ["passed", "failed", "crashed"]
    assert arity[1]["counts"] == {"failed": 1, "passed": 2}
    assert "other" in {g["entry"] for g in data["groups"]}  # the notebook case without an entry


def test_merge_hover_shows_returned_structure_and_failure(tmp_path: Path) -> None:
    view = merge.build(load.load([OLD, NEW]))
    (lstm,) = [g for g in view["groups"] if g["entry"] == "LSTM"]
    (arity,) = [r for r in lstm["rows"] if r["test"] == "test_arity"]
    (n,) = [n for n, col in enumerate(view["columns"]) if (col["run"], col["device"]) == (1, "cpu")]
    title = arity["cells"][n]["title"]
    assert "[output (1, 3), h (1, 3), [(1, 3)]]" in title and "got a sequence of 1" in title


def test_merge_page_is_self_contained_with_a_chart_and_known_bugs(tmp_path: Path) -> None:
    main(["merge", str(tmp_path), str(OLD), str(JAX), "--label", f"three-fourteen={OLD}"])
    text = (tmp_path / "matrix.html").read_text()
    assert "<svg" in text and "atol 1e-05" in text and "three-fourteen" in text
    assert "<script src" not in text and "<link" not in text and "@import" not in text
    assert "https://github.com/keras-team/keras/issues/0" in text  # the known bug's link


# ---- diff ----------------------------------------------------------------------------------
@pytest.mark.parametrize("old,new,effect", [
    ("passed", "failed", "regression"), ("skipped", "crashed", "regression"), ("n/a", "error", "regression"),
    ("xfailed", "xpassed", "regression"), ("failed", "crashed", "regression"), ("passed", "xfailed", "regression"),
    ("passed", "n/a", "regression"), ("failed", "passed", "improvement"), ("crashed", "failed", "improvement"),
    ("xfailed", "passed", "improvement"), ("n/a", "passed", "improvement"), ("passed", "skipped", ""),
    ("skipped", "n/a", ""), ("passed", "passed", "")])
def test_what_a_regression_is(old: str, new: str, effect: str) -> None:
    assert diff.verdict_effect(old, new) == effect


def test_diff_lists_each_kind_of_change_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "diff.json"
    assert main(["diff", str(OLD), str(NEW), "--json", str(out)]) == 1
    text = capsys.readouterr().out
    for heading, nodeid in [
            ("passed → failed: 1  [REGRESSION]", S + "test_arity[LSTM-last-state-B1T4F5U3-cpu]"),
            ("failed → passed: 1  [IMPROVEMENT]", S + "test_arity[SimpleRNN-last-nostate-B1T4F5U3-cpu]"),
            ("n/a → passed: 1  [IMPROVEMENT]", S + "test_shapes[ConvLSTM3D-last-nostate-B1T4F5U3-cpu]"),
            ("returned structure (arity, roles, containers) changed", S + "test_arity[LSTM-seq-state-B1T4F5U3-cpu]"),
            ("shapes (same structure, other sizes) changed", "test_functional_input[SimpleRNN-seq-nostate-B1T4F5U3-cpu]"),
            ("dtypes changed", "test_dtype_of_every_output_and_state[LSTM-last-nostate-B1T4F5U3-cpu-float16]"),
            ("deviation changed", "test_values_match_oracle[LSTM-last-nostate-B3T4F5U3-cpu]"),
            ("only in old: 1", "test_printed_shapes[last-nostate-cpu-SimpleRNN]"),
            ("only in new: 1", "test_use_cudnn_matches_oracle[LSTM-last-nostate-B3T4F5U3-cpu-auto]")]:
        assert heading in text and nodeid in text.split(heading, 1)[1], heading
    data = json.loads(out.read_text())
    assert data["regressions"] == 2 and data["improvements"] == 2
    regressed = {(c["nodeid"], c["kind"]) for c in data["changes"] if c["effect"] == "regression"}
    assert regressed == {(S + "test_arity[LSTM-last-state-B1T4F5U3-cpu]", "verdict"),
                         ("tests/test_values.py::test_values_match_oracle[LSTM-last-nostate-B3T4F5U3-cpu]", "deviation")}


def test_structure_change_on_passing_cases_and_small_deviation_growth_are_no_regression() -> None:
    old, new = load.load([OLD, NEW])
    result = diff.compare(old, new, factor=1000)  # 3e-8 -> 4e-6 is x133: under the factor
    assert [c.nodeid for c in result.regressions] == [S + "test_arity[LSTM-last-state-B1T4F5U3-cpu]"]
    (structure,) = [c for c in result.changes if c.nodeid == S + "test_arity[LSTM-seq-state-B1T4F5U3-cpu]"]
    assert (structure.kind, structure.effect) == ("structure", "")
    tiny = diff._deviation("x", {"max_abs_diff": 0.0, "tolerance": "t", "against": "oracle"},
                           {"max_abs_diff": 5e-8, "tolerance": "t", "against": "oracle"}, 10)
    assert tiny == []  # grew from 0, but stays below 1e-7


def test_diff_of_identical_runs_is_0(capsys: pytest.CaptureFixture) -> None:
    assert main(["diff", str(NEW), str(NEW)]) == 0
    assert "no changes" in capsys.readouterr().out


def test_diff_usage_errors_are_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["diff", str(OLD), str(tmp_path / "missing.json")]) == 2
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"schema": "rnn-conformance/shapes/9", "cases": []}))
    assert main(["diff", str(wrong), str(NEW)]) == 2
    assert "schema 'rnn-conformance/shapes/9'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["diff", str(OLD)])
    assert exc.value.code == 2
    assert main(["merge", str(tmp_path), str(OLD), "--label", "no-equals-sign"]) == 2


# ---- merge-shards --------------------------------------------------------------------------
def test_shards_join_into_the_unsharded_run(tmp_path: Path) -> None:
    assert main(["merge-shards", str(tmp_path), str(SHARD2), str(SHARD1)]) == 0
    joined, whole = (json.loads(p.read_text()) for p in (tmp_path / "shapes.json", JAX))
    assert joined["cases"] == whole["cases"] and joined["summary"] == whole["summary"]
    assert joined["expectations"] == whole["expectations"]  # matched cases unioned, stale intersected
    assert (joined["exit_status"], joined["exit_meaning"]) == (1, "some cases failed") and "shard" not in joined
    assert "jax 0.10.2" in (tmp_path / "shapes.html").read_text()


def _refusal(docs: list[dict], match: str) -> None:
    with pytest.raises(load.RunError, match=match):
        shards.join(docs, [f"s{i}" for i in range(len(docs))])


def test_shards_that_do_not_belong_together_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["merge-shards", str(tmp_path), str(SHARD1), str(CLASH)]) == 2
    assert "is in both" in capsys.readouterr().err and not (tmp_path / "shapes.json").exists()
    one, two = (load.read(p) for p in (SHARD1, SHARD2))
    _refusal([one, two, load.read(CLASH)], "shard index\\(es\\) 2 given more than once")
    _refusal([one], "missing shard\\(s\\) 2 of 2")
    other = copy.deepcopy(two)
    other["implementation"]["backend"] = "torch"
    _refusal([one, other], "not shards of one run: backend 'jax' vs 'torch'")
    other = copy.deepcopy(two)
    other["shard"]["count"] = 3
    _refusal([one, other], "disagree on how many")
    _refusal([one, load.read(JAX)], "not a shard")
