"""``format="openvino"``, run by OpenVINO's ``Core().compile_model`` on the CPU device with
``INFERENCE_PRECISION_HINT`` f32.

The precision is pinned: OpenVINO's CPU plugin computes in bfloat16 by default on processors
that have it, which would measure the host, not the artifact. Outputs are mapped by name where
the exporter names them after TensorFlow's ``Identity``/``Identity_<k>`` results (Keras on
TensorFlow and JAX), else by position (the order of ``compiled.outputs``, which is the model's
result order); a result of another name is kept after them so that the arity check sees it.
"""

from __future__ import annotations

import collections
import re
from pathlib import Path

import numpy as np

from rnnconf.impl.export import Artifact, Operators, Output, free_dims, input_order

IDENTITY = re.compile(r"Identity(?:_(\d+))?:0")
FUSED = ("LSTMSequence", "GRUSequence", "RNNSequence")
OV_DTYPES = {"f32": "float32", "f16": "float16", "bf16": "bfloat16", "f64": "float64", "boolean": "bool",
             "i64": "int64", "i32": "int32"}


class OpenVinoArtifact(Artifact):
    def __init__(self, path: Path) -> None:
        import openvino as ov

        core = ov.Core()
        model = core.read_model(str(path))
        self.operators = _operators(model)
        self._compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        self.input_names = [p.get_any_name() for p in self._compiled.inputs]
        ports = list(self._compiled.outputs)
        self._order = _order([set(p.get_names()) for p in ports])
        self._ports = [ports[i] for i in self._order]
        self.outputs = [Output(_name(p), _shape(p), OV_DTYPES.get(p.get_element_type().get_type_name(),
                                                                  p.get_element_type().get_type_name()))
                        for p in self._ports]

    def run(self, *inputs: np.ndarray) -> list[np.ndarray]:
        order = input_order(self.input_names, len(inputs))
        feed = [None] * len(inputs)
        for j, a in zip(order, inputs):
            feed[j] = a
        got = self._compiled(feed)
        return [np.asarray(got[p]) for p in self._ports]


def _order(names: list[set[str]]) -> list[int]:
    """Indices of the outputs in the model's order (see the module docstring)."""
    keyed = []
    for i, ns in enumerate(names):
        ks = [int(m.group(1) or 0) for n in ns if (m := IDENTITY.fullmatch(n))]
        keyed.append(ks[0] if ks else None)
    if all(k is None for k in keyed):
        return list(range(len(names)))
    named = sorted((k, i) for i, k in enumerate(keyed) if k is not None)
    return [i for _, i in named] + [i for i, k in enumerate(keyed) if k is None]


def _name(port) -> str:
    names = sorted(port.get_names())
    return next((n for n in names if IDENTITY.fullmatch(n)), names[0] if names else "?")


def _shape(port) -> tuple:
    return free_dims([d.get_length() if d.is_static else -1 for d in port.get_partial_shape()])


def _operators(model) -> Operators:
    counts = collections.Counter()

    def walk(m) -> None:
        for op in m.get_ops():
            counts[op.get_type_name()] += 1
            for i in range(op.get_function_count() if hasattr(op, "get_function_count") else 0):
                walk(op.get_function(i))
    walk(model)
    fused = [k for k in FUSED if counts.get(k)]
    if fused:
        recurrence = "fused " + ", ".join(fused)
    elif counts.get("Loop") or counts.get("TensorIterator"):
        recurrence = " and ".join(f"{k}×{counts[k]}" for k in ("Loop", "TensorIterator") if counts.get(k)) + " (not fused)"
    else:
        recurrence = "no loop (unrolled)"
    return Operators(dict(counts), recurrence)


def load(path: Path) -> Artifact:
    return OpenVinoArtifact(path)
