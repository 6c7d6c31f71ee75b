"""The export family's own logic, in-process and without exporting anything: which formats a
backend and release have, how each runtime's outputs are put in the model's order, how an
artifact's outputs are cut into the flag combinations, and the --export option."""

import argparse

import pytest

from rnnconf.harness.options import _formats
from rnnconf.harness.runner import COMBOS, split_outputs
from rnnconf.impl import export
from rnnconf.impl.export.openvino import _order
from rnnconf.impl.export.saved_model import ordered


def test_signature_outputs_are_read_by_their_number_not_their_spelling():
    keys = ["output_10", "output_2", "output_0", "output_1", "output_9", "output_3", "output_4", "output_5",
            "output_6", "output_7", "output_8", "output_11"]
    assert ordered(keys) == [f"output_{k}" for k in range(12)]
    # a key of another form is an output the model does not have: kept, after the numbered ones
    assert ordered(["extra", "output_1", "output_0"]) == ["output_0", "output_1", "extra"]


def test_openvino_outputs_follow_the_identity_names_else_their_order():
    names = [{"Identity_2:0"}, {"Identity:0", "x"}, {"strided_slice_1:0"}, {"Identity_1:0"}]
    assert _order(names) == [1, 3, 0, 2]  # Identity, _1, _2, then the unnamed extra result
    assert _order([{"a"}, {"b"}, {"c"}]) == [0, 1, 2]


def test_an_artifacts_outputs_are_cut_by_what_each_layer_returns():
    flat = list(range(8))  # LSTM: 1 + 3 + 1 + 3 tensors in COMBOS order
    parts = split_outputs(flat, [1, 3, 1, 3])
    assert [parts[c] for c in COMBOS] == [[0], [1, 2, 3], [4], [5, 6, 7]]
    # one output short: only the last combination is short
    short = split_outputs(flat[:-1], [1, 3, 1, 3])
    assert [len(short[c]) for c in COMBOS] == [1, 3, 1, 2]
    assert split_outputs([0, 1], [2], combos=(COMBOS[1],)) == {COMBOS[1]: [0, 1]}


def test_a_format_is_n_a_where_keras_does_not_document_it():
    by = export.BY_NAME
    assert export.n_a(by["torch"], "tensorflow", "3.15.1").startswith("Keras documents format='torch' for the torch")
    assert export.n_a(by["litert"], "jax", "3.15.1")
    assert export.n_a(by["litert"], "tensorflow", "3.12.4") == (
        "Keras 3.12.4's Model.export has no format='litert' (documented from 3.13.0)")
    assert export.n_a(by["onnx"], "torch", "3.8.0") == "" and export.n_a(by["onnx"], "tensorflow", "3.7.0")
    assert export.n_a(by["tf_saved_model"], "jax", "3.0.5") == ""
    assert export.n_a(by["onnx"], "numpy", "3.15.1")


def test_a_dtype_policy_is_n_a_where_the_format_documents_float32_only():
    # export_onnx's docstring (3.8 to 3.15.1): "The dtype policy must be "float32" for the model"
    by = export.BY_NAME
    for policy in ("float64", "mixed_float16", "mixed_bfloat16"):
        why = export.n_a(by["onnx"], "tensorflow", "3.15.1", policy)
        assert why.startswith(f"Keras documents format='onnx' for the float32 dtype policy only, not {policy} (")
        assert 'The dtype policy must be "float32" for the model' in why
        for other in ("tf_saved_model", "openvino", "litert"):
            assert export.n_a(by[other], "tensorflow", "3.15.1", policy) == ""
    assert export.n_a(by["onnx"], "torch", "3.15.1", "float32") == export.n_a(by["onnx"], "torch", "3.15.1") == ""
    # the backend's and the release's reasons come first
    assert export.n_a(by["onnx"], "tensorflow", "3.7.0", "float64").startswith("Keras 3.7.0's Model.export has no")


def test_a_missing_runtime_names_the_install_command(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxruntime" else real(name, *a))
    assert export.BY_NAME["onnx"].missing("tensorflow") == "onnx: onnxruntime not installed (pip install onnxruntime)"


def test_the_onnx_exporter_on_jax_is_the_one_of_the_release(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("jax2onnx", "tf2onnx") else real(name, *a))
    assert export.BY_NAME["onnx"].missing("jax", "3.15.1").endswith("(pip install jax2onnx)")
    assert export.BY_NAME["onnx"].missing("jax", "3.13.2").endswith("(pip install tf2onnx)")  # jax2tf, then tf2onnx


def test_the_torch_backends_exporters_get_the_fixed_shapes_their_docstrings_ask_for():
    assert export.BY_NAME["onnx"].on("torch").fixed == ("batch", "time")
    assert export.BY_NAME["onnx"].on("tensorflow").fixed == ()
    assert export.BY_NAME["litert"].on("tensorflow").fixed == ("batch",)
    assert export.BY_NAME["openvino"].on("torch").fixed == ()  # its docstring has no such limit


def test_the_export_option_reads_all_or_a_list():
    assert _formats("") == ()
    assert _formats("all") == tuple(export.BY_NAME)
    assert _formats("onnx, litert") == ("onnx", "litert")
    with pytest.raises(argparse.ArgumentTypeError, match="unknown format\\(s\\) tflite"):
        _formats("onnx,tflite")
