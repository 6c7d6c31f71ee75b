"""``python -m rnnconf arguments``: the arguments each layer class's docstring documents, read
from the installed implementations into ``rnnconf/spec/documented_arguments.json``.

  arguments extract --flavor keras3 [--python PY] --out A.json     one implementation's docstrings
  arguments merge A.json B.json [--out rnnconf/spec/documented_arguments.json]   both, side by side

``extract`` imports the flavour's package (``keras`` for keras3, ``tf_keras`` for tf_keras) in a
child interpreter -- ``--python``, by default this one; ``.lanes/tf_keras-tensorflow/bin/python``
holds tf-keras -- so the tools reach no backend themselves. The child hands back each class's
``__doc__``, the parameters of the constructors on its path and the package's version; this module
parses the docstrings:

- the constructor's ``Args:`` (or ``Arguments:``) section and the ``Call arguments:`` section,
  Google style: ``name: description`` at the section's indentation, continuation lines indented
  further (a line at the names' indentation that names no argument continues the one before it;
  before the first argument it is prose, kept as the section's ``note``);
- per argument its name and the first sentence of its description, whitespace collapsed;
  ``**kwargs`` (or ``*args``) is recorded as ``kwargs`` with ``"catch_all": true``;
- nothing else: an argument the constructor takes but the docstring does not list is not
  recorded as documented (``constructor`` and ``call`` list those, and the reverse, per flavour).

``merge`` writes one table: per class, the union of the flavours' arguments in docstring order
(Keras 3's first, then those only tf-keras documents), each marked with the flavours that document
it. ``rnnconf/spec/arguments.py`` reads it.

Exit status: 0 done, 2 usage error (an unknown flavour, an interpreter that cannot import the
package, an unreadable file).
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "rnnconf" / "spec" / "documented_arguments.json"
CLASSES = ("SimpleRNN", "LSTM", "GRU", "SimpleRNNCell", "LSTMCell", "GRUCell", "RNN", "StackedRNNCells",
           "Bidirectional", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
FLAVORS = {"keras3": "keras", "tf_keras": "tf_keras"}  # flavour -> the package it imports

ARGS_HEADERS = ("args", "arguments")
CALL_HEADERS = ("call arguments", "call args")
HEADER = re.compile(r"^(?P<indent>[ \t]*)(?P<title>[A-Za-z][A-Za-z ]*):[ \t]*$")
# ``name: text`` or ``name (type): text``; ``**kwargs`` too. A capitalised word ("Note:",
# "Default:") at the names' indentation is prose, not an argument.
ENTRY = re.compile(r"^(?P<stars>\*{0,2})(?P<name>[a-z_]\w*)[ \t]*(?:\([^)]*\))?[ \t]*:(?:[ \t]+(?P<text>.*))?$")
# a full stop that ends none of these ends no sentence
ABBREVIATIONS = ("e.g.", "i.e.", "ie.", "eg.", "et al.", "etc.", "vs.", "cf.")


@dataclasses.dataclass(frozen=True)
class Documented:
    """One documented argument: its name, the first sentence of its description, and whether it
    is a catch-all (``**kwargs``)."""

    name: str
    sentence: str
    catch_all: bool = False


@dataclasses.dataclass(frozen=True)
class Parsed:
    """What one class docstring documents."""

    arguments: tuple[Documented, ...]
    call_arguments: tuple[Documented, ...]
    note: str = ""  # prose of the Args section before its first argument (first sentence)
    call_note: str = ""  # likewise for the Call arguments section


# ---- parsing (pure text: no implementation needed) -------------------------------------------
def first_sentence(text: str) -> str:
    """The first sentence of ``text`` with its whitespace collapsed: up to the first full stop
    followed by a space (or the end) outside backticks and brackets that ends no abbreviation
    ("e.g.", "ie.", "et al."); all of it when there is none."""
    text = " ".join(text.split())
    depth, code = 0, False
    for i, ch in enumerate(text):
        if ch == "`":
            code = not code
        elif code:
            continue
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(depth - 1, 0)
        elif ch == "." and depth == 0 and (i + 1 == len(text) or text[i + 1] == " "):
            head = text[: i + 1].lower()
            if not any(head == a or head.endswith((" " + a, "(" + a)) for a in ABBREVIATIONS):
                return text[: i + 1]
    return text


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def sections(doc: str) -> dict[str, list[str]]:
    """Every ``Title:`` section of a (cleaned) docstring: its title, lower case, -> its lines, up
    to the first non-blank line indented no deeper than the title."""
    lines = doc.expandtabs().splitlines()
    out: dict[str, list[str]] = {}
    i = 0
    while i < len(lines):
        m = HEADER.match(lines[i])
        if not m:
            i += 1
            continue
        level = len(m.group("indent"))
        body = []
        i += 1
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > level):
            body.append(lines[i])
            i += 1
        out.setdefault(m.group("title").strip().lower(), body)
    return out


def entries(body: list[str]) -> tuple[tuple[Documented, ...], str]:
    """The arguments a section lists, and the first sentence of the prose before the first."""
    lines = [line for line in body if line.strip()]
    if not lines:
        return (), ""
    level = min(_indent(line) for line in lines)
    found: list[tuple[str, bool, list[str]]] = []
    prose: list[str] = []
    for line in lines:
        m = ENTRY.match(line.strip()) if _indent(line) == level else None
        if m:
            found.append((m.group("name"), bool(m.group("stars")), [m.group("text") or ""]))
        elif found:
            found[-1][2].append(line.strip())
        else:
            prose.append(line.strip())
    args = tuple(Documented(name, first_sentence(" ".join(text)), catch_all) for name, catch_all, text in found)
    return args, first_sentence(" ".join(prose)) if prose else ""


def parse(doc: str | None) -> Parsed:
    """The constructor and call arguments a class docstring documents (Google style)."""
    if not doc:
        return Parsed((), ())
    found = sections(inspect.cleandoc(doc))
    args_body = next((found[t] for t in ARGS_HEADERS if t in found), [])
    call_body = next((found[t] for t in CALL_HEADERS if t in found), [])
    arguments, note = entries(args_body)
    call_arguments, call_note = entries(call_body)
    return Parsed(arguments, call_arguments, note, call_note)



# ---- reading an implementation (in a child interpreter) --------------------------------------
# Run as ``PY -c CHILD PACKAGE OUT.json CLASS...``: the package's version and, per class, its
# docstring, the parameters of the constructors on its path (the class's own, then each base
# class's while ``**kwargs`` is passed on, as rnnconf/impl/availability.py reads them) and those
# of its ``call``.
CHILD = r"""
import importlib, inspect, json, sys
package, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
module = importlib.import_module(package)
classes = {}
for name in names:
    cls = getattr(module.layers, name, None)
    if cls is None:
        classes[name] = None
        continue
    path = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters
        except (TypeError, ValueError):
            break
        path.append({"named": [p.name for p in params.values() if p.name != "self"
                               and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]})
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            break
    try:
        call = [p.name for p in inspect.signature(cls.call).parameters.values() if p.name != "self"
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    except (AttributeError, TypeError, ValueError):
        call = None
    classes[name] = {"doc": cls.__doc__, "constructors": path, "call": call}
with open(out, "w") as f:
    json.dump({"package": package, "version": getattr(module, "__version__", "unknown"),
               "classes": classes}, f)
"""


class ArgumentsError(Exception):
    """A flavour, interpreter or file this tool cannot use."""


def read_implementation(flavor: str, python: str, classes: tuple[str, ...] = CLASSES) -> dict[str, Any]:
    """What ``python`` sees of the flavour's package: docstrings, constructors, version."""
    if flavor not in FLAVORS:
        raise ArgumentsError(f"unknown flavour {flavor!r} (known: {', '.join(FLAVORS)})")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "read.json"
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
        done = subprocess.run([python, "-c", CHILD, FLAVORS[flavor], str(out), *classes], env=env,
                              capture_output=True, text=True)
        if done.returncode != 0 or not out.exists():
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            raise ArgumentsError(f"{python} could not read {FLAVORS[flavor]} (exit {done.returncode}; --python "
                                 f"names an interpreter that has it):\n{tail}")
        return json.loads(out.read_text())


def extract(flavor: str, raw: dict[str, Any]) -> dict[str, Any]:
    """One flavour's table from what the child read."""
    classes = {}
    for name, found in raw["classes"].items():
        if found is None:
            classes[name] = {"present": False}
            continue
        parsed = parse(found["doc"])
        own = found["constructors"][0]["named"] if found["constructors"] else []
        reachable = [p for c in found["constructors"] for p in c["named"]]
        classes[name] = {
            "present": True,
            "arguments": [_argument(a) for a in parsed.arguments],
            "call_arguments": [_argument(a) for a in parsed.call_arguments],
            "note": parsed.note,
            "call_note": parsed.call_note,
            # the signatures against the docstring: what the constructor (call) names that is not
            # documented, and what is documented but named by no constructor on its path (taken
            # from **kwargs) or by call
            "constructor": _compare(parsed.arguments, own, reachable),
            "call": _compare(parsed.call_arguments, found["call"] or [], found["call"] or []),
        }
    return {"flavor": flavor, "package": raw["package"], "version": raw["version"], "classes": classes}


def _compare(documented: tuple[Documented, ...], named: list[str], reachable: list[str]) -> dict[str, list[str]]:
    names = {a.name for a in documented}
    return {"not_documented": [p for p in named if p not in names],
            "not_named": [a.name for a in documented if not a.catch_all and a.name not in reachable]}


def _argument(a: Documented) -> dict[str, Any]:
    return {"name": a.name, "sentence": a.sentence} | ({"catch_all": True} if a.catch_all else {})


def merge(tables: list[dict[str, Any]]) -> dict[str, Any]:
    """The flavours' tables as one: per class, every argument once, in docstring order (Keras 3's
    first), with the flavours that document it and each one's first sentence."""
    tables = sorted(tables, key=lambda t: list(FLAVORS).index(t["flavor"]))
    flavors = [t["flavor"] for t in tables]
    if len(set(flavors)) != len(flavors):
        raise ArgumentsError(f"one table per flavour, got {flavors}")
    names = list(dict.fromkeys(n for t in tables for n in t["classes"]))
    classes = {}
    for name in names:
        merged = {"arguments": _union(tables, name, "arguments"),
                  "call_arguments": _union(tables, name, "call_arguments")}
        for key in ("note", "call_note"):
            notes = {t["flavor"]: t["classes"][name][key] for t in tables
                     if t["classes"].get(name, {}).get(key)}
            if notes:
                merged[key] = notes
        for key in ("constructor", "call"):
            merged[key] = {t["flavor"]: t["classes"][name][key] for t in tables
                           if t["classes"].get(name, {}).get("present")}
        classes[name] = merged
    return {
        "about": "The arguments each layer class's docstring documents (python -m rnnconf arguments; "
                 "read by rnnconf/spec/arguments.py). Written by the tool: do not edit by hand.",
        "sources": {t["flavor"]: {"package": t["package"], "version": t["version"]} for t in tables},
        "classes": classes,
    }


def _union(tables: list[dict[str, Any]], name: str, key: str) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for t in tables:
        for a in t["classes"].get(name, {}).get(key, []):
            row = out.setdefault(a["name"], {"name": a["name"], "sentence": a["sentence"],
                                             **{f: False for f in FLAVORS}, "catch_all": False,
                                             "sentences": {}})
            row[t["flavor"]] = True
            row["catch_all"] = row["catch_all"] or a.get("catch_all", False)
            row["sentences"][t["flavor"]] = a["sentence"]
    return list(out.values())


def write(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


def _read(path: str) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ArgumentsError(f"{path}: {exc}") from None
    if doc.get("flavor") not in FLAVORS or "classes" not in doc:
        raise ArgumentsError(f"{path}: not a table written by 'arguments extract'")
    return doc


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnconf arguments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    ex = sub.add_parser("extract", help="one implementation's documented arguments, as JSON")
    ex.add_argument("--flavor", required=True, choices=list(FLAVORS))
    ex.add_argument("--python", default=sys.executable,
                    help="the interpreter that imports the package (default: this one)")
    ex.add_argument("--out", type=Path, required=True, metavar="OUT.json")
    mg = sub.add_parser("merge", help="the flavours' tables as one (rnnconf/spec/documented_arguments.json)")
    mg.add_argument("tables", nargs="+", metavar="TABLE.json")
    mg.add_argument("--out", type=Path, default=OUT, metavar="OUT.json")
    args = parser.parse_args(argv)
    try:
        if args.action == "extract":
            table = extract(args.flavor, read_implementation(args.flavor, args.python))
            write(args.out, table)
            counts = {n: len(c.get("arguments", [])) for n, c in table["classes"].items()}
            print(f"{args.out}: {table['package']} {table['version']}, {sum(counts.values())} documented "
                  f"arguments over {len(counts)} classes")
            return 0
        write(args.out, merge([_read(p) for p in args.tables]))
        print(args.out)
        return 0
    except (ArgumentsError, OSError) as exc:
        print(f"python -m rnnconf arguments: error: {exc}", file=sys.stderr)
        return 2
