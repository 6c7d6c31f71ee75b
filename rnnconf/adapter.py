"""The implementation adapter: the ONLY place that knows Keras 3 from tf-keras from a module.

It imports the implementation, reports versions, backend and devices, places work on a device,
builds layers by name, sets weights, calls layers eagerly and symbolically, and turns whatever
came back into plain NumPy (nested lists of arrays), recording the containers, dtypes and
placement as they came. What differs is in two places: the flavour (:class:`Keras3`,
:class:`Keras2`, chosen in :func:`load`) and the backend (one :class:`Backend` entry of
``BACKENDS`` each), so a new backend or lane is one entry.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import os
from typing import Any, Callable, Iterator

import numpy as np

# Environment variables that change what an implementation does; the report header echoes them
# so that a typo shows at once.
RELEVANT_ENV = (
    "RNN_CONFORMANCE_IMPL", "KERAS_BACKEND", "KERAS_HOME", "CUDA_VISIBLE_DEVICES",
    "TF_ENABLE_ONEDNN_OPTS", "TF_CPP_MIN_LOG_LEVEL", "XLA_FLAGS", "JAX_PLATFORMS",
    "JAX_ENABLE_X64", "JAX_COMPILATION_CACHE_DIR", "TF_USE_LEGACY_KERAS",
)


class ImplementationError(Exception):
    """The implementation named on the command line cannot be used at all."""


class MissingLayer(Exception):
    """The implementation lacks a layer a case needs; only that case fails."""


def load(spec: str) -> "Implementation":
    """Import the implementation named ``spec``: ``keras``, ``tf_keras`` or a module path."""
    spec = spec.strip()
    if not spec:
        raise ImplementationError("--impl is empty: pass keras, tf_keras or a module path")
    # TensorFlow's C++ start-up chatter hides the report header; keep a user's own setting.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        module = importlib.import_module(spec)
    except Exception as exc:  # any import failure is a usage error, never a green empty run
        raise ImplementationError(
            f"--impl {spec!r}: cannot import module {spec!r} ({type(exc).__name__}: {exc}). "
            "Pass 'keras' (Keras 3; choose the backend with KERAS_BACKEND), 'tf_keras' (Keras 2), "
            "or an importable module that exposes the Keras layers API as <module>.layers, "
            "e.g. --impl fixtures.broken.wrong_arity; install the implementation with "
            "'make venv EXTRAS=...' (see README).") from exc
    if not hasattr(module, "layers"):
        raise ImplementationError(
            f"--impl {spec!r}: module {module.__name__!r} (from {getattr(module, '__file__', '?')}) "
            "has no attribute 'layers'; an implementation must expose the Keras layers API as "
            "<module>.layers (layers.LSTM, layers.GRU, ...)")
    return FLAVORS[_flavor(module)](spec, module)


def _flavor(module: Any) -> str:
    """``keras3`` when the module speaks Keras 3 (a device scope and a backend), else ``keras2``."""
    declared = getattr(module, "RNN_CONFORMANCE_FLAVOR", None)
    if declared:
        return declared
    version = str(getattr(module, "__version__", ""))
    if module.__name__ == "keras" and version.startswith("3"):
        return "keras3"
    if callable(getattr(module, "device", None)) and hasattr(getattr(module, "backend", None), "backend"):
        return "keras3"
    return "keras2"


# ---- what differs per backend: one entry each ---------------------------------------------------
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
    # autodiff (issue 8): how the backend differentiates a layer call, see Implementation.gradients;
    # None where the backend has none (an inference-only backend)
    autodiff: Callable[..., "Gradients"] | None = None


def _tensorflow_gpus() -> list[str]:
    import tensorflow as tf

    return [d.name for d in tf.config.list_physical_devices("GPU")]


def _tensorflow_tf32_off() -> None:
    import tensorflow as tf

    tf.config.experimental.enable_tensor_float_32_execution(False)


def _jax_gpus() -> list[str]:
    import jax

    return [str(d) for d in jax.devices() if d.platform in ("gpu", "cuda", "rocm")]


def _jax_tf32_off() -> None:
    import jax

    jax.config.update("jax_default_matmul_precision", "float32")


def _jax_float64() -> bool:
    """JAX computes in 32 bits unless x64 is enabled (JAX_ENABLE_X64=1)."""
    import jax

    return bool(jax.config.jax_enable_x64)


def _jax_prepare() -> str:
    """Keras's JAX backend traces a new ``lax.scan`` for every recurrent call, and XLA compiles
    each (~0.1 s on a CPU core: most of the JAX lane's time). Identical programs recur across
    the cases of one layer (only the weights' values differ, and those are arguments), so
    JAX's persistent compilation cache -- exact compiled programs, reused within a run and
    across runs -- is switched on. A user's JAX_COMPILATION_CACHE_DIR is kept."""
    import jax

    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return f"jax compilation cache {os.environ['JAX_COMPILATION_CACHE_DIR']} (from the environment)"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "rnn-conformance", f"jax-{jax.__version__}")
    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return "jax compilation cache ~/.cache/rnn-conformance (set JAX_COMPILATION_CACHE_DIR to move it)"


def _torch_gpus() -> list[str]:
    import torch

    return [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []


def _torch_tf32_off() -> None:
    import torch

    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False


def _tensorflow_compile(layers: list, feature_shape: tuple, batch: int | None) -> Callable:
    """``tf.function`` with ``input_signature=[TensorSpec((batch, None, *features))]``: one trace
    for every batch size (the layers' variables, a stateful layer's states too, live in TF)."""
    import tensorflow as tf

    spec = tf.TensorSpec((batch, None, *feature_shape), tf.float32)

    # autograph off: the function has no Python control flow over tensors, and tf-keras's layers
    # inside an autograph-converted function fail to trace (TypeError in a converted __init__)
    @tf.function(input_signature=[spec], autograph=False)
    def traced(x: Any) -> list:
        return [_flat(layer(x)) for layer in layers]

    return lambda x: traced(tf.constant(x))


def _jax_compile(layers: list, feature_shape: tuple, batch: int | None) -> Callable:
    """``jax.jit`` over each layer's ``stateless_call`` (a pure function of the variables' values
    and the input), as Keras's JAX trainer runs a layer; jit traces once per input shape. The
    non-trainable values it returns (a stateful layer's states, seed generators) are passed to
    the next call, as the trainer carries them from batch to batch."""
    import jax

    def pure(values: list, x: Any) -> tuple[list, list]:
        outs, carried = [], []
        for layer, (trainable, non_trainable) in zip(layers, values):
            out, non_trainable = layer.stateless_call(trainable, non_trainable, x)
            outs.append(_flat(out))
            carried.append((trainable, non_trainable))
        return outs, carried

    jitted = jax.jit(pure)
    state = {"values": [([v.value for v in layer.trainable_variables],
                         [v.value for v in layer.non_trainable_variables]) for layer in layers]}

    def call(x: np.ndarray) -> list:
        outs, state["values"] = jitted(state["values"], x)
        return outs

    return call


# torch.compile (inductor, dynamic=True) of one LSTM(3) took 26 s on a 2-core CPU, and its
# graph capture alone (backend="eager") 2.5 s: per entry, that is more than the whole suite.
_TORCH_NO_COMPILE = ("the torch backend has no compiled function of its own in normal use (Keras runs it "
                     "eagerly unless jit_compile=True, then torch.compile); torch.compile costs 26 s per "
                     "layer on this CPU (measured 2026-11-28), so only model.predict is checked here")

# ---- autodiff, per backend (issue 8): the gradient of a scalar loss of a layer's call ---------------
# Each function gets the implementation, the layer, the input and the flat initial states as NumPy arrays, and
# ``forward(x, states) -> scalar`` (the call and the loss, written with the backend's ops); it
# returns the gradients w.r.t. the input, each initial state and each weight (get_weights() order).
def _tensorflow_autodiff(impl: "Implementation", layer: Any, x: np.ndarray, states: list[np.ndarray],
                         forward: Callable[[Any, list], Any]) -> "Gradients":
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


def _jax_autodiff(impl: "Implementation", layer: Any, x: np.ndarray, states: list[np.ndarray],
                  forward: Callable[[Any, list], Any]) -> "Gradients":
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


def _torch_autodiff(impl: "Implementation", layer: Any, x: np.ndarray, states: list[np.ndarray],
                    forward: Callable[[Any, list], Any]) -> "Gradients":
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


# GPU matmuls in TF32 drift from float32 (keras #19254); TF32 is switched off as Keras's tests do.
BACKENDS: dict[str, Backend] = {
    "tensorflow": Backend("tensorflow", _tensorflow_gpus, _tensorflow_tf32_off, compile=_tensorflow_compile,
                          autodiff=_tensorflow_autodiff),
    "jax": Backend("jax", _jax_gpus, _jax_tf32_off, float64=_jax_float64, prepare=_jax_prepare,
                   compile=_jax_compile, autodiff=_jax_autodiff),
    "torch": Backend("torch", _torch_gpus, _torch_tf32_off, indexed_device_names=False,
                     no_compile=_TORCH_NO_COMPILE, autodiff=_torch_autodiff),
    "numpy": Backend("numpy", host_arrays=True,
                     inference_only="the numpy backend is inference-only: it has no gradients and Keras's "
                                    "Trainer is not implemented for it",
                     no_compile="the numpy backend has no compiled function: it runs every op eagerly"),
    "openvino": Backend("openvino", tensors_have_device=False,
                        inference_only="the openvino backend is inference-only (Keras 3.8.0 release notes: "
                                       "no gradients, no model.fit)",
                        no_compile="the openvino backend offers no compiled function to call a layer in; "
                                   "it compiles a model's graph inside model.predict"),
}
UNKNOWN_BACKEND = Backend("", no_compile="unknown backend: no compiled function is known for it")


class Implementation:
    """What every flavour shares; :class:`Keras3` and :class:`Keras2` hold what differs."""

    flavor = ""

    def __init__(self, spec: str, module: Any) -> None:
        self.spec = spec
        self.module = module
        self.version = str(getattr(module, "__version__", "unknown"))
        self.backend = self._backend_name()
        self.facts = BACKENDS.get(self.backend, UNKNOWN_BACKEND)
        self.backend_version = _version_of(self.facts.module)
        self.settings = self.facts.prepare()
        self._gpus: list[str] | None = None
        self.gpu_probe_error = ""  # "RuntimeError: ..." when the backend's GPU probe raised

    def _backend_name(self) -> str:
        raise NotImplementedError

    # ---- identity ------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.spec

    @property
    def title(self) -> str:
        return f"{self.spec} {self.version} on {self.backend} {self.backend_version}"

    def info(self) -> dict[str, Any]:
        return {
            "impl": self.spec, "module": self.module.__name__,
            "module_file": getattr(self.module, "__file__", None), "version": self.version,
            "flavor": self.flavor, "backend": self.backend, "backend_version": self.backend_version,
            "gpus": self.gpus(), "gpu_probe_error": self.gpu_probe_error, "settings": self.settings,
            "env": {k: os.environ[k] for k in RELEVANT_ENV if k in os.environ},
        }

    # ---- layers --------------------------------------------------------------------------
    def layer(self, name: str) -> Any:
        cls = getattr(self.module.layers, name, None)
        if cls is None:
            raise MissingLayer(f"implementation {self.spec!r} has no layers.{name}: "
                               f"this case needs {self.module.__name__}.layers.{name}")
        return cls

    def lacks_argument(self, name: str, argument: str) -> str:
        """Why ``layers.<name>`` cannot take ``argument`` (its constructor names no such
        parameter: an option this release does not have), or "" when it can. A missing layer is
        not a lacking argument: it fails the case (see :meth:`layer`)."""
        cls = getattr(self.module.layers, name, None)
        if cls is None:
            return ""
        try:
            params = inspect.signature(cls.__init__).parameters
        except (TypeError, ValueError):
            return ""
        if argument in params:
            return ""
        return f"layers.{name}() takes no argument {argument!r}"

    def build(self, layer: Any, input_shape: tuple[int, ...]) -> None:
        layer.build(input_shape)

    # ---- devices -------------------------------------------------------------------------
    def gpus(self) -> list[str]:
        """The GPUs the backend sees. A probe that raises sees none and keeps its exception in
        ``gpu_probe_error`` (the header, the skip reason and --require-gpu name it)."""
        if self._gpus is None:
            try:
                self._gpus = list(self.facts.gpus())
            except Exception as exc:
                self._gpus = []
                self.gpu_probe_error = f"{type(exc).__name__}: {exc}"
        return self._gpus

    @contextlib.contextmanager
    def device(self, device: str) -> Iterator[None]:
        if device == "gpu":
            if not self.gpus():
                raise RuntimeError(f"no GPU is visible to {self.backend} {self.backend_version}")
            self.facts.tf32_off()
        with self._scope(device, self.device_name(device)):
            yield

    def device_name(self, device: str) -> str:
        """The name a case is placed with (see Backend.indexed_device_names)."""
        return f"{device}:0" if self.facts.indexed_device_names else device

    def _scope(self, device: str, name: str) -> Any:
        raise NotImplementedError

    def supports_float64(self) -> bool:
        return self.facts.float64()

    # ---- values --------------------------------------------------------------------------
    def to_tensor(self, x: Any) -> Any:
        """A backend tensor for a call argument (tf-keras wants tensors for initial_state)."""
        raise NotImplementedError

    def to_numpy(self, x: Any) -> np.ndarray:
        if hasattr(x, "numpy"):
            return np.asarray(x.numpy())
        return np.asarray(x)

    def normalise(self, returned: Any) -> "Returned":
        """Nested lists of NumPy arrays, plus what the containers, dtypes and devices were."""
        placements: list[str] = []

        def walk(node: Any) -> tuple[Any, str, Any]:
            if isinstance(node, (list, tuple)):
                parts = [walk(n) for n in node]
                return ([p[0] for p in parts],
                        f"{type(node).__name__}[{', '.join(p[1] for p in parts)}]",
                        [p[2] for p in parts])
            arr = self.to_numpy(node)
            placements.append(_placement(node, self.facts.host_arrays))
            return arr, "tensor", str(arr.dtype)

        tree, containers, dtypes = walk(returned)
        return Returned(tree, containers, dtypes, sorted(set(placements)))

    def symbolic(self, layer: Any, feature_shape: tuple[int, ...], **call_kwargs: Any) -> Any:
        """Call the layer on ``Input(shape=(None, *feature_shape))``: shapes with unknown batch/time."""
        inp = self.module.Input(shape=(None, *feature_shape))
        return shape_tree(layer(inp, **call_kwargs))

    def compute_output_shape(self, layer: Any, input_shape: tuple[int, ...]) -> Any:
        return shape_tree(layer.compute_output_shape(input_shape))

    def reset_state(self, layer: Any, states: Any = None) -> None:
        """``reset_state()``; with ``states``, ``reset_state(states=...)`` as the RNN docstring
        documents ("You can specify the initial state of RNN layers numerically")."""
        if states is None:
            layer.reset_state()
        else:
            layer.reset_state(states=states)

    def state_values(self, layer: Any) -> list[np.ndarray]:
        """A stateful layer's current states (``layer.states``), flat, as NumPy arrays."""
        def walk(node: Any) -> list:
            if isinstance(node, (list, tuple)):
                return [leaf for n in node for leaf in walk(n)]
            value = getattr(node, "value", node)  # Keras 3: a property; tf.Variable: a method
            return [self.to_numpy(value() if callable(value) else value)]
        if not hasattr(layer, "states") and hasattr(layer, "forward_layer"):  # Bidirectional
            return walk(layer.forward_layer.states) + walk(layer.backward_layer.states)
        return walk(layer.states)

    def save_and_load(self, layer: Any, feature_shape: tuple[int, ...], path: Any) -> Any:
        """Wrap the layer in a functional model, save it as a .keras file, load it back."""
        inp = self.module.Input(shape=(None, *feature_shape))
        # the model's outputs are the layer's returned tensors, flat: what is saved is the layer;
        # nested functional outputs are a Model feature some releases lack (Keras 3.3 refuses them)
        model = self.module.Model(inp, _flat(layer(inp)))
        model.save(str(path))
        saving = getattr(self.module, "saving", None)
        load_model = getattr(saving, "load_model", None) or self.module.models.load_model
        return load_model(str(path))

    # ---- compiled execution (issue 8 part 5) --------------------------------------------------
    def predictor(self, layers: list, feature_shape: tuple, batch: int | None = None) -> Callable:
        """One functional model on ``Input(shape=(None, *feature_shape))`` (``batch_size=batch``
        for stateful layers) whose outputs are every layer's returned tensors, flat; returns
        ``predict(x, batch_size)``: ``model.predict`` -> one flat list of arrays per layer."""
        model, counts = self._model_over(self.module.Input(shape=(None, *feature_shape), batch_size=batch),
                                         layers)

        def predict(x: np.ndarray, batch_size: int) -> list[list[np.ndarray]]:
            got = model.predict(x, batch_size=batch_size, verbose=0)
            got = got if isinstance(got, (list, tuple)) else [got]
            out, at = [], 0
            for n in counts:
                out.append([np.asarray(a) for a in got[at:at + n]])
                at += n
            return out
        return predict

    def _model_over(self, inp: Any, layers: list) -> tuple[Any, list[int]]:
        """A functional model on ``inp`` whose outputs are every layer's returned tensors, flat,
        in order, and how many tensors each layer returned."""
        per_layer = []
        for layer in layers:
            returned = _flat(layer(inp))
            per_layer.append(returned if isinstance(returned, list) else [returned])
        return self.module.Model(inp, [t for p in per_layer for t in p]), [len(p) for p in per_layer]

    def compiled(self, layers: list, feature_shape: tuple, batch: int | None = None) -> Callable:
        """The backend's compiled function over ``layers`` (see Backend.compile): a callable on
        a NumPy input returning one flat list of arrays per layer. Call :meth:`no_compile`
        first: this raises when there is none."""
        if self.facts.compile is None:
            raise RuntimeError(self.no_compile())
        fn = self.facts.compile(layers, feature_shape, batch)

        def call(x: np.ndarray) -> list[list[np.ndarray]]:
            return [[self.to_numpy(t) for t in (o if isinstance(o, list) else [o])] for o in fn(x)]
        return call

    def no_compile(self) -> str:
        """Why this backend has no compiled function to check ("" when it has one)."""
        if self.facts.compile is not None:
            return ""
        return self.facts.no_compile or f"no compiled function is known for the {self.backend} backend"
    # ---- training (issue 8): autodiff and the fit loop --------------------------------------
    def gradients(self, layer: Any, x: np.ndarray, loss_weights: list[np.ndarray], *,
                  initial_state: list[np.ndarray] | None = None,
                  nest: Callable[[list], Any] = list, mask: np.ndarray | None = None) -> "Gradients":
        """The gradient of ``sum_i sum(loss_weights[i] * returned_i)`` (the layer's returned
        tensors, flat, in order) w.r.t. the input, each initial state (``initial_state``: flat, in
        the documented order; ``nest`` arranges them as the call takes them) and each weight
        (get_weights() order), by the backend's own autodiff (``Backend.autodiff``)."""
        autodiff = self.facts.autodiff
        if autodiff is None:
            raise NotImplementedError(f"no autodiff is known for backend {self.backend!r} "
                                      "(add one to its Backend entry in rnnconf/adapter.py)")
        weights_t = [self.to_tensor(w) for w in loss_weights]
        mask_t = None if mask is None else self.to_tensor(mask)

        def forward(x_t: Any, states_t: list, call: Callable[..., Any] = layer) -> Any:
            kwargs: dict[str, Any] = {}
            if initial_state is not None:
                kwargs["initial_state"] = nest(states_t)
            if mask_t is not None:
                kwargs["mask"] = mask_t
            returned = _flat(call(x_t, **kwargs))
            returned = returned if isinstance(returned, list) else [returned]
            if len(returned) != len(weights_t):
                raise ValueError(f"the call returned {len(returned)} tensors, the loss weighs "
                                 f"{len(weights_t)}")
            return self._sum_of_products(returned, weights_t)

        return autodiff(self, layer, np.asarray(x), [np.asarray(s) for s in (initial_state or [])], forward)

    def _sum_of_products(self, tensors: list, weights: list) -> Any:
        ops = self.module.ops
        total = ops.sum(ops.multiply(tensors[0], weights[0]))
        for t, w in zip(tensors[1:], weights[1:]):
            total = total + ops.sum(ops.multiply(t, w))
        return total

    def sgd_model(self, layers: list[Any], input_shape: tuple[int, ...], learning_rate: float) -> Any:
        """A functional model over one input of fixed ``input_shape`` (batch included, as a
        stateful layer needs), whose outputs are the returned tensors of every layer in
        ``layers``, flat, in order; compiled with plain SGD (no momentum) and ``mse`` on each
        output, so the loss is the sum of the per-output mean squared errors."""
        model, counts = self._model_over(self.module.Input(batch_shape=input_shape), layers)
        model.compile(optimizer=self.module.optimizers.SGD(learning_rate=learning_rate, momentum=0.0),
                      loss=["mse"] * sum(counts))
        return model

    def fit_one_epoch(self, model: Any, x: np.ndarray, y: list[np.ndarray], batch_size: int,
                      after_batch: Callable[[], None]) -> None:
        """``model.fit`` for one epoch over the batches in order (``shuffle=False``), calling
        ``after_batch()`` as each batch ends (a callback's ``on_train_batch_end``)."""
        class AfterBatch(self.module.callbacks.Callback):
            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                # Keras 3 on JAX keeps the variables' values in the train loop mid-epoch;
                # reading a callback's ``model`` syncs them back into the layers first
                self.model  # noqa: B018
                after_batch()

        callback = AfterBatch()
        model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0, callbacks=[callback])

    # ---- global state --------------------------------------------------------------------
    def global_state(self) -> tuple[str, str]:
        """(dtype policy, floatx): what a test must leave as it found it."""
        raise NotImplementedError

    def set_global_state(self, state: tuple[str, str]) -> None:
        raise NotImplementedError


class Keras3(Implementation):
    """Keras 3 and modules that speak it: ``keras.device`` scopes, ``keras.ops``, a backend."""

    flavor = "keras3"

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


class Keras2(Implementation):
    """tf-keras (Keras 2): TensorFlow only, ``tf.device`` scopes, ``reset_states()``."""

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


FLAVORS: dict[str, type[Implementation]] = {"keras3": Keras3, "keras2": Keras2}


class Returned:
    """What one call returned: ``tree`` (nested lists of arrays) and how it came."""

    def __init__(self, tree: Any, containers: str, dtypes: Any, placements: list[str]) -> None:
        self.tree = tree
        self.containers = containers
        self.dtypes = dtypes
        self.placements = placements


def _flat(node: Any) -> Any:
    """A layer's return as a flat list of tensors (a single tensor stays itself)."""
    if not isinstance(node, (list, tuple)):
        return node
    return [leaf for child in node for leaf in (_flat(child) if isinstance(child, (list, tuple)) else [child])]


def shape_tree(node: Any) -> Any:
    """Symbolic tensors or shapes -> nested lists whose leaves are shape tuples."""
    if hasattr(node, "as_list") and not isinstance(node, (list, tuple)):  # tf.TensorShape
        return _shape_tuple(node.as_list())
    if hasattr(node, "shape") and not isinstance(node, (list, tuple)):
        shape = node.shape
        return _shape_tuple(shape.as_list() if hasattr(shape, "as_list") else shape)
    if isinstance(node, (list, tuple)):
        if all(d is None or isinstance(d, (int, np.integer)) for d in node) and node:
            return _shape_tuple(node)
        return [shape_tree(n) for n in node]
    raise TypeError(f"not a shape or symbolic tensor: {node!r}")


def _shape_tuple(dims: Any) -> tuple[int | None, ...]:
    return tuple(None if d is None else int(d) for d in dims)


def _placement(x: Any, host_arrays: bool = False) -> str:
    if isinstance(x, np.ndarray):  # numpy 2 arrays say device "cpu": they are no backend tensor
        return "cpu (a NumPy array: the numpy backend's tensor)" if host_arrays else \
            "numpy array (not a backend tensor)"
    device = getattr(x, "device", None)
    if callable(device):  # jax < 0.4.31 style
        try:
            device = device()
        except Exception:
            device = None
    if device is None and hasattr(x, "devices"):
        device = ",".join(str(d) for d in x.devices())
    if device is None:
        return "unknown"
    text = str(device)
    return text.split("device:")[-1] if "device:" in text else text  # TF: /job:.../device:CPU:0


def _version_of(module: str) -> str:
    if not module:
        return "unknown"
    try:
        return str(importlib.import_module(module).__version__)
    except Exception:
        return "unknown"
