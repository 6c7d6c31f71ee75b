"""What every implementation flavour shares: the one place that turns an implementation's layers
into plain NumPy for the harness.

It reports versions, backend and devices, places work on a device, builds layers by name, sets
weights, calls layers eagerly and symbolically, and turns whatever came back into nested lists of
arrays, recording the containers, dtypes and placement as they came. What differs is in two
places: the flavour (:mod:`rnnconf.impl.keras3`, :mod:`rnnconf.impl.keras2`, chosen by
:func:`rnnconf.impl.loader.load`) and the backend (one module of :mod:`rnnconf.impl.backends`).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
from typing import Any, Callable, Iterator

import numpy as np

from rnnconf.impl import availability
from rnnconf.impl.backend import Gradients, flat, flat_list
from rnnconf.impl.backends import BACKENDS, UNKNOWN
from rnnconf.impl.cells import cell_class
from rnnconf.impl.models import save_and_load_model

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


class Implementation:
    """What every flavour shares; :class:`Keras3` and :class:`Keras2` hold what differs."""

    flavor = ""

    def __init__(self, spec: str, module: Any) -> None:
        self.spec = spec
        self.module = module
        self.version = str(getattr(module, "__version__", "unknown"))
        self.backend = self._backend_name()
        self.facts = BACKENDS.get(self.backend, UNKNOWN)
        self.backend_version = _version_of(self.facts.module)
        self.settings = self.facts.prepare()
        self.onednn = self.facts.onednn()
        self._gpus: list[str] | None = None
        self.warnings_at_import: list[str] = []  # what importing and setting it up warned (loader.load)
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
            "warnings_at_import": list(self.warnings_at_import),
        }

    # ---- layers --------------------------------------------------------------------------
    def layer(self, name: str) -> Any:
        cls = getattr(self.module.layers, name, None)
        if cls is None:
            raise MissingLayer(f"implementation {self.spec!r} has no layers.{name}: "
                               f"this case needs {self.module.__name__}.layers.{name}")
        return cls

    def top_level(self, name: str) -> Any:
        """The module's own ``name`` (``Sequential``); a case needing one it lacks fails."""
        found = getattr(self.module, name, None)
        if found is None:
            raise MissingLayer(f"implementation {self.spec!r} has no {name}: this case needs "
                               f"{self.module.__name__}.{name}")
        return found

    def user_cell(self, kind: str) -> type:
        """The suite's user-defined cell class ``kind`` (:mod:`rnnconf.impl.cells`), made over
        this implementation's ``layers.Layer``."""
        return cell_class(self.layer, kind)

    def resolve(self, value: Any) -> Any:
        """A layer option as the implementation takes it: an ``rnnconf.spec.nondefault.Obj`` made
        from the implementation's own modules (``initializers.Constant(value=0.25)``, the suite's
        callable activation over ``activations.tanh``); any other value as it is."""
        group = getattr(value, "group", None)
        if group is None or not hasattr(value, "kwargs"):
            return value
        if group == "callable":
            return self._half_tanh()
        namespace = getattr(self.module, group, None)
        cls = getattr(namespace, value.name, None)
        if cls is None:
            raise MissingLayer(f"implementation {self.spec!r} has no {group}.{value.name}: this case "
                               f"needs {self.module.__name__}.{group}.{value.name}")
        return cls(**dict(value.kwargs))

    @functools.cache
    def _half_tanh(self) -> Any:
        """The suite's callable activation, ``0.5 * tanh``, over the implementation's own tanh;
        registered as serializable (package ``rnnconf``), as Keras documents for a custom object
        that a config must name (Bidirectional copies its layer through its config)."""
        tanh = self.module.activations.tanh

        def half_tanh(x: Any) -> Any:  # the oracle's "half_tanh"
            return tanh(x) * 0.5
        return self.module.saving.register_keras_serializable(package="rnnconf")(half_tanh)

    def lacks_argument(self, name: str, argument: str) -> str:
        """Why ``layers.<name>`` does not take ``argument`` in this release ("" when it does), from
        what the implementation documents: the release table for Keras and tf-keras, the
        constructors on the class's path for any other module (:mod:`rnnconf.impl.availability`).
        Never from the error a build raised: a release that has an option and fails on it fails."""
        return availability.lacking(self.module, self.version, name, argument)

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

    def symbolic_dtypes(self, layer: Any, feature_shape: tuple[int, ...]) -> list[str]:
        """The dtype of every tensor a call on ``Input(shape=(None, *feature_shape))`` returns,
        flat: what the layer's ``compute_output_spec`` says it computes in."""
        inp = self.module.Input(shape=(None, *feature_shape))
        return [_dtype_name(t.dtype) for t in flat_list(layer(inp))]

    def layer_initial_state(self, layer: Any, x: np.ndarray) -> list[Any]:
        """The layer's ``get_initial_state`` for a batch of ``x``, flat: Keras 3 takes the batch
        size (``get_initial_state(batch_size)``), tf-keras the inputs."""
        return flat_list(layer.get_initial_state(x.shape[0]))

    def cell_initial_state(self, cell: Any, batch: int, dtype: str) -> list[Any]:
        """A cell's ``get_initial_state`` as the RNN docstring documents it for Keras 3:
        ``get_initial_state(batch_size=None)`` (the cell's compute dtype)."""
        return flat_list(cell.get_initial_state(batch_size=batch))

    def cells_of(self, layer: Any) -> list[Any]:
        """The cells a recurrent layer runs, in the documented state order: ``layer.cell`` (its
        ``cells`` for stacked cells); a Bidirectional's forward layer's, then its backward's."""
        if hasattr(layer, "forward_layer"):
            return self.cells_of(layer.forward_layer) + self.cells_of(layer.backward_layer)
        cell = layer.cell
        return list(cell.cells) if hasattr(cell, "cells") else [cell]

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

    def save_model_and_load(self, model: Any, path: Any) -> Any:
        """Save a model as a .keras file at ``path`` and load it back."""
        return save_and_load_model(self, model, path)

    def save_and_load(self, layer: Any, feature_shape: tuple[int, ...], path: Any) -> Any:
        """Wrap the layer in a functional model, save it as a .keras file, load it back."""
        inp = self.module.Input(shape=(None, *feature_shape))
        # the model's outputs are the layer's returned tensors, flat: what is saved is the layer;
        # nested functional outputs are a Model feature some releases lack (Keras 3.3 refuses them)
        return save_and_load_model(self, self.module.Model(inp, flat(layer(inp))), path)

    # ---- compiled execution ---------------------------------------------------------------
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
            returned = flat(layer(inp))
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

    # ---- export: Model.export and the format's own runtime ----------------------------------
    def export_model(self, layers: list, feature_shape: tuple, sample: np.ndarray,
                     mask: np.ndarray | None = None) -> tuple[Any, list[int]]:
        """One functional model on ``Input(shape=(None, *feature_shape), name="x")`` -- and, with
        ``mask``, a second input ``Input(shape=(None,), dtype="bool", name="mask")`` passed to
        every layer as ``mask=`` -- whose outputs are every layer's returned tensors, flat (as
        :meth:`predictor`), called once on ``sample`` (and ``mask``), as a model is before anyone
        exports it: Keras's ONNX exporter refuses a model that has never been called ("The model
        provided has never called."); and how many tensors each layer returned."""
        inp = self.module.Input(shape=(None, *feature_shape), name="x")
        if mask is None:
            model, counts = self._model_over(inp, layers)
            model(sample)
            return model, counts
        keep = self.module.Input(shape=(None,), dtype="bool", name="mask")
        per_layer = []
        for layer in layers:
            returned = flat(layer(inp, mask=keep))
            per_layer.append(returned if isinstance(returned, list) else [returned])
        model = self.module.Model([inp, keep], [t for p in per_layer for t in p])
        model([sample, mask])
        return model, [len(p) for p in per_layer]

    def export(self, model: Any, fmt: Any, folder: Any, *, batch: int, timesteps: int) -> None:
        """``model.export(path, format=fmt.name)`` into ``folder``. Dimensions the format fixes
        (``fmt.fixed``) are the case's ``batch`` / ``timesteps``, given as ``input_signature``
        for every input (and, on torch, ``dynamic_shapes`` for the batch); the rest stay free as
        the default signature leaves them."""
        import inspect

        kwargs: dict[str, Any] = {}
        if "verbose" in inspect.signature(model.export).parameters:
            kwargs["verbose"] = False
        fixed = (batch if "batch" in fmt.fixed else None, timesteps if "time" in fmt.fixed else None)
        if fmt.fixed:
            specs = [self.module.InputSpec(shape=(*fixed, *tuple(model.inputs[0].shape[2:])), dtype="float32",
                                           name="x")]
            if len(model.inputs) > 1:
                # the structure of the model's inputs as the one positional argument, as Keras's
                # own default signature has it ([[x, mask]]): a flat [x, mask] is two arguments
                # to the LiteRT exporter, the second landing on `training`
                specs = [[*specs, self.module.InputSpec(shape=fixed, dtype="bool", name="mask")]]
            kwargs["input_signature"] = specs
        if fmt.name == "torch":
            import torch

            # torch.export reuses what dynamo compiled for earlier models in this process (an
            # OpenVINO export's trace among them), which can specialize this one's batch: each
            # export starts from a clean dynamo, as a deployer's own export script does
            torch._dynamo.reset()
            dim = torch.export.Dim("batch", min=1, max=1024)
            # the model's inputs are one positional argument to torch.export: one spec for a lone
            # input (Keras wraps it), the list of specs wrapped as Keras's docstring shows
            kwargs["dynamic_shapes"] = {0: dim} if len(model.inputs) == 1 else [([{0: dim}, {0: dim}],)]
        model.export(str(fmt.path_in(folder)), format=fmt.name, **kwargs)

    def load_artifact(self, fmt: Any, folder: Any) -> Any:
        """The artifact in ``folder`` loaded by the format's runtime; an implementation module
        may bring its own runtime for a format (``RNNCONF_RUNTIMES = {format name: load(path)}``,
        e.g. a build of a runtime under test)."""
        own = getattr(self.module, "RNNCONF_RUNTIMES", {}).get(fmt.name)
        path = fmt.path_in(folder)
        return own(path) if own is not None else fmt.load(path)

    def no_compile(self) -> str:
        """Why this backend has no compiled function to check ("" when it has one)."""
        if self.facts.compile is not None:
            return ""
        return self.facts.no_compile or f"no compiled function is known for the {self.backend} backend"
    # ---- training: autodiff and the fit loop ----------------------------------------------
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
                                      "(add one to its module in rnnconf/impl/backends/)")
        weights_t = [self.to_tensor(w) for w in loss_weights]
        mask_t = None if mask is None else self.to_tensor(mask)

        def forward(x_t: Any, states_t: list, call: Callable[..., Any] = layer) -> Any:
            kwargs: dict[str, Any] = {}
            if initial_state is not None:
                kwargs["initial_state"] = nest(states_t)
            if mask_t is not None:
                kwargs["mask"] = mask_t
            returned = flat(call(x_t, **kwargs))
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



class Returned:
    """What one call returned: ``tree`` (nested lists of arrays) and how it came."""

    def __init__(self, tree: Any, containers: str, dtypes: Any, placements: list[str]) -> None:
        self.tree = tree
        self.containers = containers
        self.dtypes = dtypes
        self.placements = placements


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


def _dtype_name(dtype: Any) -> str:
    """"float32" for a string, a NumPy, TensorFlow or PyTorch dtype alike."""
    name = getattr(dtype, "name", None) if not isinstance(dtype, str) else dtype
    return str(name or dtype).replace("torch.", "")


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
