"""The documented-argument table in-process: rnnconf/spec/documented_arguments.json holds every
layer class the suite tests, agrees with what rnnconf/impl/availability.py says each release
lacks, names in CLAIMS only documented arguments and conformance tests that exist (read with
``ast``, never imported), and the extractor's parser reads a Google-style docstring as written."""

from __future__ import annotations

import ast
import json
import types
from pathlib import Path

import pytest

from rnnconf.impl import availability
from rnnconf.spec import arguments, catalog
from rnnconf.tools import arguments as extractor
from rnnconf.tools import cli

REPO = Path(__file__).resolve().parents[2]
FLAVOR_OF = {"keras": "keras3", "tf_keras": "tf_keras"}  # availability's packages -> the table's flavours


def documents(flavor: str, cls: str, name: str) -> bool:
    return any(a.name == name and getattr(a, flavor) for a in arguments.DOCUMENTED.get(cls, ()))


# ---- the table ----------------------------------------------------------------------------------
def test_the_table_loads_and_is_what_merge_writes() -> None:
    text = arguments.PATH.read_text()
    doc = json.loads(text)
    assert text == json.dumps(doc, indent=1, ensure_ascii=False) + "\n", "indented as the tool writes it"
    assert list(doc["classes"]) == list(extractor.CLASSES)
    assert set(arguments.SOURCES) == {"keras3", "tf_keras"}
    assert all(s["version"] and s["version"] != "unknown" for s in arguments.SOURCES.values())
    for rows in (c[k] for c in doc["classes"].values() for k in ("arguments", "call_arguments")):
        for row in rows:
            assert list(row) == ["name", "sentence", "keras3", "tf_keras", "catch_all", "sentences"]
            assert row["keras3"] or row["tf_keras"]
            assert row["sentence"] == next(iter(row["sentences"].values()))


def test_every_class_the_suite_tests_documents_arguments() -> None:
    needed = {n for e in catalog.ENTRIES for n in e.needs} - {"Layer"}  # Layer: the user-defined cells' base
    assert needed <= set(arguments.DOCUMENTED)
    for name in extractor.CLASSES:
        args = arguments.DOCUMENTED[name]
        assert args, f"{name}: no documented argument in either flavour"
        assert len({a.name for a in args}) == len(args), f"{name}: an argument listed twice"


def test_keras3_order_first_then_tf_keras_only() -> None:
    for name, args in arguments.DOCUMENTED.items():
        flags = [a.keras3 for a in args]
        assert flags == sorted(flags, reverse=True), f"{name}: a Keras 3 argument after a tf-keras-only one"


@pytest.mark.parametrize(("cls", "name", "keras3", "tf_keras"), [
    ("LSTM", "unit_forget_bias", True, True),
    ("LSTM", "use_cudnn", True, False),
    ("GRU", "use_cudnn", True, False),
    ("GRU", "reset_after", True, True),
    ("LSTM", "time_major", False, True),
    ("RNN", "zero_output_for_mask", True, True),
    ("Bidirectional", "merge_mode", True, True),
    ("Bidirectional", "backward_layer", True, True),
    ("StackedRNNCells", "cells", True, True),
    ("ConvLSTM2D", "dilation_rate", True, True),
    ("ConvLSTM2D", "unroll", True, False),
    ("SimpleRNN", "seed", False, False),  # Keras 3's SimpleRNN takes a seed its docstring omits
    ("Bidirectional", "weights", False, False),  # taken, documented by neither
])
def test_known_facts(cls: str, name: str, keras3: bool, tf_keras: bool) -> None:
    assert (documents("keras3", cls, name), documents("tf_keras", cls, name)) == (keras3, tf_keras)


def test_tf_keras_recurrent_layers_document_no_seed() -> None:
    assert not [c for c in availability.RECURRENT if documents("tf_keras", c, "seed")]
    assert all(documents("keras3", c, "seed") for c in availability.RECURRENT if c != "SimpleRNN")


@pytest.mark.parametrize("row", availability.TABLE, ids=lambda r: f"{r.package}-{r.option}")
def test_the_table_agrees_with_availability(row: availability.Since) -> None:
    flavor = FLAVOR_OF[row.package]
    read = arguments.SOURCES[flavor]["version"]
    for cls in row.classes:
        module = types.SimpleNamespace(__name__=row.package, layers=types.SimpleNamespace(**{cls: object}))
        lacks = availability.lacking(module, read, cls, row.option)
        if row.since is None:
            assert lacks  # no release takes it ...
        # ... and the docstrings read list the option exactly where the release read takes it
        assert documents(flavor, cls, row.option) is not bool(lacks), (
            f"{row.package} {read}: availability says {lacks or 'it takes ' + row.option!r}, the docstring of "
            f"{cls} {'lists' if documents(flavor, cls, row.option) else 'does not list'} {row.option}")


def test_call_arguments_are_a_separate_list() -> None:
    assert [a.name for a in arguments.CALL_ARGUMENTS["LSTM"]] == ["inputs", "mask", "training", "initial_state"]
    assert not any(a.name in ("mask", "training", "initial_state") for a in arguments.DOCUMENTED["LSTM"])
    assert arguments.CALL_ARGUMENTS["Bidirectional"] == ()  # prose only: "the same as ... the wrapped RNN layer"


# ---- the claims ---------------------------------------------------------------------------------
def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            and n.name.startswith("test_")}


def test_every_claimed_name_is_a_documented_argument() -> None:
    documented = {a.name for args in arguments.DOCUMENTED.values() for a in args}
    assert not set(arguments.CLAIMS) - documented


def test_every_claim_test_exists() -> None:
    missing = []
    for name, tests in arguments.CLAIMS.items():
        assert tests, f"{name}: a claim with no test"
        for test in tests:
            path, sep, function = test.partition("::")
            if not sep or not path.startswith("tests/test_") or not (REPO / path).is_file():
                missing.append(f"{name}: {test} (not a conformance test module)")
            elif function not in _test_functions(REPO / path):
                missing.append(f"{name}: {test} (no such test function)")
    assert not missing, "\n".join(missing)


def test_the_existence_check_finds_a_missing_test() -> None:
    assert "test_arity" in _test_functions(REPO / "tests/test_structure.py")
    assert "test_no_such_thing" not in _test_functions(REPO / "tests/test_structure.py")


# ---- coverage -----------------------------------------------------------------------------------
def test_coverage_counts_add_up() -> None:
    cov = arguments.coverage()
    assert list(cov) == list(arguments.DOCUMENTED)
    for name, row in cov.items():
        counted = [a.name for a in arguments.DOCUMENTED[name] if not a.catch_all]
        assert row["documented"] == len(counted) == row["claimed"] + len(row["unclaimed"])
        assert sorted(row["claimed_names"] + row["unclaimed"]) == sorted(counted)
        assert set(row["claimed_names"]) <= set(arguments.CLAIMS)
        assert max(row["keras3"], row["tf_keras"]) <= row["documented"] <= row["keras3"] + row["tf_keras"]


def test_coverage_leaves_catch_alls_out_of_the_counts() -> None:
    A = arguments.Argument
    table = {"Mine": (A("units", "Positive.", True, True), A("frobnicate", "Frobnicates.", False, True),
                      A("kwargs", "Layer keyword arguments.", True, False, catch_all=True))}
    row = arguments.coverage(table, {"units": ("tests/test_structure.py::test_shapes",)})["Mine"]
    assert (row["documented"], row["claimed"], row["unclaimed"], row["catch_all"]) == (2, 1, ["frobnicate"], ["kwargs"])
    assert "| `Mine` | 2 | 1 | `frobnicate` |" in arguments.markdown(table, arguments.SOURCES)  # CLAIMS claims units


# ---- the extractor's parser ---------------------------------------------------------------------
DOC = '''Sketch layer - an example.

    Based on nothing. For example:

    >>> layer = Sketch(3)

    Args:
        units: Positive integer, dimensionality of the
            output space. Default: 3.
        activation: Activation function to use (e.g. `"tanh"`). If you
            pass `None`, no activation is applied (ie. "linear").
        stateful: Boolean (default `False`). If True, the last state for each
        sample is kept.
        rate (float): Float between 0 and 1. Fraction of the units
            to drop.
        **kwargs: Base layer keyword arguments, such as `name` and
            `dtype`.
    Call arguments:
        inputs: A 3D tensor, with shape `(batch, timesteps, feature)`.
        mask: Binary tensor of shape `(samples, timesteps)` indicating
            whether a given timestep should be masked (optional).

    Output shape:
        rate: not an argument, another section.
    '''


def test_the_parser_reads_names_and_first_sentences() -> None:
    parsed = extractor.parse(DOC)
    assert [(a.name, a.sentence, a.catch_all) for a in parsed.arguments] == [
        ("units", "Positive integer, dimensionality of the output space.", False),
        ("activation", 'Activation function to use (e.g. `"tanh"`).', False),
        ("stateful", "Boolean (default `False`).", False),
        ("rate", "Float between 0 and 1.", False),
        ("kwargs", "Base layer keyword arguments, such as `name` and `dtype`.", True),
    ]
    assert [(a.name, a.sentence) for a in parsed.call_arguments] == [
        ("inputs", "A 3D tensor, with shape `(batch, timesteps, feature)`."),
        ("mask", "Binary tensor of shape `(samples, timesteps)` indicating whether a given timestep should "
                 "be masked (optional)."),
    ]
    assert parsed.note == parsed.call_note == ""


def test_the_parser_keeps_prose_apart_and_lists_nothing_it_was_not_given() -> None:
    doc = '''Wrapper.

    Arguments:
      layer: `keras.layers.RNN` instance, such as `keras.layers.LSTM`. It could also be:
        1. Be a sequence-processing layer.
        Note: a note inside the description.

    Call arguments:
      The call arguments for this layer are the same as those of the wrapped RNN
        layer.
      Beware that when passing the `initial_state` argument, it is split.
    '''
    parsed = extractor.parse(doc)
    assert [(a.name, a.sentence) for a in parsed.arguments] == [
        ("layer", "`keras.layers.RNN` instance, such as `keras.layers.LSTM`.")]
    assert parsed.call_arguments == ()
    assert parsed.call_note == "The call arguments for this layer are the same as those of the wrapped RNN layer."
    assert extractor.parse(None) == extractor.parse("No sections at all.") == extractor.Parsed((), ())


@pytest.mark.parametrize(("text", "first"), [
    ("Boolean. Whether to return the last output.", "Boolean."),
    ("Float between 0 and 1. Fraction.", "Float between 0 and 1."),
    ("Recommended in [Jozefowicz et al.](http://x.pdf). More.", "Recommended in [Jozefowicz et al.](http://x.pdf)."),
    ("Uses `keras.layers.RNN. Not` an end. Then.", "Uses `keras.layers.RNN. Not` an end."),
    ("No full stop at all", "No full stop at all"),
])
def test_first_sentence(text: str, first: str) -> None:
    assert extractor.first_sentence(text) == first


def _read(doc: str | None, named: list[str], call: list[str] | None = None) -> dict:
    return {"doc": doc, "constructors": [{"named": named}], "call": call or ["inputs"]}


def test_extract_and_merge_keep_keras3_order_first(tmp_path: Path) -> None:
    k3 = extractor.extract("keras3", {"package": "keras", "version": "3.15.1", "classes": {
        "LSTM": _read("L.\n\n    Args:\n        units: Units. More.\n        seed: Seed.\n",
                      ["units", "seed", "extra"])}})
    tf = extractor.extract("tf_keras", {"package": "tf_keras", "version": "2.21.0", "classes": {
        "LSTM": _read("L.\n\n    Args:\n      time_major: Shape format.\n      units: Positive.\n", ["units"])}})
    assert k3["classes"]["LSTM"]["constructor"] == {"not_documented": ["extra"], "not_named": []}
    assert tf["classes"]["LSTM"]["constructor"] == {"not_documented": [], "not_named": ["time_major"]}
    paths = []
    for table in (tf, k3):  # in any order
        paths.append(tmp_path / f"{table['flavor']}.json")
        extractor.write(paths[-1], table)
    out = tmp_path / "merged.json"
    assert cli.main(["arguments", "merge", *map(str, paths), "--out", str(out)]) == 0
    loaded = arguments.load(out)
    assert [(a.name, a.keras3, a.tf_keras, a.sentence) for a in loaded["documented"]["LSTM"]] == [
        ("units", True, True, "Units."), ("seed", True, False, "Seed."), ("time_major", False, True, "Shape format.")]
    assert dict(loaded["documented"]["LSTM"][0].sentences) == {"keras3": "Units.", "tf_keras": "Positive."}
    assert loaded["sources"] == {"keras3": {"package": "keras", "version": "3.15.1"},
                                 "tf_keras": {"package": "tf_keras", "version": "2.21.0"}}


def test_merge_refuses_what_extract_did_not_write(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert cli.main(["arguments", "merge", str(bad), "--out", str(tmp_path / "o.json")]) == 2
    assert "not a table written by 'arguments extract'" in capsys.readouterr().err


# ---- where the table is shown -------------------------------------------------------------------
def test_the_spec_module_imports_the_standard_library_and_the_spec_only() -> None:
    tree = ast.parse(Path(arguments.__file__).read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert names <= {"__future__", "dataclasses", "json", "pathlib", "typing"} | {
        n for n in names if n.startswith("rnnconf.spec")}


def test_the_report_shows_the_table() -> None:
    from rnnconf.harness.expectations import Expectations
    from rnnconf.harness.report import writers
    from rnnconf.harness.report.record import Collector

    collector = Collector({"impl": "keras", "version": "3.15.1", "backend": "tensorflow", "gpus": [],
                           "gpu_probe_error": "", "env": {}, "module": "keras", "module_file": "x",
                           "flavor": "keras3", "backend_version": "2.21.0"})
    doc = writers.document(collector, Expectations([], []), 0)
    assert doc["documented_arguments"]["classes"] == arguments.coverage()
    html = writers.render_html(json.loads(json.dumps(doc, default=str)))
    lstm = arguments.coverage()["LSTM"]
    assert 'id="arguments"' in html
    for name, row in arguments.coverage().items():  # each class's row, its unclaimed names or a dash
        assert f'<th class="mono">{name}</th>' in html
        assert (", ".join(row["unclaimed"]) or "—") in html
    assert (f'<th class="mono">LSTM</th><td class="num">{lstm["documented"]}</td>'
            f'<td class="num">{lstm["claimed"]}</td>') in html
