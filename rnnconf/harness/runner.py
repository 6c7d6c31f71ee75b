"""One case, built once and called in every flag combination.

A :class:`CaseRun` is (implementation, catalog entry, input shape, device, layer options). It
builds one layer per (return_sequences, return_state) combination with the *same* seeded
weights and input, so the combinations can be compared with each other and with the oracle.
Results are memoised per worker: tests that look at the same case share one build.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rnnconf.harness.outcomes import not_applicable
from rnnconf.impl.base import Implementation, MissingLayer, Returned
from rnnconf.spec.catalog import Entry, Shape
from rnnconf.spec.contract import flags_text
from rnnconf.spec.reference import make_mask
from rnnconf.spec.seeds import make_input, make_weights


COMBOS = ((False, False), (False, True), (True, False), (True, True))  # (return_sequences, return_state)


class Memo:
    """Results computed once per case and kept for every test of it (the process's memo): the
    value, or the exception computing it raised, raised again to each test that asks."""

    def __init__(self) -> None:
        self._memo: dict[Any, Any] = {}

    def remember(self, key: Any, compute: Any) -> Any:
        """``compute()`` once per key for this case; its result, or the exception it raised, for
        every test of the case that asks."""
        if key not in self._memo:
            try:
                self._memo[key] = compute()
            except Exception as exc:
                self._memo[key] = exc
        return _unwrap(self._memo[key])


def _unwrap(result: Any) -> Any:
    if isinstance(result, BaseException):
        raise result
    return result


class CaseRun(Memo):
    def __init__(self, impl: Implementation, entry: Entry, shape: Shape, device: str,
                 options: dict[str, Any] | None = None) -> None:
        self.impl = impl
        self.entry = entry
        self.shape = shape
        self.device = device
        self.options = dict(options or {})
        self.x = make_input(entry, shape)
        self.weights: list[np.ndarray] | None = None
        self._layers: dict[tuple[bool, bool, bool], Any] = {}
        self._calls: dict[tuple, Returned | BaseException] = {}
        super().__init__()  # compiled_result / stateful_halves (per path), models with a front

    def describe(self, return_sequences: bool, return_state: bool) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in sorted(self.options.items()))
        return (f"{self.entry.label} with {flags_text(return_sequences, return_state)}{extra} "
                f"on {self.device}, input {self.entry.input_shape(self.shape)}")

    def layer(self, return_sequences: bool, return_state: bool, training: bool = False) -> Any:
        """The built layer for one combination, weights set (memoised). Calls with
        ``training=True`` get layers of their own, with the same weights: a training call must
        not change what a later inference call of the shared layer returns (tf-keras's ConvLSTM
        keeps applying the dropout masks of a first training call at inference)."""
        key = (return_sequences, return_state, training)
        if key not in self._layers:
            self._layers[key] = self.new_layer(return_sequences, return_state)
        return self._layers[key]

    def new_layer(self, return_sequences: bool, return_state: bool, seeded: bool = True) -> Any:
        """A newly built layer with the case's weights, shared with no other test (a stateful
        test needs states that no other call has touched); with ``seeded=False``, with the weights
        its own initializers made."""
        with self._context(return_sequences, return_state):
            with self.impl.device(self.device):
                try:
                    layer = self.entry.build(self.impl.layer, self.shape.units, return_sequences=return_sequences,
                                             return_state=return_state, user_cell=self.impl.user_cell,
                                             **{k: self.impl.resolve(v) for k, v in self.options.items()})
                except (TypeError, ValueError) as exc:
                    self._not_applicable_if_lacking(exc)
                    raise
                self.impl.build(layer, self.x.shape)
                if not seeded:
                    return layer
                if self.weights is None:
                    self.weights = make_weights([tuple(w.shape) for w in layer.get_weights()],
                                                self.entry.id, self.shape.id, scale=self.entry.weight_scale)
                layer.set_weights(self.weights)
        return layer

    def call(self, return_sequences: bool, return_state: bool, **call_kwargs: Any) -> Returned:
        """Call eagerly on the case's input. Memoised per combination and call arguments when
        those are plain values or NumPy arrays (a mask); calls with backend tensors are not."""
        key = _call_key(return_sequences, return_state, call_kwargs)
        if key is None or key not in self._calls:
            try:
                layer = self.layer(return_sequences, return_state, training=bool(call_kwargs.get("training")))
                with self._context(return_sequences, return_state), self.impl.device(self.device):
                    result: Returned | BaseException = self.impl.normalise(layer(self.x, **call_kwargs))
            except BaseException as exc:  # remembered, so every test of this case sees it
                if not isinstance(exc, Exception):
                    raise
                result = exc
            if key is None:
                return _unwrap(result)
            self._calls[key] = result
        return _unwrap(self._calls[key])

    def symbolic(self, return_sequences: bool, return_state: bool) -> Any:
        layer = self.layer(return_sequences, return_state)
        with self._context(return_sequences, return_state), self.impl.device(self.device):
            return self.impl.symbolic(layer, tuple(self.x.shape[2:]))

    def compute_output_shape(self, return_sequences: bool, return_state: bool) -> Any:
        layer = self.layer(return_sequences, return_state)
        with self._context(return_sequences, return_state):
            return self.impl.compute_output_shape(layer, tuple(self.x.shape))

    # ---- compiled execution ------------------------------------------------------------------
    # One model and one compiled function per case, whose outputs are the four combinations'
    # layers (the same weights): tracing costs far more than running, so the per-combination
    # tests read their part of one memoised result.
    def compiled_result(self, path: str) -> dict:
        """``path`` "predict": {"full": per-combination flat arrays of ``model.predict(x,
        batch_size=batch - 1)`` (a partial last batch)}; "function": {"full": the backend's
        compiled function on ``x``, "rows": on ``x[:rows]`` (a second batch size), "rows": int}.
        A failure is remembered and raised to every test of the case."""
        return self.remember(path, lambda: self._run_compiled(path))

    def _run_compiled(self, path: str) -> dict:
        # layers of its own per path, with the case's weights: a model or a trace that fails part
        # way (JAX: a functional model that cannot be built) must not leave the layers the eager
        # tests share half-traced
        layers = [self.new_layer(rs, st) for rs, st in COMBOS]
        features = tuple(self.x.shape[2:])
        what = f"{self.entry.label} in its four flag combinations, {path}"
        with CaseContext(what), self.impl.device(self.device):
            if path == "predict":
                predict = self.impl.predictor(layers, features)
                got = predict(self.x, max(1, self.shape.batch - 1))
                return {"full": dict(zip(COMBOS, got))}
            fn = self.impl.compiled(layers, features)
            rows = max(1, self.shape.batch - 1)
            return {"full": dict(zip(COMBOS, fn(self.x))), "rows": rows,
                    "part": dict(zip(COMBOS, fn(self.x[:rows])))}

    # ---- export -------------------------------------------------------------------------------
    # One model per case and format, whose outputs are the four combinations' layers (as the
    # compiled paths): an export and a runtime load cost far more than running the artifact, so
    # the per-combination tests read their part of one memoised result.
    def exported(self, fmt: Any, return_sequences: bool, return_state: bool, *, masked: bool = False) -> dict:
        """One combination of the case exported by ``Model.export(format=fmt.name)`` and run in
        the format's runtime (:mod:`rnnconf.impl.export`): {"artifact": the loaded Artifact,
        "declared": the runtime's declared outputs that are this combination's, "total" /
        "layers_total": how many outputs the artifact has and its layers return, "runs": [(how,
        rows, steps, flat arrays)]} -- the case's input, then (where the format leaves them free)
        its first rows and its first steps, so two batch sizes and two sequence lengths run. The
        runs are read with :func:`exported_calls`, which raises the runtime's error where a run
        failed (the artifact's declared outputs and operators stay readable).

        The four combinations' layers share one model, and its export (a failure to export,
        load or run is remembered and raised to each of them); where that model cannot be built
        or called, each combination gets a model of its own, so one broken combination hides no
        other. ``masked``: the model has a second input, an explicit mask (:attr:`export_mask`)
        passed to every layer, and every run gives it the mask's matching rows and steps."""
        parts = self.remember(("export", fmt.name, fmt.fixed, masked), lambda: self._run_exported(fmt, masked))
        return _unwrap(parts[(return_sequences, return_state)])

    @property
    def export_mask(self) -> np.ndarray:
        """The explicit mask of a masked export: right-padded rows of different lengths (padded
        batches are what a deployed model gets), every row with a valid first step."""
        return make_mask("right_padded", self.shape.batch, self.shape.timesteps)

    def sizes(self, fmt: Any) -> list[tuple[str, int, int]]:
        """(how, rows, steps) of each run of an exported artifact: the case's batch and time, then
        one row fewer and about half the steps where ``fmt`` leaves that dimension free."""
        batch, steps = self.shape.batch, self.shape.timesteps
        out = [("the case's input", batch, steps)]
        if "batch" not in fmt.fixed and batch > 1:
            out.append((f"its first {batch - 1} row(s) (another batch size)", batch - 1, steps))
        if "time" not in fmt.fixed and steps > 1:
            out.append((f"its first {steps // 2} step(s) (another sequence length)", batch, steps // 2))
        return out

    def _run_exported(self, fmt: Any, masked: bool) -> dict:
        features = tuple(self.x.shape[2:])
        mask = self.export_mask if masked else None
        layers = [self.new_layer(rs, st) for rs, st in COMBOS]
        try:
            with CaseContext(f"{self.entry.label} in its four flag combinations, one functional model"), \
                    self.impl.device(self.device):
                groups = [(COMBOS, self.impl.export_model(layers, features, self.x, mask))]
        except Exception:
            groups = []
            for layer, combo in zip(layers, COMBOS):
                try:
                    with self._context(*combo), self.impl.device(self.device):
                        groups.append(((combo,), self.impl.export_model([layer], features, self.x, mask)))
                except Exception as exc:  # this combination only
                    groups.append(((combo,), exc))
        parts: dict = {}
        for combos, built in groups:
            try:
                if isinstance(built, BaseException):
                    raise built
                parts.update(self._export_group(fmt, combos, *built, mask=mask))
            except Exception as exc:
                parts.update({combo: exc for combo in combos})
        return parts

    def _export_group(self, fmt: Any, combos: tuple, model: Any, counts: list[int],
                      mask: np.ndarray | None = None) -> dict:
        import shutil
        import tempfile
        from pathlib import Path

        what = (f"{self.entry.label} in its four flag combinations" if len(combos) > 1
                else self.describe(*combos[0]))
        features = tuple(self.x.shape[2:])
        folder = Path(tempfile.mkdtemp(prefix=f"rnnconf-{fmt.name}-"))
        try:
            with CaseContext(f"Model.export(format={fmt.name!r}) of {what}"), self.impl.device(self.device):
                self.impl.export(model, fmt, folder, batch=self.shape.batch, timesteps=self.shape.timesteps)
            with CaseContext(f"{fmt.runtime} loading the {fmt.name} artifact of {what}"):
                artifact = self.impl.load_artifact(fmt, folder)
            runs, error = [], None
            try:
                for how, rows, steps in self.sizes(fmt):
                    with CaseContext(f"{fmt.runtime} running the {fmt.name} artifact of {what} on {how}, "
                                     f"shape {(rows, steps, *features)}"):
                        inputs = [np.ascontiguousarray(self.x[:rows, :steps])]
                        if mask is not None:
                            inputs.append(np.ascontiguousarray(mask[:rows, :steps]))
                        runs.append((how, rows, steps, split_outputs(artifact.run(*inputs), counts, combos)))
            except Exception as exc:  # the artifact loaded: what it declares and holds stays readable
                error = exc
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        declared = split_outputs(artifact.outputs, counts, combos)
        return {combo: {"artifact": artifact, "declared": declared[combo], "total": len(artifact.outputs),
                        "layers_total": sum(counts), "run_error": error,
                        "runs": [(how, rows, steps, flat[combo]) for how, rows, steps, flat in runs]}
                for combo in combos}

    def stateful_halves(self, path: str) -> dict:
        """Four new stateful layers (one per combination), run by ``path`` on the first half of
        the time steps and then on the second: the second call's flat arrays per combination.
        ``predict`` uses one model (``batch_size`` = the fixed batch), ``function`` one compiled
        function with the batch fixed. Memoised like :meth:`compiled_result`."""
        return self.remember("stateful " + path, lambda: self._run_stateful_halves(path))

    def _run_stateful_halves(self, path: str) -> dict:
        layers = [self.new_layer(rs, st) for rs, st in COMBOS]
        features = tuple(self.x.shape[2:])
        split, batch = self.shape.timesteps // 2, self.shape.batch
        with CaseContext(f"{self.entry.label} stateful, two calls by {path}"), self.impl.device(self.device):
            if path == "predict":
                predict = self.impl.predictor(layers, features, batch=batch)
                call = lambda x: predict(x, batch)  # noqa: E731
            else:
                call = self.impl.compiled(layers, features, batch=batch)
            call(self.x[:, :split])
            return {"split": split, "second": dict(zip(COMBOS, call(self.x[:, split:])))}

    # ---- helpers -------------------------------------------------------------------------
    def _not_applicable_if_lacking(self, exc: Exception) -> None:
        """A release that does not have an option refuses it when the layer is made: when the
        refusal names an option and the class it goes to names no such parameter, the case is
        not applicable to this release (reported as n/a), not a failure."""
        for option in self.options:
            if option.lower() not in str(exc).lower():  # "Unrolling is not possible ..."
                continue
            for name in self.entry.option_targets(option):
                lacking = self.impl.lacks_argument(name, option)
                if lacking:
                    first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
                    not_applicable(self.impl, f"{lacking} (it raised {type(exc).__name__}: {first})")

    def _context(self, return_sequences: bool, return_state: bool) -> "CaseContext":
        return CaseContext(self.describe(return_sequences, return_state))



def exported_calls(result: dict) -> list:
    """The runs of an exported combination (:meth:`CaseRun.exported`), or the error of the run
    that failed."""
    if result["run_error"] is not None:
        raise result["run_error"]
    return result["runs"]


def split_outputs(flat: list, counts: list[int], combos: tuple = COMBOS) -> dict:
    """An artifact's outputs, in the model's order, cut into each combination's part by how many
    tensors each layer returned; a short or long list leaves its last parts short or long (the
    last part takes what is left), so only the combinations it concerns fail."""
    out, at = {}, 0
    for i, (combo, n) in enumerate(zip(combos, counts)):
        out[combo] = list(flat[at:] if i == len(counts) - 1 else flat[at:at + n])
        at += n
    return out


def _call_key(return_sequences: bool, return_state: bool, kwargs: dict[str, Any]) -> tuple | None:
    """A memo key for a call, or None when an argument is not a plain value or NumPy array."""
    parts = []
    for name, value in sorted(kwargs.items()):
        if isinstance(value, np.ndarray):
            parts.append((name, value.shape, str(value.dtype), value.tobytes()))
        elif value is None or isinstance(value, (bool, int, float, str)):
            parts.append((name, value))
        else:
            return None
    return (return_sequences, return_state, tuple(parts))


class CaseContext:
    """Turns a missing layer into a one-line failure and names the case on any other error."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False
        if isinstance(exc, MissingLayer):
            pytest.fail(f"{exc} ({self.what})", pytrace=False)
        note = f"while running {self.what}"
        if note not in getattr(exc, "__notes__", []):
            exc.add_note(note)
        return False
