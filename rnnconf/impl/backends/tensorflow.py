"""TensorFlow: its GPU list, TF32 off, ``tf.function`` as the compiled function, ``tf.GradientTape``.

Used by Keras 3 on TensorFlow and by tf-keras (whose backend is TensorFlow)."""

from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np

from rnnconf.impl.backend import Backend, Gradients, flat


def gpus() -> list[str]:
    import tensorflow as tf

    return [d.name for d in tf.config.list_physical_devices("GPU")]


def tf32_off() -> None:
    import tensorflow as tf

    tf.config.experimental.enable_tensor_float_32_execution(False)


def onednn() -> bool | None:
    """Whether TensorFlow runs its oneDNN CPU kernels in this process: TensorFlow's own runtime
    choice (``IsMklEnabled``: on by default on CPUs with AVX512_VNNI/AMX-class features, or as
    TF_ENABLE_ONEDNN_OPTS=0/1 says); None where TensorFlow cannot say. It decides what some CPU
    cases can do (an NCHW convolution runs only with them), so expectation entries may name it
    (``onednn`` in fixtures/expectations/)."""
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:
        return None
    return bool(_pywrap_util_port.IsMklEnabled())


def prepare() -> str:
    """Nothing is set; the header names whether TensorFlow runs its oneDNN CPU kernels."""
    state = onednn()
    if state is None:
        return ""
    how = ("TF_ENABLE_ONEDNN_OPTS=" + os.environ["TF_ENABLE_ONEDNN_OPTS"]
           if "TF_ENABLE_ONEDNN_OPTS" in os.environ else "TensorFlow's default for this CPU")
    return f"oneDNN CPU kernels {'on' if state else 'off'} ({how})"


def compile(layers: list, feature_shape: tuple, batch: int | None) -> Callable:
    """``tf.function`` with ``input_signature=[TensorSpec((batch, None, *features))]``: one trace
    for every batch size (the layers' variables, a stateful layer's states too, live in TF)."""
    import tensorflow as tf

    spec = tf.TensorSpec((batch, None, *feature_shape), tf.float32)

    # autograph off: the function has no Python control flow over tensors, and tf-keras's layers
    # inside an autograph-converted function fail to trace (TypeError in a converted __init__)
    @tf.function(input_signature=[spec], autograph=False)
    def traced(x: Any) -> list:
        return [flat(layer(x)) for layer in layers]

    return lambda x: traced(tf.constant(x))


def autodiff(impl: Any, layer: Any, x: np.ndarray, states: list[np.ndarray],
             forward: Callable[[Any, list], Any]) -> Gradients:
    import tensorflow as tf

    x_t = tf.constant(x)
    s_t = [tf.constant(s) for s in states]
    # Keras 3 wraps each tf.Variable (``.value``); tf-keras's weights are tf.Variables
    weights = [v if callable(getattr(v, "value", None)) else v.value for v in layer.weights]
    with tf.GradientTape() as tape:  # watches the layer's trainable variables itself
        tape.watch([x_t, *s_t])
        loss = forward(x_t, s_t)
    grads = tape.gradient(loss, [x_t, *s_t, *weights],
                          unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return Gradients.split(float(loss), [np.asarray(g) for g in grads], len(s_t))


# GPU matmuls in TF32 drift from float32 (keras #19254); TF32 is switched off as Keras's tests do.
BACKEND = Backend("tensorflow", gpus, tf32_off, prepare=prepare, onednn=onednn, compile=compile,
                  autodiff=autodiff)
