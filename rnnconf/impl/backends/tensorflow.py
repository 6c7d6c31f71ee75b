"""TensorFlow: its GPU list, TF32 off, ``tf.function`` as the compiled function, ``tf.GradientTape``.

Used by Keras 3 on TensorFlow and by tf-keras (whose backend is TensorFlow)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from rnnconf.impl.backend import Backend, Gradients, flat


def gpus() -> list[str]:
    import tensorflow as tf

    return [d.name for d in tf.config.list_physical_devices("GPU")]


def tf32_off() -> None:
    import tensorflow as tf

    tf.config.experimental.enable_tensor_float_32_execution(False)


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
BACKEND = Backend("tensorflow", gpus, tf32_off, compile=compile, autodiff=autodiff)
