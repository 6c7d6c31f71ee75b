"""Recurrent layers inside models (rnnconf/spec/models.py): a catalog case behind a front that
makes its mask, and compositions (stacks, wired states), each built once per case and memoised.

A model holds the four flag combinations of the layer under test as branches (the last layer of
a stack, the decoder of a wiring; one Sequential per combination), each with the case's seeded
weights: one model build and one call serve every test of the case.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnconf.impl import models as build
from rnnconf.impl.base import Implementation
from rnnconf.spec import models
from rnnconf.spec.catalog import Shape
from rnnconf.spec.contract import flags_text
from rnnconf.harness.runner import COMBOS, CaseContext, CaseRun, Memo


class Outputs:
    """One model call: per flag combination, the returned arrays (flat) and the masks the probes
    after them saw; ``feed``: the front's input (None without a front)."""

    def __init__(self, per_combo: dict, feed: models.FrontInput | None) -> None:
        self.per_combo = per_combo
        self.feed = feed

    def arrays(self, return_sequences: bool, return_state: bool) -> list[np.ndarray]:
        return self._got(return_sequences, return_state)[0]

    def masks(self, return_sequences: bool, return_state: bool) -> list[Any]:
        return self._got(return_sequences, return_state)[1]

    def _got(self, return_sequences: bool, return_state: bool) -> Any:
        got = self.per_combo[(return_sequences, return_state)]
        if isinstance(got, BaseException):
            raise got
        return got


class BranchesFailed(Exception):
    """Layers that each work in a model of their own fail side by side in one."""


def per_combination(combos: list, run: Any) -> dict:
    """``run(combos)`` -> {combination: result}: all combinations in one model; when that fails,
    each in a model of its own, so a combination that breaks a model (a return_state branch whose
    outputs do not connect) fails alone and the others are judged on their own. When every one
    works alone, the shared model's failure is the finding (a functional model may hold several
    branches on one input): every combination fails with it."""
    try:
        return run(list(combos))
    except Exception as joint:
        out: dict = {}
        for combo in combos:
            try:
                out.update(run([combo]))
            except Exception as exc:
                out[combo] = exc
        if len(combos) > 1 and not any(isinstance(v, BaseException) for v in out.values()):
            first = str(joint).strip().splitlines()[0][:300] if str(joint).strip() else ""
            failure = BranchesFailed(
                f"one functional model holding the layers of {len(combos)} flag combinations as branches on one "
                f"input failed ({type(joint).__name__}: {first}), while a model of each combination alone works")
            return {combo: failure for combo in combos}
        return out


def _to_numpy(impl: Implementation, branches: list[list[Any]]) -> list[list[np.ndarray]]:
    return [[np.asarray(impl.to_numpy(t)) for t in branch] for branch in branches]


# ---- a catalog case behind a front -----------------------------------------------------------
def fronted(run: CaseRun, front_case: str) -> Outputs:
    """The case's four layers behind ``front_case`` (``Masking-arbitrary``...) in one functional
    model, called eagerly (memoised on the case)."""
    return run.remember(("front", front_case), lambda: _run_fronted(run, front_case))


def _run_fronted(run: CaseRun, front_case: str) -> Outputs:
    front, _ = models.front_parts(front_case)
    feed = models.front_input(front_case, run.x, salt=f"{run.entry.id}|{run.shape.id}")
    impl = run.impl

    def call(combos: list) -> dict:
        layers = [run.new_layer(rs, st) for rs, st in combos]
        with CaseContext(f"{run.entry.label} behind {front_case}, {_combos_text(combos)}"), \
                impl.device(run.device):
            inp = build.model_input(impl, front, tuple(run.x.shape[2:]))
            head = build.front_layer(impl, front, feed.table)
            probed = build.branched_model(impl, inp, head, [lambda t, layer=layer: layer(t) for layer in layers])
            got = _to_numpy(impl, probed.split(probed.model(feed.model_input)))
            seen = probed.masks_seen(impl)
        return {combo: (got[i], seen[i]) for i, combo in enumerate(combos)}
    return Outputs(per_combination(COMBOS, call), feed)


def _combos_text(combos: list) -> str:
    if len(combos) > 1:
        return f"its {len(combos)} flag combinations in one model"
    return flags_text(*combos[0])


# ---- compositions ----------------------------------------------------------------------------
class ComposedRun(Memo):
    """One (composition, shape, device): the layers' shapes, seeded weights and inputs, and the
    models built from them (memoised per front and path)."""

    def __init__(self, impl: Implementation, comp: models.Composition, shape: Shape, device: str,
                 options: dict | None = None) -> None:
        super().__init__()
        self.impl = impl
        self.comp = comp
        self.shape = shape
        self.device = device
        self.options = dict(options or {})  # given to every layer of the model (a dtype policy)
        self.shapes = comp.layer_shapes(shape)
        self.weights = comp.weights(shape)
        self.inputs = comp.inputs(shape)

    def under(self, policy: str) -> "ComposedRun":
        """The same composition with every layer (wrappers too) under dtype policy ``policy``."""
        return self.remember(("policy", policy),
                             lambda: ComposedRun(self.impl, self.comp, self.shape, self.device, {"dtype": policy}))

    def describe(self, return_sequences: bool, return_state: bool, front: str | None = None) -> str:
        which = {"wiring": "the decoder", "timedistributed": "the wrapped layer"}.get(self.comp.kind, "the last layer")
        flags = "" if self.comp.plain is not None else f" ({which} with {flags_text(return_sequences, return_state)})"
        shapes = " and ".join(str(x.shape) for x in self.inputs)
        behind = f" behind {front}" if front else ""
        policy = f" under dtype policy {self.options['dtype']}" if "dtype" in self.options else ""
        return f"{self.comp.label}{flags}{behind}{policy} on {self.device}, input {shapes}"

    def new_layer(self, index: int, return_sequences: bool, return_state: bool) -> Any:
        """Layer ``index`` of the composition with these flags, built and holding its weights."""
        entry, shape = self.comp.entries[index], self.shapes[index]
        layer = entry.build(self.impl.layer, shape.units, return_sequences=return_sequences,
                            return_state=return_state, user_cell=self.impl.user_cell, **self.options)
        plain = isinstance(entry, models.PlainLayer)
        self.impl.build(layer, entry.slice_shape(shape.batch, shape.timesteps, shape.features) if plain
                        else entry.input_shape(shape))
        layer.set_weights(self.weights[index])
        return layer

    def feed(self, front: str | None) -> models.FrontInput | None:
        if front is None:
            return None
        return models.front_input(front, self.inputs[0], salt=f"{self.comp.id}|{self.shape.id}")

    # -- the models -------------------------------------------------------------------------
    def models(self, front: str | None, combos: tuple) -> list[build.Probed]:
        """Models for ``combos``: one functional model whose branches are their last layers
        (decoders), or one Sequential each (memoised)."""
        return self.remember(("models", front, combos), lambda: self._build(front, combos))

    def features(self) -> tuple:
        """The model input's shape after batch and time: TimeDistributed's slices' steps unknown too."""
        features = tuple(self.inputs[0].shape[2:])
        if self.comp.kind == "timedistributed" and len(features) > 1:
            features = (None, *features[1:])
        return features

    def _build(self, front: str | None, combos: tuple) -> list[build.Probed]:
        comp, impl = self.comp, self.impl
        kind = front and models.front_parts(front)[0]
        feed = self.feed(front)
        features = self.features()
        last = len(comp.links) - 1

        def chain() -> list:  # the front and every layer but the last, new
            head = [build.front_layer(impl, kind, feed.table)] if kind else []
            return head + [self.new_layer(i, True, False) for i in range(last)]

        with CaseContext(f"{comp.label}, {_combos_text(list(combos))}, built"), impl.device(self.device):
            if comp.container == "sequential":
                return [build.sequential_model(impl, build.model_input(impl, kind, features),
                                               chain() + [self.new_layer(last, rs, st)]) for rs, st in combos]
            finals = [self.new_layer(last, rs, st) for rs, st in combos]
            if comp.kind == "timedistributed":
                finals = [impl.layer("TimeDistributed")(layer, **self.options) for layer in finals]
            if comp.kind == "wiring":
                return [self._wired(finals)]
            prefix = chain()

            def trunk(t: Any) -> Any:
                for layer in prefix:
                    t = layer(t)
                return t
            # probes (the mask the next layer gets) where a test reads them: behind a front, and
            # in stacks; a saved model holds only Keras's own layers
            return [build.branched_model(impl, build.model_input(impl, kind, features), trunk,
                                         [lambda t, layer=layer: layer(t) for layer in finals],
                                         probe=comp.kind == "stack" or front is not None)]

    def _wired(self, decoders: list[Any]) -> build.Probed:
        impl, comp = self.impl, self.comp
        encoder = self.new_layer(0, False, True)
        enc_in = impl.module.Input(shape=(None, *self.inputs[0].shape[2:]))
        dec_in = impl.module.Input(shape=(None, *self.inputs[1].shape[2:]))

        def trunk(inputs: list) -> tuple:
            states = list(encoder(inputs[0])[1:])
            if comp.bridge == "concat_halves":
                half = len(states) // 2
                states = [impl.layer("Concatenate")(axis=-1)([f, b]) for f, b in zip(states[:half], states[half:])]
            return inputs[1], states

        return build.branched_model(impl, [enc_in, dec_in], trunk,
                                    [lambda t, layer=layer: layer(t[0], initial_state=t[1]) for layer in decoders],
                                    probe=False)

    def model_inputs(self, front: str | None) -> Any:
        feed = self.feed(front)
        if feed is not None:
            return feed.model_input
        return list(self.inputs) if self.comp.kind == "wiring" else self.inputs[0]

    # -- what the models return -------------------------------------------------------------
    def eager(self, front: str | None = None) -> Outputs:
        """Every model called eagerly on the composition's input (behind ``front``)."""
        return self._outputs("eager", front)

    def predicted(self) -> Outputs:
        """``model.predict`` with a partial last batch (batch_size = batch - 1)."""
        return self._outputs("predict", None)

    def reloaded(self, path: Any) -> Outputs:
        """The models saved as ``.keras`` files under ``path``, loaded back, called eagerly."""
        return self._outputs("keras file", None, path)

    def function(self, rows: int | None = None) -> Outputs:
        """The bare models inside the backend's compiled function, traced once with the batch
        and every step axis unknown (Implementation.compiled), called on the whole input, or on
        its first ``rows`` rows (the same trace). Call ``impl.no_compile()`` first."""
        return self._outputs("function" if rows is None else f"function on {rows} rows", None)

    def compute_output_shape(self, return_sequences: bool, return_state: bool) -> list:
        """``TimeDistributed(layer).compute_output_shape`` asked directly on the input's full
        shape (every size known), as flat shape tuples (timedistributed compositions only)."""
        from rnnconf.impl.base import shape_tree

        impl = self.impl
        with CaseContext(f"{self.comp.label}, {flags_text(return_sequences, return_state)}, "
                         "compute_output_shape"), impl.device(self.device):
            wrapper = impl.layer("TimeDistributed")(self.new_layer(0, return_sequences, return_state), **self.options)
            got = shape_tree(wrapper.compute_output_shape(tuple(self.inputs[0].shape)))
        return got if isinstance(got, list) else [got]

    def symbolic(self) -> Outputs:
        """The models' symbolic outputs' shapes (batch and time unknown), per combination: the
        shapes stand where the arrays stand."""
        return self._outputs("symbolic", None)

    def _outputs(self, path: str, front: str | None, folder: Any = None) -> Outputs:
        def compute() -> Outputs:
            return Outputs(per_combination(self.comp.combos(), lambda combos: self._run(path, front, tuple(combos),
                                                                                     folder)),
                           self.feed(front))
        return self.remember((path, front), compute)

    def _run(self, path: str, front: str | None, combos: tuple, folder: Any) -> dict:
        from rnnconf.impl.base import shape_tree

        impl = self.impl
        x = self.model_inputs(front)
        per_branch: list = []
        seen: list = []
        for i, probed in enumerate(self.models(front, combos)):
            with CaseContext(f"{self.comp.label}, {_combos_text(list(combos))}, {path}"), impl.device(self.device):
                if path == "symbolic":
                    per_branch += probed.split([shape_tree(t) for t in probed.model.outputs])
                    seen += [[] for _ in probed.counts]
                    continue
                model = probed.model
                if path == "keras file":
                    name = f"{self.comp.id}-{'-'.join(f'{int(a)}{int(b)}' for a, b in combos)}-{i}.keras"
                    model = build.save_and_load_model(impl, model, folder / name)
                if path == "predict":
                    got = model.predict(x, batch_size=max(1, self.shape.batch - 1), verbose=0)
                elif path.startswith("function"):
                    fn = self.remember(("function of", front, combos, i),
                                       lambda: impl.compiled([model], self.features()))
                    got = fn(x if path == "function" else x[:int(path.split()[2])])[0]
                else:
                    got = model(x)
                per_branch += _to_numpy(impl, probed.split(got))
                seen += probed.masks_seen(impl) if path == "eager" else [[] for _ in probed.counts]
        return {combo: (per_branch[i], seen[i]) for i, combo in enumerate(combos)}

    def oracle(self, return_sequences: bool, front: str | None = None) -> dict[str, np.ndarray]:
        feed = self.feed(front)
        inputs = [feed.x] if feed is not None else self.inputs
        return self.comp.oracle_roles(self.shape, self.weights, inputs, return_sequences,
                                      mask=None if feed is None else feed.mask)
