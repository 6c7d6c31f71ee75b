"""Keras 3's numpy backend: tensors are NumPy arrays on the host; inference only, no compiled
function."""

from rnnconf.impl.backend import Backend

BACKEND = Backend("numpy", host_arrays=True,
                  inference_only="the numpy backend is inference-only: it has no gradients and Keras's "
                                 "Trainer is not implemented for it",
                  no_compile="the numpy backend has no compiled function: it runs every op eagerly")
