"""``format="litert"``, run by ``ai_edge_litert``'s ``Interpreter`` (the plain interpreter, no
delegate).

The artifact is run through its ``serving_default`` signature runner (which resizes its inputs to
the array it is given). The runner returns a dict keyed ``output_0``, ``output_1``, ... in the
order the Keras model lists its outputs, read by the number after ``output_``. The interpreter's
``get_output_details()`` lists the same tensors in another order (the converter's), so it is
never used to map outputs.

The operator summary reads the flatbuffer (every subgraph: a WHILE loop's condition and body are
subgraphs of their own) with the schema ai_edge_litert ships. It says whether the recurrence
became a fused ``UNIDIRECTIONAL_SEQUENCE_LSTM``/``..._RNN``/``BIDIRECTIONAL_SEQUENCE_LSTM``, a
builtin ``WHILE`` loop, or Select TF (Flex) operators, which the plain interpreter cannot run.
"""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np

from rnnconf.impl.export import Artifact, Operators, Output, free_dims, input_order
from rnnconf.impl.export.saved_model import ordered

FUSED = ("UNIDIRECTIONAL_SEQUENCE_LSTM", "BIDIRECTIONAL_SEQUENCE_LSTM", "UNIDIRECTIONAL_SEQUENCE_RNN",
         "BIDIRECTIONAL_SEQUENCE_RNN")


class LiteRtArtifact(Artifact):
    def __init__(self, path: Path) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.operators = operators(path)  # read first: it needs no interpreter
        self._interpreter = Interpreter(model_path=str(path))
        signatures = self._interpreter.get_signature_list()
        if "serving_default" not in signatures:
            raise RuntimeError(f"the artifact has no serving_default signature (it has {sorted(signatures)})")
        self.input_names = list(signatures["serving_default"]["inputs"])
        self._runner = self._interpreter.get_signature_runner("serving_default")
        details = self._runner.get_output_details()
        self.outputs = [Output(k, free_dims(details[k].get("shape_signature", details[k]["shape"])),
                               np.dtype(details[k]["dtype"]).name) for k in ordered(details)]

    def run(self, *inputs: np.ndarray) -> list[np.ndarray]:
        order = input_order(self.input_names, len(inputs))
        got = self._runner(**{self.input_names[j]: a for j, a in zip(order, inputs)})
        return [np.array(got[k]) for k in ordered(got)]


def operators(path: Path) -> Operators:
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    model = flatbuffer_utils.read_model(str(path))
    counts: collections.Counter = collections.Counter()
    for graph in model.subgraphs:
        for op in graph.operators:
            code = model.operatorCodes[op.opcodeIndex]
            name = names.get(flatbuffer_utils.get_builtin_code_from_operator_code(code), "?")
            if name == "CUSTOM":
                custom = code.customCode
                name = custom.decode() if isinstance(custom, bytes) else str(custom)
            counts[name] += 1
    flex = sorted(k for k in counts if k.startswith("Flex"))
    fused = [k for k in FUSED if counts.get(k)]
    if fused:
        recurrence = "fused " + ", ".join(fused)
    elif counts.get("WHILE"):
        recurrence = f"WHILE loop×{counts['WHILE']}" + (" with Select TF (Flex) TensorList ops" if flex else " (builtin ops)")
    else:
        recurrence = "no loop (unrolled)"
    extra = (f"Select TF (Flex) operators, which the plain interpreter cannot run: {', '.join(flex)}"
             if flex else "builtin operators only")
    return Operators(dict(counts), recurrence, extra)


def load(path: Path) -> Artifact:
    return LiteRtArtifact(path)
