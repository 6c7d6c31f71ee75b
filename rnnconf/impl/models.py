"""Models as a user assembles them, through an implementation's public API only: ``Input``,
``Model``, ``Sequential``, ``layers.Masking``, ``layers.Embedding``, ``layers.Concatenate`` and a
probe layer that shows the mask the next layer is called with.

Nothing here knows a catalog entry: the harness builds the recurrent layers (with the case's
weights) and hands them over.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from rnnconf.impl.backend import flat

_PROBES: dict[int, type] = {}


def probe_class(impl: Any) -> type:
    """A layer (subclass of the implementation's ``layers.Layer``) that returns its input and
    keeps the ``mask`` its last call received: the next layer, as a user's own layer that
    supports masking sees it ("the timestep will be masked (skipped) in all downstream layers (as
    long as they support masking)", the Masking docstring)."""
    key = id(impl.module)
    if key not in _PROBES:
        base = impl.layer("Layer")

        class MaskProbe(base):
            def __init__(self, **kwargs: Any) -> None:
                super().__init__(**kwargs)
                self.supports_masking = True
                self.seen: Any = "never called"

            def call(self, inputs: Any, mask: Any = None) -> Any:
                self.seen = mask
                return inputs

            def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
                return mask

            def compute_output_shape(self, input_shape: Any) -> Any:
                return input_shape

        _PROBES[key] = MaskProbe
    return _PROBES[key]


def front_layer(impl: Any, front: str, table: np.ndarray | None) -> Any:
    """``Masking(mask_value=0.0)``, or ``Embedding(vocab, features, mask_zero=True)`` holding
    ``table`` (built, then set)."""
    if front == "Masking":
        return impl.layer("Masking")(mask_value=0.0)
    layer = impl.layer("Embedding")(table.shape[0], table.shape[1], mask_zero=True)
    layer.build((None, None))
    layer.set_weights([table])
    return layer


def model_input(impl: Any, front: str | None, feature_shape: tuple, batch: int | None = None) -> Any:
    """``Input(shape=(None, *features))``; an Embedding front takes int tokens of every axis but
    the features (``(None,)``; ``(None, None)`` where the features are ``(None, F)``)."""
    if front == "Embedding":
        return impl.module.Input(shape=(None, *feature_shape[:-1]), dtype="int32", batch_size=batch)
    return impl.module.Input(shape=(None, *feature_shape), batch_size=batch)


class Probed:
    """A model and, per branch, its output tensors' count and the probe after each."""

    def __init__(self, model: Any, counts: list[int], probes: list[list[Any]]) -> None:
        self.model = model
        self.counts = counts
        self.probes = probes

    def split(self, returned: Any) -> list[list[Any]]:
        """The model's flat outputs, one list per branch."""
        returned = returned if isinstance(returned, (list, tuple)) else [returned]
        out, at = [], 0
        for n in self.counts:
            out.append(list(returned[at:at + n]))
            at += n
        return out

    def masks_seen(self, impl: Any) -> list[list[Any]]:
        """Per branch, per output: the mask its probe's last call received (None, or a bool
        NumPy array; a string where the probe was never called)."""
        def seen(probe: Any) -> Any:
            m = probe.seen
            if m is None or isinstance(m, str):
                return m
            return np.asarray(impl.to_numpy(m)).astype(bool)
        return [[seen(p) for p in branch] for branch in self.probes]


def branched_model(impl: Any, inputs: Any, trunk: Callable[[Any], Any],
                   branches: list[Callable[[Any], Any]], probe: bool = True) -> Probed:
    """A functional model on ``inputs`` (a tensor or a list): ``trunk(inputs)`` once, then each
    branch on its result; every tensor a branch returns goes through a probe (``probe``) and is
    a model output, flat, branch after branch."""
    shared = trunk(inputs)
    outputs, counts, probes = [], [], []
    cls = probe_class(impl) if probe else None
    for branch in branches:
        returned = flat(branch(shared))
        returned = returned if isinstance(returned, list) else [returned]
        mine = [cls() for _ in returned] if cls else []
        outputs += [p(t) for p, t in zip(mine, returned)] if cls else returned
        counts.append(len(returned))
        probes.append(mine)
    return Probed(impl.module.Model(inputs, outputs), counts, probes)


def sequential_model(impl: Any, inp: Any, layers: list[Any]) -> Probed:
    """``Sequential([Input, *layers, probe])``: one output, the probe after it."""
    probe = probe_class(impl)()
    return Probed(impl.top_level("Sequential")([inp, *layers, probe]), [1], [[probe]])


def save_and_load_model(impl: Any, model: Any, path: Any) -> Any:
    """``model.save(path)`` as a ``.keras`` file and the loaded model (``saving.load_model``)."""
    model.save(str(path))
    saving = getattr(impl.module, "saving", None)
    load_model = getattr(saving, "load_model", None) or impl.module.models.load_model
    return load_model(str(path))
