"""User-defined recurrent cells, written against the public Keras API only.

``keras.layers.RNN`` documents a cell contract -- ``call(inputs, states)`` returning ``(output,
new_states)``, ``state_size`` (an int, or one size per state), ``output_size``, an optional
``get_initial_state(batch_size=None)`` -- and promises the same return structure, masking and
state handling for any such cell. The built-in cells all return their first state as their
output; these do not all, and they carry one, two or three states, nested or flat:

| kind | state_size | output_size | equations (``σ`` unused: every step is ``tanh``) |
|---|---|---|---|
| ``proj`` | ``u`` | ``u + 1`` | ``h' = tanh(x·W + h·U + b)``, output ``h'·P`` (a projection: output != state) |
| ``two`` | ``[u, u + 2]`` | ``u`` | ``s1' = tanh(x·W1 + s1·U1 + s2·V1)``, ``s2' = tanh(x·W2 + s2·U2 + s1'·V2)``, output ``s1'`` |
| ``nested`` | ``[u, [u + 1, u + 2]]`` | ``u`` | ``h' = tanh(x·Wh + h·Uh + a·Ah)``, ``a' = tanh(x·Wa + a·Ua)``, ``b' = tanh(x·Wb + b·Ub + h'·Hb)``, output ``h'``; states come back as ``h, [a, b]`` |
| ``init`` | ``u`` | ``u`` | ``h' = tanh(x·W + h·U + b)`` from ``get_initial_state`` = 0.5 everywhere |
| ``plain`` | ``u`` (an int) | none | ``h' = tanh(x·W + h·U)``, output ``h'`` (RNN takes ``output_size`` from ``state_size``) |

Weights are created in the order listed, so ``get_weights()`` is that list; the NumPy twins are
in :mod:`rnnconf.spec.oracle` (``CUSTOM_WEIGHTS`` and ``_custom_step``). Classes are made per
implementation module (``keras`` or ``tf_keras``: its ``layers.Layer`` and its serialization
registry), registered as serializable under the package ``rnnconf``.
"""

from __future__ import annotations

import importlib
import types
from typing import Any, Callable

INIT_VALUE = 0.5  # what the ``init`` cell's get_initial_state fills its state with

_CLASSES: dict[str, dict[str, type]] = {}



def _ops_of(package: str) -> Any:
    """``keras.ops`` for Keras 3; a small TensorFlow stand-in for tf-keras (which has none)."""
    module = importlib.import_module(package)
    ops = getattr(module, "ops", None)
    if ops is not None:
        return ops
    import tensorflow as tf

    return types.SimpleNamespace(matmul=tf.matmul, tanh=tf.tanh,
                                 full=lambda shape, value, dtype=None: tf.fill(shape, tf.cast(value, dtype)))


def cell_class(get: Callable[[str], Any], kind: str) -> type:
    """The user-defined cell class ``kind`` for the implementation whose ``layers.<name>`` is
    ``get(name)``."""
    base = get("Layer")
    package = base.__module__.split(".")[0]
    if package not in _CLASSES:
        _CLASSES[package] = _make_classes(base, package)
    return _CLASSES[package][kind]


def _make_classes(Layer: type, package: str) -> dict[str, type]:
    module = importlib.import_module(package)
    ops = _ops_of(package)
    register = module.saving.register_keras_serializable(package="rnnconf")

    class _Cell(Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def _weight(self, shape, name):
            return self.add_weight(shape=shape, initializer="glorot_uniform", name=name)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    class ProjectedOutputCell(_Cell):
        @property
        def state_size(self):
            return self.units

        @property
        def output_size(self):
            return self.units + 1

        def build(self, input_shape):
            u, f = self.units, input_shape[-1]
            self.kernel = self._weight((f, u), "kernel")
            self.recurrent_kernel = self._weight((u, u), "recurrent_kernel")
            self.bias = self.add_weight(shape=(u,), initializer="zeros", name="bias")
            self.projection = self._weight((u, u + 1), "projection")

        def call(self, inputs, states):
            h = ops.tanh(ops.matmul(inputs, self.kernel) + ops.matmul(states[0], self.recurrent_kernel)
                         + self.bias)
            return ops.matmul(h, self.projection), [h]

    class TwoStateCell(_Cell):
        @property
        def state_size(self):
            return [self.units, self.units + 2]

        @property
        def output_size(self):
            return self.units

        def build(self, input_shape):
            a, b, f = self.units, self.units + 2, input_shape[-1]
            self.w1, self.u1, self.v1 = self._weight((f, a), "w1"), self._weight((a, a), "u1"), self._weight((b, a), "v1")
            self.w2, self.u2, self.v2 = self._weight((f, b), "w2"), self._weight((b, b), "u2"), self._weight((a, b), "v2")

        def call(self, inputs, states):
            s1, s2 = states
            n1 = ops.tanh(ops.matmul(inputs, self.w1) + ops.matmul(s1, self.u1) + ops.matmul(s2, self.v1))
            n2 = ops.tanh(ops.matmul(inputs, self.w2) + ops.matmul(s2, self.u2) + ops.matmul(n1, self.v2))
            return n1, [n1, n2]

    class NestedStateCell(_Cell):
        @property
        def state_size(self):
            return [self.units, [self.units + 1, self.units + 2]]

        @property
        def output_size(self):
            return self.units

        def build(self, input_shape):
            u, a, b, f = self.units, self.units + 1, self.units + 2, input_shape[-1]
            self.wh, self.uh, self.ah = self._weight((f, u), "wh"), self._weight((u, u), "uh"), self._weight((a, u), "ah")
            self.wa, self.ua = self._weight((f, a), "wa"), self._weight((a, a), "ua")
            self.wb, self.ub, self.hb = self._weight((f, b), "wb"), self._weight((b, b), "ub"), self._weight((u, b), "hb")

        def get_initial_state(self, batch_size=None, **kwargs):
            # RNN's own zero states take one int per state; a nested state_size needs the cell's
            dtype = self.compute_dtype
            return [ops.full((batch_size, self.units), 0.0, dtype=dtype),
                    [ops.full((batch_size, self.units + 1), 0.0, dtype=dtype),
                     ops.full((batch_size, self.units + 2), 0.0, dtype=dtype)]]

        def call(self, inputs, states):
            h, (a, b) = states[0], states[1]
            nh = ops.tanh(ops.matmul(inputs, self.wh) + ops.matmul(h, self.uh) + ops.matmul(a, self.ah))
            na = ops.tanh(ops.matmul(inputs, self.wa) + ops.matmul(a, self.ua))
            nb = ops.tanh(ops.matmul(inputs, self.wb) + ops.matmul(b, self.ub) + ops.matmul(nh, self.hb))
            return nh, [nh, [na, nb]]

    class InitialStateCell(_Cell):
        @property
        def state_size(self):
            return self.units

        @property
        def output_size(self):
            return self.units

        def build(self, input_shape):
            u, f = self.units, input_shape[-1]
            self.kernel = self._weight((f, u), "kernel")
            self.recurrent_kernel = self._weight((u, u), "recurrent_kernel")
            self.bias = self.add_weight(shape=(u,), initializer="zeros", name="bias")

        def get_initial_state(self, batch_size=None, **kwargs):
            return [ops.full((batch_size, self.units), INIT_VALUE, dtype=self.compute_dtype)]

        def call(self, inputs, states):
            h = ops.tanh(ops.matmul(inputs, self.kernel) + ops.matmul(states[0], self.recurrent_kernel)
                         + self.bias)
            return h, [h]

    class PlainIntStateCell(_Cell):
        def __init__(self, units, **kwargs):
            super().__init__(units, **kwargs)
            self.state_size = units  # a plain attribute, an int; no output_size

        def build(self, input_shape):
            self.kernel = self._weight((input_shape[-1], self.units), "kernel")
            self.recurrent_kernel = self._weight((self.units, self.units), "recurrent_kernel")

        def call(self, inputs, states):
            prev = states[0] if isinstance(states, (list, tuple)) else states
            h = ops.tanh(ops.matmul(inputs, self.kernel) + ops.matmul(prev, self.recurrent_kernel))
            return h, [h]

    classes = {}
    for kind, cls in (("proj", ProjectedOutputCell), ("two", TwoStateCell), ("nested", NestedStateCell),
                      ("init", InitialStateCell), ("plain", PlainIntStateCell)):
        cls.__qualname__ = cls.__name__
        classes[kind] = register(cls)
    return classes
