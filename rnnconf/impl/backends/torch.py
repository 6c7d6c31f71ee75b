"""PyTorch: its CUDA devices, TF32 off, device names without an index, ``torch.autograd``; no
compiled function of its own (why: ``NO_COMPILE``)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from rnnconf.impl.backend import Backend, Gradients


def gpus() -> list[str]:
    import torch

    return [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []


def tf32_off() -> None:
    import torch

    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False


# torch.compile (inductor, dynamic=True) of one LSTM(3) takes ~26 s on a 2-core CPU, and its
# graph capture alone (backend="eager") 2.5 s: per entry, that is more than the whole suite.
NO_COMPILE = ("the torch backend has no compiled function of its own in normal use (Keras runs it "
              "eagerly unless jit_compile=True, then torch.compile); torch.compile costs ~26 s per "
              "layer on a 2-core CPU, so only model.predict is checked here")


def autodiff(impl: Any, layer: Any, x: np.ndarray, states: list[np.ndarray],
             forward: Callable[[Any, list], Any]) -> Gradients:
    import torch

    # leaf tensors where the backend puts its own (its device), that autograd tracks
    x_t = impl.to_tensor(x).detach().clone().requires_grad_(True)
    s_t = [impl.to_tensor(s).detach().clone().requires_grad_(True) for s in states]
    params = [v.value for v in layer.weights]
    loss = forward(x_t, s_t)
    grads = torch.autograd.grad(loss, [x_t, *s_t, *params], allow_unused=True)
    arrays = [np.zeros(tuple(t.shape), np.float32) if g is None else g.detach().cpu().numpy()
              for t, g in zip([x_t, *s_t, *params], grads)]
    return Gradients.split(float(loss.detach().cpu()), arrays, len(s_t))


BACKEND = Backend("torch", gpus, tf32_off, indexed_device_names=False, no_compile=NO_COMPILE, autodiff=autodiff)
