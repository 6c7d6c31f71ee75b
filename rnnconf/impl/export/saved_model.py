"""``format="tf_saved_model"``, run by ``tf.saved_model.load``.

The artifact is run through its ``serving_default`` signature, called with the signature's own
input names (the model's Input names). The signature returns a dict whose keys are ``output_0``, ``output_1``, ... in the
order the Keras model lists its outputs; the dict's own iteration order is arbitrary, so the
outputs are read by the number after ``output_`` (as a number: ``output_10`` comes after
``output_9``). A key of another form is an output the model does not have, kept after the
numbered ones so that the arity check sees it.
"""

from __future__ import annotations

import collections
import re
from pathlib import Path

import numpy as np

from rnnconf.impl.export import Artifact, Operators, Output, free_dims, input_order

NUMBERED = re.compile(r"output_(\d+)")


def ordered(keys) -> list[str]:
    """Signature output keys in the model's order: ``output_<k>`` by k, then any others."""
    numbered = sorted((int(m.group(1)), k) for k in keys if (m := NUMBERED.fullmatch(k)))
    return [k for _, k in numbered] + sorted(k for k in keys if not NUMBERED.fullmatch(k))


class SavedModel(Artifact):
    def __init__(self, path: Path) -> None:
        import tensorflow as tf

        self._tf = tf
        self._obj = tf.saved_model.load(str(path))
        self._sig = self._obj.signatures["serving_default"]
        self.input_names = sorted(self._sig.structured_input_signature[1])
        specs = self._sig.structured_outputs
        self.keys = ordered(specs)
        self.outputs = [Output(k, free_dims(specs[k].shape.as_list()), specs[k].dtype.name) for k in self.keys]
        self.operators = _operators(self._sig.graph.as_graph_def())

    def run(self, *inputs: np.ndarray) -> list[np.ndarray]:
        order = input_order(self.input_names, len(inputs))
        got = self._sig(**{self.input_names[j]: self._tf.constant(a) for j, a in zip(order, inputs)})
        return [np.asarray(got[k]) for k in ordered(got)]


def _operators(graph_def) -> Operators:
    counts = collections.Counter(n.op for n in graph_def.node)
    for fn in graph_def.library.function:
        counts.update(n.op for n in fn.node_def)
    ops = set(counts)
    if ops & {"CudnnRNN", "CudnnRNNV2", "CudnnRNNV3"}:
        recurrence = "cuDNN kernel (CudnnRNN*)"
    elif ops & {"While", "StatelessWhile"}:
        lists = sorted(o for o in ops if o.startswith("TensorList"))
        recurrence = "While loop" + (f" over TensorList ops ({len(lists)} kinds)" if lists else "")
    else:
        recurrence = "no loop (unrolled)"
    return Operators(dict(counts), recurrence)


def load(path: Path) -> Artifact:
    return SavedModel(path)
