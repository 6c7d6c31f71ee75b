"""The documentation stays true to the repository:

- every generated part (a table from a recorded run, the list of known nonconformances) is what
  ``python -m rnnconf docs`` writes from its source today;
- every file the documentation and the code cite exists in the repository;
- the project speaks of itself only, never of how it was built: no tracker numbers, no talk of
  the machine a change was made on or of its commits, no dated measurements in code, comments or
  docs (figures name their machine and date in the recorded runs under ``docs/runs/``).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from rnnconf.tools import docs

REPO = Path(__file__).resolve().parents[2]
DOCS = ["README.md", "tests/README.md", "fixtures/broken/README.md", "reports/README.md",
        *(str(p.relative_to(REPO)) for p in sorted((REPO / "docs").glob("*.md")))]
CITED = re.compile(r"(?<![\w/.~…-])((?:rnnconf|tests|fixtures|docs|bench|\.ci|\.github)/[\w./-]*[\w])")
# what a run writes (never tracked), and name patterns rather than files
GENERATED = ("reports/", ".lanes/")


def tracked(*patterns: str) -> list[Path]:
    out = subprocess.run(["git", "ls-files", *patterns], cwd=REPO, capture_output=True, text=True)
    if out.returncode != 0:  # not a git checkout (an unpacked archive): every file on disk
        return sorted(p for pattern in patterns for p in REPO.glob(f"**/{pattern}")
                      if ".venv" not in p.parts and ".lanes" not in p.parts)
    return [REPO / line for line in out.stdout.splitlines()]


def test_generated_parts_match_their_sources() -> None:
    stale = docs.update(REPO, check=True)
    assert not stale, f"generated parts differ from their sources in {stale}: run python -m rnnconf docs"


def test_every_generated_kind_is_used() -> None:
    used = {m.group("kind") for path in docs.files(REPO) for m in docs.BLOCK.finditer(path.read_text())}
    assert used == set(docs.KINDS)


def test_a_hand_edited_table_is_caught(tmp_path: Path) -> None:
    (tmp_path / "docs" / "runs").mkdir(parents=True)
    run = {"recorded": "2026-01-01", "machine": "m", "command": "make matrix", "note": "",
           "lanes": [{"lane": "keras-jax", "installed": {"keras": "3.15.1"}, "status": "ran", "exit": 0,
                      "run_s": 10.0, "cases_run": 5, "passed": 4, "known_failures": 1,
                      "not_applicable": 0, "failed": 0}]}
    (tmp_path / "docs" / "runs" / "m.json").write_text(json.dumps(run))
    page = tmp_path / "docs" / "matrix.md"
    page.write_text("# M\n\n<!-- generated: lanes docs/runs/m.json -->\nold\n<!-- end generated -->\ntail\n")
    assert docs.update(tmp_path, check=True) == ["docs/matrix.md"]
    assert docs.update(tmp_path) == ["docs/matrix.md"] and docs.update(tmp_path, check=True) == []
    text = page.read_text()
    assert "| keras-jax | keras 3.15.1 | 5 | 4 | 1 | 0 | 0 | 10.0 | 0 |" in text and text.endswith("tail\n")
    page.write_text(text.replace("| 4 | 1 |", "| 5 | 0 |"))  # a hand edit
    assert docs.update(tmp_path, check=True) == ["docs/matrix.md"]


def test_a_generated_part_without_its_source_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("<!-- generated: lanes docs/runs/gone.json -->\n<!-- end generated -->\n")
    with pytest.raises(ValueError, match="gone.json, which does not exist"):
        docs.update(tmp_path, check=True)


def _cited(text: str) -> set[str]:
    return {m.group(1).rstrip(".") for m in CITED.finditer(text)}


def test_cited_files_exist() -> None:
    # the docs, the package, the conformance tests, the fakes and the build files (the harness's
    # own tests under tests/unit and tests/selftest make up node ids and paths as test data)
    code = [p for p in tracked("*.py", "*.toml", "Makefile", "*.yml", "*.html")
            if not str(p.relative_to(REPO)).startswith(("tests/unit/", "tests/selftest/"))]
    missing = []
    for path in [REPO / d for d in DOCS] + code:
        for cited in _cited(path.read_text()):
            if cited.startswith(GENERATED) or any(c in cited for c in "<>*{}") or cited.endswith(("/", "_")):
                continue  # a generated file, a pattern, a folder or a name prefix
            if not (REPO / cited).exists() and not (REPO / f"{cited}.py").exists():  # a module
                missing.append(f"{path.relative_to(REPO)}: {cited}")
    assert not missing, "cited files that are not in the repository:\n" + "\n".join(missing)


def test_the_citation_finder_finds_paths() -> None:
    assert _cited("see `rnnconf/spec/oracle.py` and docs/claims.md, not …/site-packages/x.py") == \
        {"rnnconf/spec/oracle.py", "docs/claims.md"}


# each phrase spelled with \s+ between its words, so this file does not say what it forbids
SELF_TALK = re.compile(r"\bissues?\s+\d+\b|\bfinal\s+commit\b|\bthis\s+machine\b|\bearlier\s+commits?\b|"
                       r"\bthis\s+change\b|\bthis\s+session\b|\bmeasured\s+\d{4}-\d\d-\d\d|KERAS-RNN-FACTS|"
                       r"\.\./shared", re.I)


def test_the_project_speaks_of_itself_only() -> None:
    found = []
    for path in [REPO / d for d in DOCS] + tracked("*.py", "*.toml", "Makefile", "*.yml"):
        if path == Path(__file__).resolve():
            continue
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            if SELF_TALK.search(line):
                found.append(f"{path.relative_to(REPO)}:{n}: {line.strip()[:120]}")
    assert not found, "say what the suite does, not who did what when:\n" + "\n".join(found)


def test_the_fake_count_the_docs_give_is_the_count_of_fakes() -> None:
    fakes = [p for p in (REPO / "fixtures" / "broken").glob("*.py") if not p.name.startswith("_")]
    listed = (REPO / "fixtures" / "broken" / "README.md").read_text()
    assert all(f"`{p.stem}`" in listed for p in fakes), "fixtures/broken/README.md lists every fake"
    for doc in ("README.md", "docs/selftests.md"):
        said = [int(n) for n in re.findall(r"(\d+) deliberately broken", (REPO / doc).read_text())]
        assert said == [len(fakes)], f"{doc} says {said} deliberately broken fakes; there are {len(fakes)}"


def test_export_table_notes_name_the_entry_of_the_recorded_release(tmp_path):
    """Two entries of different releases may share an id pattern: the export table's note for a
    known cell names the one that applies to the recorded run's Keras and backend."""
    (tmp_path / "fixtures" / "expectations").mkdir(parents=True)
    entry = ('[[xfail]]\nid = "tests/test_export.py::test_*-openvino]"\nraises = "E"\nmatch = "m"\n'
             'versions = "{v}"\nbackends = ["tensorflow"]\nreason = "{r}. More."\nlink = "l"\n\n')
    (tmp_path / "fixtures" / "expectations" / "keras.toml").write_text(
        entry.format(v=">=3.11,<3.12.2", r="Old releases fail one way")
        + entry.format(v=">=3.11", r="Every release fails another way"))
    run = {"recorded": "d", "machine": "m", "command": "c",
           "lanes": [{"lane": "l", "backend": "tensorflow 2.21.0", "keras": "3.15.1", "exit": 0, "counts": {}}],
           "cells": {"tensorflow": {"openvino": {"LSTM": ["known", "keras.toml|tests/test_export.py::test_*-openvino]"]}}}}
    (tmp_path / "run.json").write_text(json.dumps(run))
    table = docs.export_table(tmp_path, "run.json")
    assert "[1] keras.toml #2: Every release fails another way." in table and "Old releases" not in table
