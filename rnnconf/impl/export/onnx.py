"""``format="onnx"``, run by ``onnxruntime.InferenceSession`` on the CPU provider.

The session lists its outputs in the graph's output order, which is the order of the Keras
model's outputs (tf2onnx names them ``Identity:0``, ``Identity_1:0``, ...; other exporters name
them otherwise): the outputs are read by position. The operator summary walks every subgraph
(Loop and Scan bodies) and says whether the recurrence became ONNX's fused ``LSTM``/``GRU``/``RNN``
nodes -- which tf2onnx's own tests require of its converter -- or a ``Loop``/``Scan``.
"""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np

from rnnconf.impl.export import Artifact, Operators, Output, free_dims, input_order

FUSED = ("LSTM", "GRU", "RNN")
ONNX_DTYPES = {"tensor(float)": "float32", "tensor(double)": "float64", "tensor(float16)": "float16",
               "tensor(bfloat16)": "bfloat16", "tensor(bool)": "bool", "tensor(int64)": "int64",
               "tensor(int32)": "int32"}


class OnnxArtifact(Artifact):
    def __init__(self, path: Path) -> None:
        import onnx
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self._session.get_inputs()]
        self.outputs = [Output(o.name, free_dims(o.shape), ONNX_DTYPES.get(o.type, o.type))
                        for o in self._session.get_outputs()]
        self.operators = _operators(onnx.load(str(path)))

    def run(self, *inputs: np.ndarray) -> list[np.ndarray]:
        order = input_order(self.input_names, len(inputs))
        feed = {self.input_names[j]: a for j, a in zip(order, inputs)}
        return [np.asarray(a) for a in self._session.run(None, feed)]


def _operators(model) -> Operators:
    import onnx

    counts: collections.Counter = collections.Counter()

    def walk(graph) -> None:
        for node in graph.node:
            counts[node.op_type] += 1
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    walk(attr.g)
                elif attr.type == onnx.AttributeProto.GRAPHS:
                    for g in attr.graphs:
                        walk(g)
    walk(model.graph)
    fused = [op for op in FUSED if counts.get(op)]
    if fused:
        recurrence = "fused " + ", ".join(f"{op}×{counts[op]}" for op in fused) + " node(s)"
    elif counts.get("Loop") or counts.get("Scan"):
        recurrence = " and ".join(f"{op}×{counts[op]}" for op in ("Loop", "Scan") if counts.get(op)) + " (not fused)"
    else:
        recurrence = "no loop (unrolled)"
    producer = f"{model.producer_name} {model.producer_version}".strip()
    opset = ",".join(str(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx"))
    return Operators(dict(counts), recurrence, f"producer {producer}, opset {opset}")


def load(path: Path) -> Artifact:
    return OnnxArtifact(path)
