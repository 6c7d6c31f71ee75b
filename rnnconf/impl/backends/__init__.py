"""The backends, one module each, and their table: a new backend is one module and one row.

The key is the name the implementation reports (``keras.backend.backend()``; tf-keras:
``tensorflow``); an unknown name gets :data:`UNKNOWN` (no GPU probe, no compiled function, no
autodiff: those families say so instead of failing).
"""

from rnnconf.impl.backend import Backend
from rnnconf.impl.backends import jax, numpy, openvino, tensorflow, torch

BACKENDS: dict[str, Backend] = {
    "tensorflow": tensorflow.BACKEND,
    "jax": jax.BACKEND,
    "torch": torch.BACKEND,
    "numpy": numpy.BACKEND,
    "openvino": openvino.BACKEND,
}
UNKNOWN = Backend("", no_compile="unknown backend: no compiled function is known for it")
