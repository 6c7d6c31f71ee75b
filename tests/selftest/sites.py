"""Assertion sites of the conformance tests, found with ``ast``, and the site a failure came from.

A site is one place where a conformance test can say "this implementation is wrong": an
``assert`` statement in ``tests/test_*.py`` (the oracle's own tests excluded: they judge the
oracle, not an implementation), a call of an :mod:`rnnconf.harness.asserts` helper there or in
:mod:`rnnconf.harness.checks`, a ``pytest.fail(...)`` there, or a ``with pytest.raises(...)`` block.
Each site has a key that survives edits elsewhere in the file:
``tests/test_x.py::function: <first line of the site's source>``.

``failing_site(frames)`` maps a failure's traceback (``(path, line)`` pairs, innermost last) to
the innermost site that contains a frame's line: the assertion that reported the failure.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Iterable

REPO = Path(__file__).resolve().parents[2]


def _helpers() -> frozenset[str]:
    """Every public ``assert_*`` function of rnnconf/harness/asserts.py, read with ``ast`` (a new
    helper is a site where it is called, without a list to keep)."""
    tree = ast.parse((REPO / "rnnconf" / "harness" / "asserts.py").read_text())
    return frozenset(n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("assert_"))


HELPERS = _helpers()
EXCLUDED = ("test_oracle",)  # tests of the oracle itself


@dataclasses.dataclass(frozen=True)
class Site:
    file: str  # repository-relative
    function: str
    start: int
    end: int
    kind: str  # assert | helper | fail | raises
    text: str

    @property
    def key(self) -> str:
        return f"{self.file}::{self.function}: {self.text}"


def site_files(repo: Path = REPO) -> list[Path]:
    files = [p for p in sorted((repo / "tests").glob("test_*.py")) if not p.stem.startswith(EXCLUDED)]
    return files + [repo / "rnnconf" / "harness" / "checks.py"]


def _kind(node: ast.AST) -> str | None:
    if isinstance(node, ast.Assert):
        return "assert"
    if isinstance(node, ast.Call):
        f = node.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
        owner = f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else ""
        if name in HELPERS:
            return "helper"
        if owner == "pytest" and name == "fail":
            return "fail"
    if isinstance(node, ast.With) and any(
            isinstance(i.context_expr, ast.Call) and isinstance(i.context_expr.func, ast.Attribute)
            and i.context_expr.func.attr == "raises" for i in node.items):
        return "raises"
    return None


def sites_in(path: Path, repo: Path = REPO) -> list[Site]:
    source = path.read_text()
    lines = source.splitlines()
    rel = str(path.relative_to(repo))
    found: list[Site] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            kind = _kind(child)
            if kind is not None and name != "<module>":
                end = child.end_lineno or child.lineno
                if kind == "raises":  # the block's own statement, not what it contains
                    end = child.body[0].lineno - 1 if child.body else end
                found.append(Site(rel, name, child.lineno, end, kind, lines[child.lineno - 1].strip()))
            visit(child, name)

    visit(ast.parse(source), "<module>")
    seen: dict[str, int] = {}
    unique = []
    for site in found:  # two sites with the same first line in one function: number them
        seen[site.key] = seen.get(site.key, 0) + 1
        unique.append(site if seen[site.key] == 1 else dataclasses.replace(site, text=f"{site.text} #{seen[site.key]}"))
    return unique


def all_sites(repo: Path = REPO) -> list[Site]:
    return [s for path in site_files(repo) for s in sites_in(path, repo)]


def failing_site(frames: Iterable[tuple[str, int]], sites: list[Site], repo: Path = REPO) -> Site | None:
    """The innermost site containing a frame of the traceback (frames innermost last)."""
    by_file: dict[str, list[Site]] = {}
    for s in sites:
        by_file.setdefault(s.file, []).append(s)
    for path, line in reversed(list(frames)):
        try:
            rel = str(Path(path).resolve().relative_to(repo.resolve()))
        except ValueError:
            continue
        containing = [s for s in by_file.get(rel, []) if s.start <= line <= s.end]
        if containing:
            return min(containing, key=lambda s: s.end - s.start)
    return None
