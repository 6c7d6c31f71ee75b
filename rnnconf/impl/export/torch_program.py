"""``format="torch"``, run by ``torch.export.load(path).module()``.

The exported program takes the model's inputs by position and returns a Python list in the order the Keras model lists its outputs; it
is read by position. The operator summary counts the graph's ``call_function`` targets (a
torch-backend recurrence is a Python loop, so it is traced step by step: no loop operator).
"""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np

from rnnconf.impl.export import Artifact, Operators, Output


class TorchProgram(Artifact):
    def __init__(self, path: Path) -> None:
        import torch

        self._torch = torch
        program = torch.export.load(str(path))
        self._module = program.module()
        self.input_names = [s.arg.name for s in program.graph_signature.input_specs
                            if getattr(s, "kind", None) is not None and s.kind.name == "USER_INPUT"]
        outputs = [n for n in program.graph.nodes if n.op == "output"]
        leaves = list(outputs[0].args[0]) if outputs else []
        self.outputs = [Output(getattr(n, "name", str(n)), tuple(None if not isinstance(d, int) else d
                                                                for d in n.meta["val"].shape),
                               str(n.meta["val"].dtype).removeprefix("torch."))
                        for n in leaves if hasattr(n, "meta") and "val" in n.meta]
        counts = collections.Counter(str(n.target) for n in program.graph.nodes if n.op == "call_function")
        loops = [k for k in counts if "while_loop" in k or "scan" in k]
        self.operators = Operators(dict(counts), "loop operator " + ", ".join(loops) if loops
                                   else "no loop (unrolled over the traced time steps)")

    def run(self, *inputs: np.ndarray) -> list[np.ndarray]:
        got = self._module(*(self._torch.from_numpy(np.ascontiguousarray(a)) for a in inputs))
        got = got if isinstance(got, (list, tuple)) else [got]
        return [self._numpy(t) for t in self._torch.utils._pytree.tree_leaves(got)]

    def _numpy(self, tensor):
        """A returned tensor as NumPy, in its own dtype: torch cannot hand NumPy a bfloat16 tensor
        (``TypeError: Got unsupported ScalarType BFloat16``), so its bits are read as
        ``ml_dtypes.bfloat16`` (the NumPy bfloat16 type Keras itself depends on)."""
        tensor = tensor.detach().cpu()
        if tensor.dtype == self._torch.bfloat16:
            import ml_dtypes

            return tensor.view(self._torch.int16).numpy().view(ml_dtypes.bfloat16)
        return tensor.numpy()


def load(path: Path) -> Artifact:
    return TorchProgram(path)
