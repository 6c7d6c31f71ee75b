"""The package's four layers, read from its own imports (every ``import``, at module level or
inside a function): the specification <- the implementations <- the harness <- the tools.

- every module of ``rnnconf/`` lives in one layer's folder (``rnnconf/__main__.py`` is the tools'
  command line);
- an import never reaches a layer above its own;
- no circle, inside a layer or across;
- the specification imports no Keras, no backend and no pytest; the tools reach no backend, not
  even through another module of the package (they read finished runs, and run the suite in a
  subprocess).

The checker is tried on small package trees first, so a rule that could never fire would show.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAYERS = ("spec", "impl", "harness", "tools")  # bottom to top
TOP_LEVEL = {"__init__": None, "__main__": "tools"}  # rnnconf/<name>.py outside the folders
BACKENDS = {"keras", "tf_keras", "tensorflow", "jax", "jaxlib", "torch", "openvino"}
FORBIDDEN = {"spec": BACKENDS | {"pytest", "_pytest", "xdist"}, "tools": BACKENDS}


def modules(package: Path) -> dict[str, Path]:
    """Dotted name -> file, for every module of ``package`` (a folder with ``__init__.py``)."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, int]]:
    """(imported name, line) for every import in the module: a module of the package where the
    import names one (``from pkg.a import b`` with ``pkg/a/b.py`` is ``pkg.a.b``), else the
    top-level name of the outside package."""
    root = name.split(".")[0]
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's own package upward
                base = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                child = f"{target}.{alias.name}"
                out.append((child if child in known else target, node.lineno))
    resolved = []
    for target, line in out:
        if target.split(".")[0] == root:
            while target not in known and "." in target:  # ``import pkg.a.b as x`` -> the module
                target = target.rsplit(".", 1)[0]
        resolved.append((target, line))
    return resolved


def layer_of(name: str) -> str | None:
    parts = name.split(".")
    if len(parts) == 1:
        return None
    if parts[1] in TOP_LEVEL:
        return TOP_LEVEL[parts[1]]
    return parts[1] if parts[1] in LAYERS else "?"


def violations(package: Path) -> list[str]:
    """Every breach of the rules above, one line each (empty: the package is layered)."""
    known = modules(package)
    graph: dict[str, list[tuple[str, int]]] = {n: imports(n, p, known) for n, p in known.items()}
    found = []
    for name, path in known.items():
        layer = layer_of(name)
        where = path.relative_to(package.parent)
        if layer == "?":
            found.append(f"{where}: in no layer (put it under one of {', '.join(LAYERS)})")
            continue
        for target, line in graph[name]:
            if target in known:
                other = layer_of(target)
                if layer and other not in (None, "?") and LAYERS.index(other) > LAYERS.index(layer):
                    found.append(f"{where}:{line}: upward import: {layer} module {name} imports "
                                 f"{other} module {target}")
            elif layer in FORBIDDEN and target.split(".")[0] in FORBIDDEN[layer]:
                found.append(f"{where}:{line}: the {layer} layer imports {target}")
    # the tools reach no backend through the package either
    for name in known:
        if layer_of(name) != "tools":
            continue
        seen, stack = {name}, [name]
        while stack:
            current = stack.pop()
            for target, line in graph[current]:
                if target in known and target not in seen:
                    seen.add(target)
                    stack.append(target)
                elif target not in known and target.split(".")[0] in BACKENDS and current != name:
                    found.append(f"{known[name].relative_to(package.parent)}: the tools reach "
                                 f"{target} through {current} (line {line})")
    found += [f"import circle: {' -> '.join(c)}" for c in circles(graph, known)]
    return found


def circles(graph: dict[str, list[tuple[str, int]]], known: dict[str, Path]) -> list[list[str]]:
    """One circle per strongly connected group of modules (Tarjan), written as a path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target, _ in graph[node]:
            if target not in known:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == node:
                    break
            self_loop = any(t == node for t, _ in graph[node])
            if len(group) > 1 or self_loop:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [group + [group[0]] for group in groups]


def test_the_package_is_layered() -> None:
    found = violations(REPO / "rnnconf")
    assert not found, "the package's layers are broken:\n" + "\n".join(found)


def test_every_layer_has_modules() -> None:
    layers = {layer_of(name) for name in modules(REPO / "rnnconf")}
    assert set(LAYERS) <= layers


# ---- the checker itself, on small trees --------------------------------------------------------
def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    package = tmp_path / "pkg"
    for rel, text in {"__init__.py": "", **files}.items():
        path = package / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for layer in LAYERS:
        (package / layer).mkdir(exist_ok=True)
        (package / layer / "__init__.py").touch()
    return package


@pytest.mark.parametrize(("files", "expected"), [
    ({"spec/a.py": "def f():\n    from pkg.harness import b\n", "harness/b.py": ""},
     "upward import: spec module pkg.spec.a imports harness module pkg.harness.b"),
    ({"impl/a.py": "from pkg.tools.c import x\n", "tools/c.py": "x = 1\n"},
     "upward import: impl module pkg.impl.a imports tools module pkg.tools.c"),
    ({"harness/a.py": "from pkg.harness import b\n", "harness/b.py": "def f():\n    from . import a\n"},
     "import circle: pkg.harness.a -> pkg.harness.b -> pkg.harness.a"),
    ({"spec/a.py": "import keras\n"}, "the spec layer imports keras"),
    ({"spec/a.py": "def f():\n    import pytest\n"}, "the spec layer imports pytest"),
    ({"tools/a.py": "from pkg.harness import b\n", "harness/b.py": "from pkg.impl import c\n",
      "impl/c.py": "def f():\n    import tensorflow as tf\n"},
     "the tools reach tensorflow through pkg.impl.c"),
    ({"loose.py": ""}, "pkg/loose.py: in no layer"),
])
def test_the_checker_finds(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    found = violations(_tree(tmp_path, files))
    assert any(expected in line for line in found), found


def test_the_checker_accepts_downward_imports(tmp_path: Path) -> None:
    package = _tree(tmp_path, {
        "spec/a.py": "import numpy\n", "impl/b.py": "from pkg.spec import a\nimport keras\n",
        "harness/c.py": "import pytest\nfrom pkg.impl.b import x\nfrom pkg.spec.a import y\n",
        "tools/d.py": "from pkg.spec import a\nfrom pkg.tools import e\n", "tools/e.py": "import json\n",
        "__main__.py": "from pkg.tools.d import main\n"})
    assert violations(package) == []
