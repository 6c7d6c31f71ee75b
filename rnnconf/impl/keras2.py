"""tf-keras (Keras 2): TensorFlow only, ``tf.device`` scopes, ``reset_states()``."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnconf.impl.backend import flat_list
from rnnconf.impl.base import Implementation


class Keras2(Implementation):
    flavor = "keras2"

    def _backend_name(self) -> str:
        return "tensorflow"

    def _scope(self, device: str, name: str) -> Any:
        import tensorflow as tf

        return tf.device("/" + name.upper())

    def to_tensor(self, x: Any) -> Any:
        import tensorflow as tf

        return tf.convert_to_tensor(x)

    def _sum_of_products(self, tensors: list, weights: list) -> Any:
        import tensorflow as tf

        return tf.add_n([tf.reduce_sum(t * w) for t, w in zip(tensors, weights)])

    def layer_initial_state(self, layer: Any, x: np.ndarray) -> list[Any]:
        """tf-keras: ``RNN.get_initial_state(inputs)``."""
        return flat_list(layer.get_initial_state(self.to_tensor(x)))

    def cell_initial_state(self, cell: Any, batch: int, dtype: str) -> list[Any]:
        """tf-keras documents ``get_initial_state(inputs=None, batch_size=None, dtype=None)``."""
        return flat_list(cell.get_initial_state(batch_size=batch, dtype=dtype))

    def reset_state(self, layer: Any, states: Any = None) -> None:
        method = getattr(layer, "reset_state", None) or getattr(layer, "reset_states")
        if states is None:
            method()
        else:  # tf-keras names the argument on reset_states
            getattr(layer, "reset_states")(states=states)

    def global_state(self) -> tuple[str, str]:
        mp = self.module.mixed_precision
        return mp.global_policy().name, self.module.backend.floatx()

    def set_global_state(self, state: tuple[str, str]) -> None:
        policy, floatx = state
        self.module.backend.set_floatx(floatx)
        self.module.mixed_precision.set_global_policy(policy)
