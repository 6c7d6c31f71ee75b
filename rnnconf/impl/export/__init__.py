"""Export formats: ``Model.export(path, format=...)`` and the runtime each artifact is run in.

A :class:`Format` holds what the export family needs to know about one of ``Model.export``'s
formats: the backends Keras documents it for, the first release that documents it, the dtype
policies it documents (ONNX: float32 only), what the exporter itself needs installed, how a path
must end, which dimensions stay free in the artifact, and the runtime that loads it -- never Keras: ``tf.saved_model.load``,
``onnxruntime.InferenceSession``, ``ai_edge_litert``'s ``Interpreter``, OpenVINO's
``Core().compile_model``, ``torch.export.load``. Each runtime has one module here with a
``load(path) -> Artifact``; a new format is one module and one row of :data:`FORMATS`.

An :class:`Artifact` is what a runtime loaded: ``run(x)`` returns the artifact's outputs as NumPy
arrays in the order the Keras model lists its outputs (how each runtime's names map onto that
order is the runtime module's docstring), ``outputs`` what the runtime declares about them (name,
shape with ``None`` for a free dimension, dtype), and ``operators`` what the artifact is made of.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import re
from pathlib import Path
from typing import Any, Callable

import numpy as np

from rnnconf.impl.availability import older_than


@dataclasses.dataclass
class Output:
    name: str
    shape: tuple  # None where the runtime declares the dimension free
    dtype: str

    def text(self) -> str:
        dims = ", ".join("?" if d is None else str(d) for d in self.shape)
        return f"{self.name} ({dims}) {self.dtype}"


@dataclasses.dataclass
class Operators:
    """What an artifact is made of: every operator and how often it occurs (loop bodies
    included), and a one-line verdict on how the recurrence was exported."""

    counts: dict[str, int]
    recurrence: str       # e.g. "fused LSTM node", "Loop", "WHILE (builtin)", "unrolled"
    extra: str = ""       # e.g. "Select TF (Flex) operators: FlexTensorListReserve, ..."

    def text(self) -> str:
        top = ", ".join(f"{k}×{v}" if v > 1 else k for k, v in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))[:12])
        more = len(self.counts) - 12
        return (f"{self.recurrence}{'; ' + self.extra if self.extra else ''} -- operators: {top}"
                f"{f' (+{more} more kinds)' if more > 0 else ''}")


class Artifact:
    """A loaded artifact (see the module docstring). ``run`` takes the model's inputs in the
    model's order (the sequence ``x``, then an explicit ``mask`` where the model has one)."""

    input_names: list[str]
    outputs: list[Output]
    operators: Operators

    def run(self, *inputs: np.ndarray) -> list[np.ndarray]:
        raise NotImplementedError


MODEL_INPUTS = ("x", "mask")  # the names the family gives the model's Inputs, in order


def input_order(runtime_names: list[str], count: int) -> list[int]:
    """For each of the model's first ``count`` inputs (:data:`MODEL_INPUTS`), the index of the
    runtime's input that carries it: the one named after it (exactly, or as ``<name>:0`` /
    ``serving_default_<name>:0``, as converters spell TensorFlow's tensors); by position where the
    runtime's names say nothing (torch.export's ``args_0``)."""
    order = []
    for i, name in enumerate(MODEL_INPUTS[:count]):
        spelled = re.compile(rf"(?:.*_)?{name}(?::\d+)?")
        found = [j for j, n in enumerate(runtime_names) if n == name] or [
            j for j, n in enumerate(runtime_names) if spelled.fullmatch(n)]
        order.append(found[0] if len(found) == 1 else i)
    if len(runtime_names) != count or sorted(order) != list(range(count)):
        raise RuntimeError(f"the artifact takes inputs {runtime_names}, the model {list(MODEL_INPUTS[:count])}")
    return order


@dataclasses.dataclass(frozen=True)
class Format:
    name: str                  # Model.export's format=
    runtime: str               # the runtime that runs the artifact, as the report names it
    module: str                # this package's module for the runtime (its load())
    requires: tuple[str, ...]  # the runtime's own import names
    suffix: str                # "" (a folder) or the suffix Model.export demands
    backends: tuple[str, ...]  # the backends Keras documents the format for
    since: str                 # the first Keras release whose Model.export documents it
    # which of (batch, time) the family fixes when it exports (the case's size), and why; per
    # backend where Keras's documentation says a backend's exporter needs fixed shapes
    fixed: tuple[str, ...] = ()
    why_fixed: str = ""
    fixed_on: dict[str, tuple[tuple[str, ...], str]] = dataclasses.field(default_factory=dict)
    # what the exporter needs besides the backend, per backend and release (import name -> pip name)
    exporter_needs: Callable[..., dict[str, str]] = lambda backend, keras_version="": {}
    # the dtype policies Keras documents the format for (() for any), and where it says so
    policies: tuple[str, ...] = ()
    policies_doc: str = ""

    def on(self, backend: str) -> "Format":
        """The format as the family exports it on ``backend`` (its fixed dimensions there)."""
        if backend not in self.fixed_on:
            return self
        fixed, why = self.fixed_on[backend]
        return dataclasses.replace(self, fixed=fixed, why_fixed=why)

    def missing(self, backend: str, keras_version: str = "") -> str:
        """"" when the runtime and the exporter's own needs (on ``backend``, in this Keras release)
        are importable; else what to install."""
        needed = {name: name for name in self.requires}
        needed.update(self.exporter_needs(backend, keras_version))
        absent = sorted({pip for name, pip in needed.items() if importlib.util.find_spec(name) is None})
        if not absent:
            return ""
        return f"{self.name}: {', '.join(absent)} not installed (pip install {' '.join(absent)})"

    def load(self, path: Path) -> Artifact:
        return importlib.import_module(f"rnnconf.impl.export.{self.module}").load(path)

    def path_in(self, folder: Path) -> Path:
        return folder / f"model{self.suffix}" if self.suffix else folder / "model"


JAX2ONNX_SINCE = "3.14.0"  # the first release whose export_onnx converts a JAX model with jax2onnx


def _onnx_exporter(backend: str, keras_version: str = "") -> dict[str, str]:
    # Model.export(format="onnx") converts with tf2onnx on TensorFlow, jax2onnx on JAX (before
    # 3.14: jax2tf, then tf2onnx) and torch.onnx (its dynamo exporter needs onnxscript) on PyTorch
    if backend == "jax" and older_than(keras_version, JAX2ONNX_SINCE):
        return {"tensorflow": "tensorflow", "tf2onnx": "tf2onnx"}
    return {"tensorflow": {"tf2onnx": "tf2onnx"}, "jax": {"jax2onnx": "jax2onnx"},
            "torch": {"onnxscript": "onnxscript"}}.get(backend, {})


def _openvino_exporter(backend: str, keras_version: str = "") -> dict[str, str]:
    # Model.export(format="openvino") imports keras.src.backend.openvino, which imports
    # scipy.signal -- a requirement the exporter does not declare (docs/export.md)
    return {"scipy": "scipy"}


# Keras 3.15.1's export_onnx and export_saved_model docstrings: "The dynamic shape feature is not
# yet supported with Torch backend. As a result, you must fully define the shapes of the inputs
# using `input_signature`"; Model.export's: "With format="litert" and the PyTorch backend, dynamic
# input shapes are not supported".
TORCH_STATIC = (("batch", "time"), "the PyTorch backend's exporter for this format documents fixed "
                                   "input shapes only (Keras's docstring), so input_signature fixes them")
FORMATS: tuple[Format, ...] = (
    Format("tf_saved_model", "tf.saved_model.load", "saved_model", ("tensorflow",), "",
           ("tensorflow", "jax", "torch"), "3.0.0", fixed_on={"torch": TORCH_STATIC},
           exporter_needs=lambda backend, keras_version="": {
               "tensorflow": "tensorflow", **({"torch_xla": "torch_xla"} if backend == "torch" else {})}),
    Format("onnx", "onnxruntime", "onnx", ("onnxruntime", "onnx"), ".onnx",
           ("tensorflow", "jax", "torch"), "3.8.0", fixed_on={"torch": TORCH_STATIC},
           exporter_needs=_onnx_exporter, policies=("float32",),
           policies_doc='export_onnx\'s docstring, from 3.8 on: "The dtype policy must be \"float32\" for the model"'),
    Format("openvino", "openvino", "openvino", ("openvino",), ".xml",
           ("tensorflow", "jax", "torch"), "3.11.0", exporter_needs=_openvino_exporter),
    Format("litert", "ai_edge_litert", "litert", ("ai_edge_litert",), ".tflite",
           ("tensorflow", "torch"), "3.13.0", fixed=("batch",),
           why_fixed=("exported with the case's batch in input_signature: with the batch left free, "
                      "a recurrent layer's while loop becomes Select TF (Flex) TensorList operators "
                      "that the plain interpreter cannot run (test_litert_default_signature_runs "
                      "checks that export)"),
           fixed_on={"torch": TORCH_STATIC},
           exporter_needs=lambda backend, keras_version="": {"litert_torch": "litert-torch"} if backend == "torch" else {}),
    Format("torch", "torch.export.load", "torch_program", ("torch",), ".pt2", ("torch",), "3.15.0",
           fixed=("time",),
           why_fixed=("exported with dynamic_shapes for the batch only: the torch backend runs the "
                      "recurrence as a Python loop, so torch.export specializes the time dimension")),
)
BY_NAME = {f.name: f for f in FORMATS}


def n_a(fmt: Format, backend: str, keras_version: str, policy: str = "") -> str:
    """Why ``fmt`` is no case of this implementation ("" when it is): the backends, releases and
    (for a layer made with ``dtype=policy``) dtype policies Keras's own export documentation names."""
    if backend not in fmt.backends:
        return (f"Keras documents format={fmt.name!r} for the {', '.join(fmt.backends)} "
                f"backend{'s' if len(fmt.backends) > 1 else ''}, not {backend} (Model.export's docstring)")
    if older_than(keras_version, fmt.since):
        return f"Keras {keras_version}'s Model.export has no format={fmt.name!r} (documented from {fmt.since})"
    if policy and fmt.policies and policy not in fmt.policies:
        return (f"Keras documents format={fmt.name!r} for the {' and '.join(fmt.policies)} dtype "
                f"polic{'ies' if len(fmt.policies) > 1 else 'y'} only, not {policy} ({fmt.policies_doc})")
    return ""


def free_dims(shape: Any) -> tuple:
    """A declared shape with every unknown dimension as None (runtimes spell it -1, a name, ...)."""
    out = []
    for d in shape:
        if isinstance(d, (int, np.integer)) and int(d) >= 0:
            out.append(int(d))
        else:
            out.append(None)
    return tuple(out)
