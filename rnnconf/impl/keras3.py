"""Keras 3, and any module that speaks it: ``keras.device`` scopes, ``keras.ops``, a backend."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from rnnconf.impl.base import Implementation


class Keras3(Implementation):
    flavor = "keras3"

    def __init__(self, spec: str, module: Any) -> None:
        super().__init__(spec, module)
        # Keras 3 drops its own frames from the tracebacks of errors raised in its layers (on
        # torch every Keras frame is gone): keep them, so a failure shows where it arose and an
        # expectation can name the frame (``raised_in``). Messages are unchanged.
        disable = getattr(getattr(module, "config", None), "disable_traceback_filtering", None)
        if disable is not None:
            disable()

    def _backend_name(self) -> str:
        backend_ns = getattr(self.module, "backend", None)
        if hasattr(backend_ns, "backend"):
            return backend_ns.backend()
        return os.environ.get("KERAS_BACKEND", "unknown")

    def _scope(self, device: str, name: str) -> Any:
        scope = getattr(self.module, "device", None)
        if scope is None:
            raise RuntimeError(f"{self.spec!r} has no device() scope to place a case on {device}")
        return scope(name)

    def to_tensor(self, x: Any) -> Any:
        return self.module.ops.convert_to_tensor(x)

    def to_numpy(self, x: Any) -> np.ndarray:
        ops = getattr(self.module, "ops", None)
        if ops is not None and hasattr(ops, "convert_to_numpy"):
            return np.asarray(ops.convert_to_numpy(x))
        return super().to_numpy(x)

    def global_state(self) -> tuple[str, str]:
        cfg = self.module.config
        # keras.config.dtype_policy() arrived in Keras 3.3; 3.0-3.2 have it in mixed_precision
        policy = getattr(cfg, "dtype_policy", None) or self.module.mixed_precision.global_policy
        return policy().name, cfg.floatx()

    def set_global_state(self, state: tuple[str, str]) -> None:
        policy, floatx = state
        self.module.config.set_floatx(floatx)
        setter = (getattr(self.module.config, "set_dtype_policy", None)
                  or self.module.mixed_precision.set_global_policy)
        setter(policy)
