"""JAX: its GPU list, matmul precision for TF32, x64, the persistent compilation cache,
``jax.jit`` over ``stateless_call``, ``jax.value_and_grad``."""

from __future__ import annotations

import itertools
import os
from typing import Any, Callable

import numpy as np

from rnnconf.impl.backend import Backend, Gradients, flat


def gpus() -> list[str]:
    import jax

    return [str(d) for d in jax.devices() if d.platform in ("gpu", "cuda", "rocm")]


def tf32_off() -> None:
    import jax

    jax.config.update("jax_default_matmul_precision", "float32")


def float64() -> bool:
    """JAX computes in 32 bits unless x64 is enabled (JAX_ENABLE_X64=1)."""
    import jax

    return bool(jax.config.jax_enable_x64)


def prepare() -> str:
    """Keras's JAX backend traces a new ``lax.scan`` for every recurrent call, and XLA compiles
    each (~0.1 s on a CPU core: most of the JAX lane's time). Identical programs recur across
    the cases of one layer (only the weights' values differ, and those are arguments), so
    JAX's persistent compilation cache -- exact compiled programs, reused within a run and
    across runs -- is switched on. A user's JAX_COMPILATION_CACHE_DIR is kept.

    A speed setting the running JAX does not know (JAX 0.4.23, of Keras 3.3's time, lacks
    ``jax_persistent_cache_min_entry_size_bytes``) is skipped and named in the returned note,
    which the report's header prints: speed never costs a lane."""
    import jax

    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return f"jax compilation cache {os.environ['JAX_COMPILATION_CACHE_DIR']} (from the environment)" + (
            f"; jax {jax.__version__} {CACHE_UNSAFE_BECAUSE}" if cache_unsafe(jax.__version__) else "")
    if cache_unsafe(jax.__version__):
        return f"no jax compilation cache (jax {jax.__version__} {CACHE_UNSAFE_BECAUSE})"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "rnn-conformance", f"jax-{jax.__version__}")
    skipped = apply_settings(jax.config, [("jax_compilation_cache_dir", folder),
                                          ("jax_persistent_cache_min_compile_time_secs", 0),
                                          ("jax_persistent_cache_min_entry_size_bytes", 0)])
    if "jax_compilation_cache_dir" in skipped:
        return f"no jax compilation cache (jax {jax.__version__} has no jax_compilation_cache_dir)"
    note = "jax compilation cache ~/.cache/rnn-conformance (set JAX_COMPILATION_CACHE_DIR to move it)"
    return note + (f"; jax {jax.__version__} lacks {', '.join(skipped)} (skipped)" if skipped else "")


# Where the persistent cache changes results, it stays off: a speed setting must not change what
# is tested. On JAX 0.4.28 and 0.5.0, a train step loaded from the persistent cache writes its
# donated buffers into the NumPy arrays a layer's variables were set from (layer.set_weights(arrays);
# model.fit(...) then changes `arrays`), which a fresh compile does not: two runs of
#   jax.config.update("jax_compilation_cache_dir", d); ..._min_compile_time_secs = 0
#   l = keras.layers.LSTM(3, stateful=True); l.build((3, 4, 5)); l.set_weights(w)
#   m = keras.Model(i, [l(i)]); m.compile(SGD(0.1), ["mse"]); m.fit(x, [y], batch_size=3)
# leave `w` changed on the second (Keras 3.6.0-3.8.0 with JAX 0.4.28, 3.9.2 with JAX 0.5.0); not
# on JAX 0.4.23, 0.8.1 or 0.10.2 (related: jax-ml/jax#26216, donation and CPU zero-copy arrays).
# The versions between were not tried, so the range is the widest the observations allow.
CACHE_UNSAFE = ("0.4.24", "0.8.1")  # [from, to): the persistent cache stays off
CACHE_UNSAFE_BECAUSE = ("writes donated buffers into host NumPy arrays when a train step comes from "
                        "the persistent cache, see rnnconf/impl/backends/jax.py")


def cache_unsafe(version: str) -> bool:
    from packaging.version import Version

    return Version(CACHE_UNSAFE[0]) <= Version(version) < Version(CACHE_UNSAFE[1])


def apply_settings(config: Any, settings: list[tuple[str, Any]]) -> list[str]:
    """``config.update(name, value)`` for each setting the running JAX knows; returns the names
    it does not know (JAX raises AttributeError for an unknown option), which are skipped."""
    skipped = []
    for name, value in settings:
        try:
            config.update(name, value)
        except AttributeError:
            skipped.append(name)
    return skipped


def compile(layers: list, feature_shape: tuple, batch: int | None) -> Callable:
    """``jax.jit`` over each layer's ``stateless_call`` (a pure function of the variables' values
    and the input), as Keras's JAX trainer runs a layer; jit traces once per input shape. The
    non-trainable values it returns (a stateful layer's states, seed generators) are passed to
    the next call, as the trainer carries them from batch to batch."""
    import jax

    def pure(values: list, x: Any) -> tuple[list, list]:
        outs, carried = [], []
        for layer, (trainable, non_trainable) in zip(layers, values):
            out, non_trainable = layer.stateless_call(trainable, non_trainable, x)
            outs.append(flat(out))
            carried.append((trainable, non_trainable))
        return outs, carried

    jitted = jax.jit(pure)
    state = {"values": [([v.value for v in layer.trainable_variables],
                         [v.value for v in layer.non_trainable_variables]) for layer in layers]}

    def call(x: np.ndarray) -> list:
        outs, state["values"] = jitted(state["values"], x)
        return outs

    return call


def autodiff(impl: Any, layer: Any, x: np.ndarray, states: list[np.ndarray],
             forward: Callable[[Any, list], Any]) -> Gradients:
    """``jax.value_and_grad`` over the layer's ``stateless_call``: the weights are arguments."""
    import jax

    trainable = list(layer.trainable_variables)
    non_trainable = [v.value for v in layer.non_trainable_variables]

    def loss_of(values: list, x_j: Any, s_j: list) -> Any:
        def call(inputs: Any, **kwargs: Any) -> Any:
            out, _ = layer.stateless_call(values, non_trainable, inputs, **kwargs)
            return out
        return forward(x_j, s_j, call=call)

    loss, (g_w, g_x, g_s) = jax.value_and_grad(loss_of, argnums=(0, 1, 2))(
        [v.value for v in trainable], jax.numpy.asarray(x), [jax.numpy.asarray(s) for s in states])
    by_id = {id(v): np.asarray(g) for v, g in zip(trainable, g_w)}
    weights = [by_id.get(id(v), np.zeros(tuple(v.shape), np.float32)) for v in layer.weights]
    return Gradients(float(loss), np.asarray(g_x), [np.asarray(g) for g in g_s], weights)


def _max_map_count() -> int:
    try:
        with open("/proc/sys/vm/max_map_count") as f:
            return int(f.read())
    except (OSError, ValueError):  # not Linux: no such limit to watch
        return 0


_MAP_LIMIT = _max_map_count()
_TESTS = itertools.count(1)


def release_mappings(every: int = 25) -> None:
    """Every compiled XLA program keeps a few dozen memory mappings of the process (about 27 per
    recurrent call on JAX 0.5.0) until JAX's caches let it go. Keras traces a new ``lax.scan``
    for every recurrent call, so a worker running a few thousand cases gathers tens of thousands,
    and at Linux's ``vm.max_map_count`` (65,530 by default) XLA's next compile segfaults or aborts:
    two workers per whole-suite run died so on JAX 0.5.0. Every ``every`` tests, once the process
    holds more than half the limit, ``jax.clear_caches()`` releases them (a program needed again
    is compiled again: nothing a test sees changes)."""
    if next(_TESTS) % every or not _MAP_LIMIT:
        return
    with open("/proc/self/maps", "rb") as f:
        held = sum(1 for _ in f)
    if held > _MAP_LIMIT // 2:
        import jax

        jax.clear_caches()


BACKEND = Backend("jax", gpus, tf32_off, float64=float64, prepare=prepare, compile=compile, autodiff=autodiff,
                  between_tests=release_mappings)
