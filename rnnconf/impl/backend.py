"""What one backend is to the adapter: a :class:`Backend` of facts and functions.

Each backend has one module in :mod:`rnnconf.impl.backends` that fills one ``Backend`` (its GPU
probe, how TF32 is switched off, how a case is named on a device, its compiled function and its
autodiff) and one row in that package's table; adding a backend, or an export runtime, is one
new module and one row.

Autodiff: ``autodiff(impl, layer, x, states, forward)`` gets the implementation, the layer, the
input and the flat initial states as NumPy arrays, and ``forward(x, states) -> scalar`` (the call
and the loss, written with the backend's ops); it returns :class:`Gradients` w.r.t. the input,
each initial state and each weight (``get_weights()`` order).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np


@dataclasses.dataclass(frozen=True)
class Backend:
    """Facts about one backend: where its version comes from, how it sees GPUs (a probe that
    raises is reported, see Implementation.gpus), how TF32 is switched off on a GPU, and how a
    case is named on a device."""

    module: str
    gpus: Callable[[], list[str]] = lambda: []
    tf32_off: Callable[[], None] = lambda: None
    # "cpu:0"/"gpu:0" as Keras documents; the torch backend breaks every layer that owns a
    # SeedGenerator under an indexed name (tests/test_devices.py records that), and places the
    # same with "cpu"/"gpu"
    indexed_device_names: bool = True
    float64: Callable[[], bool] = lambda: True
    # the backend's tensors are NumPy arrays on the host (the numpy backend): a returned
    # np.ndarray is then a tensor on the CPU, not a host copy of one
    host_arrays: bool = False
    # the backend's tensors say where they live (OpenVINO's do not: placement is not observable)
    tensors_have_device: bool = True
    # run once when the implementation loads; returns what it set, for the report header
    prepare: Callable[[], str] = lambda: ""
    # whether the backend runs TensorFlow's oneDNN CPU kernels (None: not TensorFlow); some
    # expectation entries apply only in one state (rnnconf.harness.expectations, ``onednn``)
    onednn: Callable[[], "bool | None"] = lambda: None
    # run after every test: process hygiene that changes no result (JAX releases the compiled
    # programs' memory mappings before the process runs out of them)
    between_tests: Callable[[], None] = lambda: None
    # why the backend cannot train ("" when it can); tests marked mode("training") are n/a there
    inference_only: str = ""
    # ---- compiled execution (tests marked mode("compiled")) ----
    # compile(layers, feature_shape, batch) -> a callable on a NumPy input that runs every layer
    # inside the backend's own compiled function, traced with an unknown batch dimension (batch
    # None; a stateful layer's fixed batch otherwise) and an unknown time dimension, and returns
    # one tree of backend tensors per layer; states a stateful layer carries persist from call to
    # call as they do in Keras's own compiled loops. None: the backend has none (``no_compile``
    # says why, and the function path is n/a there; model.predict still runs)
    compile: Callable[[list, tuple, "int | None"], Callable[[np.ndarray], list]] | None = None
    no_compile: str = ""
    # autodiff(impl, layer, x, states, forward) -> Gradients: how the backend differentiates a layer
    # call (see Implementation.gradients and the module docstring);
    # None where the backend has none (an inference-only backend)
    autodiff: Callable[..., "Gradients"] | None = None


@dataclasses.dataclass
class Gradients:
    """What an autodiff call gives: the loss and its gradients, as NumPy arrays."""

    loss: float
    input: np.ndarray
    initial_state: list[np.ndarray]
    weights: list[np.ndarray]

    @classmethod
    def split(cls, loss: float, grads: list[np.ndarray], n_states: int) -> "Gradients":
        return cls(loss, grads[0], list(grads[1:1 + n_states]), list(grads[1 + n_states:]))


def flat_list(node: Any) -> list:
    """:func:`flat`, with a lone tensor as a list of one (a cell of one state may return its
    state bare: "a tensor of shape (batch_size, cell.state_size)")."""
    out = flat(node)
    return out if isinstance(out, list) else [out]


def flat(node: Any) -> Any:
    """A layer's return as a flat list of tensors (a single tensor stays itself)."""
    if not isinstance(node, (list, tuple)):
        return node
    return [leaf for child in node for leaf in (flat(child) if isinstance(child, (list, tuple)) else [child])]
