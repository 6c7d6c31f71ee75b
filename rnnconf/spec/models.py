"""Recurrent layers as users compose them, as data: what supplies a mask in front of a layer,
stacks of layers, and one layer's states wired into another; with their NumPy oracle chains.

A **front** is the layer that makes the mask (the masking-and-padding guide: "There are three
ways to introduce input masks in Keras models: Add a ``keras.layers.Masking`` layer. Configure a
``keras.layers.Embedding`` layer with ``mask_zero=True``. Pass a ``mask`` argument manually"; the
third is tests/test_masking.py):

- ``Masking``: ``Masking(mask_value=0.0)``; its docstring: "For each timestep in the input
  tensor (dimension #1 in the tensor), if all values in the input tensor at that timestep are
  equal to ``mask_value``, then the timestep will be masked (skipped) in all downstream layers (as
  long as they support masking)". The masked steps' features are set to 0.0.
- ``Embedding``: ``Embedding(VOCAB, features, mask_zero=True)``; its docstring: "Whether or not
  the input value 0 is a special 'padding' value that should be masked out". Masked steps are
  token 0, the others tokens 1..VOCAB-1; the recurrent layer sees the table's rows.

Either way the recurrent layer must compute what the explicitly masked call computes (the
oracle's ``mask=``), and pass the mask on as ``compute_mask`` documents.

A **composition** is a model of catalog entries (rnnconf/spec/catalog.py), each with units of its
own and seeded weights:

- ``timedistributed``: ``TimeDistributed(<entry>)`` on ``(batch, OUTER, T, features)``; its
  docstring: "This wrapper allows to apply a layer to every temporal slice of an input ... the
  dimension of index one of the first input will be considered to be the temporal dimension",
  "the same set of weights are used at each timestamp", and its ``mask`` "is passed to the
  wrapped layer (only if the layer supports this argument)". So the output is the entry's own,
  slice by slice: ``(batch, OUTER, *the entry's output shape without its batch)``, and a mask
  ``(batch, OUTER, T)`` (what ``Embedding(mask_zero=True)`` or ``Masking`` make of such an input)
  masks each slice's steps. ``return_state`` is not a case: the wrapper returns one tensor.
  Two non-recurrent layers are wrapped too, the documentation's own uses: ``Dense(u)`` on
  ``(batch, T, features)`` (each step's features through the same kernel) and ``Conv1D(u, 2)`` on
  ``(batch, OUTER, T, features)`` (each slice convolved, "valid" padding). They return one tensor
  that keeps the wrapper's axis, read as ``return_sequences=True``; they have no flags to vary.

- ``stack``: each layer's sequence feeds the next (every layer but the last has
  ``return_sequences=True``; the last takes the case's flags). In a ``Sequential`` container only
  ``return_state=False``: Keras documents ``Sequential`` for "a plain stack of layers where each
  layer has exactly one input tensor and one output tensor".
- ``wiring``: an encoder with ``return_state=True`` whose final states are the decoder's
  ``initial_state`` (the RNN docstring: "You can specify the initial state of RNN layers
  symbolically by calling them with the keyword argument ``initial_state``. The value of
  ``initial_state`` should be a tensor or list of tensors representing the initial state of the
  RNN layer"). The decoder reads its own input, one step longer than the encoder's. Bridge
  ``states``: the states as returned; ``concat_halves``: a Bidirectional encoder's forward and
  backward states concatenated pairwise (``h`` with ``h``, ``c`` with ``c``) for a decoder of
  twice the units, the common sequence-to-sequence wiring.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rnnconf.spec import catalog, contract, reference
from rnnconf.spec.catalog import Entry, Shape
from rnnconf.spec.seeds import make_weights, seed_for

VOCAB = 7  # the Embedding front's vocabulary: 0 is padding
OUTER = 2  # TimeDistributed's outer steps: not the batch (3) nor T (4), so a swapped axis shows
FRONTS = ("Masking", "Embedding")
# Each front with each mask kind that starts every row with a valid step (a leading masked step
# is an open behaviour: rnnconf/spec/unspecified.py); the default lane runs the first two.
FRONT_CASES = ("Masking-arbitrary", "Embedding-right_padded", "Masking-right_padded", "Embedding-arbitrary")
DEFAULT_FRONT_CASES = FRONT_CASES[:2]


def front_parts(front_case: str) -> tuple[str, str]:
    """``"Masking-arbitrary"`` -> (``"Masking"``, ``"arbitrary"``)."""
    front, _, kind = front_case.partition("-")
    if front not in FRONTS or kind not in reference.MASK_KINDS:
        raise ValueError(f"unknown front case {front_case!r}")
    return front, kind


@dataclasses.dataclass(frozen=True)
class FrontInput:
    """What a front case feeds: ``model_input`` (floats for Masking, int tokens for Embedding),
    ``x`` (what the recurrent layer must see: float64 for the oracle), ``mask`` (bool (B, T)) and
    the Embedding's table (None for Masking)."""

    model_input: np.ndarray
    x: np.ndarray
    mask: np.ndarray
    table: np.ndarray | None


def front_input(front_case: str, x: np.ndarray, salt: str) -> FrontInput:
    """The front's input for a float input ``x`` (B, T, F), or (B, outer, T, F) for
    TimeDistributed: the same features, masked steps made what the front masks (all 0.0; token 0),
    and the oracle's view of it."""
    front, kind = front_parts(front_case)
    lead, steps, features = x.shape[:-2], x.shape[-2], x.shape[-1]
    # (B, T) for a layer; (B, outer, T) for TimeDistributed: each slice a row of the mask kind
    mask = reference.make_mask(kind, int(np.prod(lead)), steps, seed=steps).reshape(*lead, steps)
    if front == "Masking":
        masked = x.copy()
        masked[~mask] = 0.0
        if np.any(np.all(masked[mask] == 0.0, axis=-1)):  # a valid step Masking would mask too
            raise ValueError("a valid step of the suite's input has all features 0.0")
        return FrontInput(masked, masked.astype(np.float64), mask, None)
    rng = np.random.default_rng(seed_for("tokens", salt, str(x.shape)))
    tokens = rng.integers(1, VOCAB, size=(*lead, steps)).astype(np.int32)
    tokens[~mask] = 0
    table = make_weights([(VOCAB, features)], "embedding", salt, str(features), scale=1.0)[0]
    return FrontInput(tokens, table[tokens].astype(np.float64), mask, table)


@dataclasses.dataclass(frozen=True)
class PlainLayer:
    """A non-recurrent layer that ``TimeDistributed`` wraps, with its NumPy twin:
    ``Dense(units)`` ("computes the dot product between the inputs and the kernel along the last
    axis of the inputs", plus the bias) or ``Conv1D(units, kernel)`` with "valid" padding
    (``output[t] = sum_k inputs[t + k] @ kernel[k] + bias``). ``masks``: whether it documents a
    mask (Dense propagates one; Conv1D takes none)."""

    id: str
    kernel: int | None = None  # Conv1D's kernel size; None for Dense
    masks: bool = False

    @property
    def label(self) -> str:
        return f"{self.id}(u)" if self.kernel is None else f"{self.id}(u, {self.kernel})"

    @property
    def needs(self) -> tuple[str, ...]:
        return (self.id,)

    weight_scale = 0.5

    def build(self, get, units: int, **options):  # noqa: ANN001, ANN201 - the implementation's layer
        """``layers.Dense(units)`` / ``layers.Conv1D(units, kernel)``; recurrent flags ignored
        (it has none), other ``options`` (a dtype policy) passed on."""
        options = {k: v for k, v in options.items() if k not in ("return_sequences", "return_state", "user_cell")}
        if self.kernel is None:
            return get(self.id)(units, **options)
        return get(self.id)(units, self.kernel, **options)

    def slice_shape(self, rows: int, steps: int, features: int) -> tuple[int, ...]:
        """The shape of what the wrapper hands it: one (rows, features) step for Dense, a
        (rows, steps, features) sequence for Conv1D."""
        return (rows, features) if self.kernel is None else (rows, steps, features)

    def weight_shapes(self, features: int, units: int) -> list[tuple[int, ...]]:
        """``get_weights()``: kernel ``(features, units)`` or ``(kernel, features, units)``, bias."""
        lead = () if self.kernel is None else (self.kernel,)
        return [(*lead, features, units), (units,)]

    def out_steps(self, steps: int | None) -> int | None:
        """Conv1D's output steps for ``steps`` input steps ("valid": ``steps - kernel + 1``)."""
        return None if steps is None else steps - self.kernel + 1

    def apply(self, x: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
        """The twin, in float64, on any leading axes: Dense over the last axis; Conv1D over the
        second-to-last (the slice's steps)."""
        kernel, bias = (np.asarray(w, np.float64) for w in weights)
        x = np.asarray(x, np.float64)
        if self.kernel is None:
            return x @ kernel + bias
        steps = self.out_steps(x.shape[-2])
        return sum(x[..., k:k + steps, :] @ kernel[k] for k in range(self.kernel)) + bias


PLAIN: dict[str, PlainLayer] = {"Dense": PlainLayer("Dense", masks=True), "Conv1D": PlainLayer("Conv1D", kernel=2)}


@dataclasses.dataclass(frozen=True)
class Link:
    """One layer of a composition: a catalog entry with ``units * scale + offset`` units."""

    entry: str
    offset: int = 0
    scale: int = 1

    @property
    def spec(self) -> Entry | PlainLayer:
        return PLAIN[self.entry] if self.entry in PLAIN else catalog.BY_ID[self.entry]

    def units(self, shape: Shape) -> int:
        return shape.units * self.scale + self.offset


@dataclasses.dataclass(frozen=True)
class Composition:
    id: str
    label: str
    kind: str  # "stack" | "wiring" | "timedistributed"
    links: tuple[Link, ...]
    container: str = "functional"  # "functional" | "sequential" (stacks only)
    bridge: str = "states"  # wiring only: "states" | "concat_halves"

    @property
    def entries(self) -> list[Entry | PlainLayer]:
        return [link.spec for link in self.links]

    @property
    def last(self) -> Entry | PlainLayer:
        return self.links[-1].spec

    @property
    def plain(self) -> PlainLayer | None:
        """The non-recurrent layer a ``timedistributed`` composition wraps (None: a recurrent one)."""
        spec = self.last
        return spec if isinstance(spec, PlainLayer) else None

    @property
    def takes_mask(self) -> bool:
        """Whether a front's mask applies: every layer documents one (Conv1D does not)."""
        return all(e.masks if isinstance(e, PlainLayer) else e in catalog.MASK_ENTRIES for e in self.entries)

    @property
    def needs(self) -> tuple[str, ...]:
        names = [n for e in self.entries for n in e.needs]
        if self.kind == "timedistributed":
            names.append("TimeDistributed")
        if self.container == "sequential":
            names.append("<module>.Sequential")
        if self.bridge == "concat_halves":
            names.append("Concatenate")
        return tuple(dict.fromkeys(names))

    def combos(self) -> list[tuple[bool, bool]]:
        """The last layer's (return_sequences, return_state) this composition is documented for."""
        if self.plain is not None:  # one tensor that keeps the wrapper's axis
            return [(True, False)]
        one_output = self.container == "sequential" or self.kind == "timedistributed"
        states = (False,) if one_output else (False, True)
        return [(rs, st) for rs in (False, True) for st in states]

    def layer_shapes(self, shape: Shape) -> list[Shape]:
        """The Shape each layer sees: its input's batch, steps and features, and its units
        (TimeDistributed's layer: every slice of the batch, ``batch * OUTER`` rows; a wrapped
        Dense: every step, ``batch * T`` rows)."""
        if self.kind == "timedistributed":
            link = self.links[0]
            outer = shape.timesteps if self.plain is not None and self.plain.kernel is None else OUTER
            return [Shape(shape.batch * outer, shape.timesteps, shape.features, link.units(shape))]
        out: list[Shape] = []
        features = shape.features
        for i, link in enumerate(self.links):
            steps = shape.timesteps + 1 if self.kind == "wiring" and i == 1 else shape.timesteps
            here = Shape(shape.batch, steps, features, link.units(shape))
            out.append(here)
            if self.kind == "stack":
                features = contract.flatten(contract.expected_tree(link.spec, here, True, False))[0].shape[-1]
        return out

    def weights(self, shape: Shape) -> list[list[np.ndarray]]:
        """Seeded weights per layer, in the documented get_weights() layout (reference.weight_shapes)."""
        return [make_weights(e.weight_shapes(s.features, s.units) if isinstance(e, PlainLayer)
                             else reference.weight_shapes(e, s), "composition", self.id, str(i), shape.id,
                             scale=e.weight_scale)
                for i, (e, s) in enumerate(zip(self.entries, self.layer_shapes(shape)))]

    def inputs(self, shape: Shape) -> list[np.ndarray]:
        """The model's float inputs: the first layer's; a wiring's decoder input too."""
        rng = np.random.default_rng(seed_for("composition input", self.id, shape.id))
        shapes = self.layer_shapes(shape)
        used = shapes[:2] if self.kind == "wiring" else shapes[:1]
        if self.kind == "timedistributed":
            outer = () if self.plain is not None and self.plain.kernel is None else (OUTER,)
            return [rng.normal(0.0, 1.0, size=(shape.batch, *outer, shape.timesteps, shape.features))
                    .astype(np.float32)]
        return [rng.normal(0.0, 1.0, size=e.input_shape(s)).astype(np.float32)
                for e, s in zip(self.entries, used)]

    def expected(self, shape: Shape, return_sequences: bool, return_state: bool, *,
                 symbolic: bool = False) -> contract.Tree:
        """What the model returns: the last layer's documented structure (TimeDistributed: the
        layer's output with the outer axis after the batch)."""
        plain = self.plain
        if plain is not None:
            batch, steps = (None, None) if symbolic else (shape.batch, shape.timesteps)
            units = self.links[0].units(shape)
            if plain.kernel is None:
                return contract.Leaf("output", (batch, steps, units))
            return contract.Leaf("output", (batch, None if symbolic else OUTER, plain.out_steps(steps), units))
        tree = contract.expected_tree(self.last, self.layer_shapes(shape)[-1], return_sequences,
                                      return_state, symbolic=symbolic)
        if self.kind != "timedistributed":
            return tree
        batch, outer = (None, None) if symbolic else (shape.batch, OUTER)
        return contract.Leaf(tree.role, (batch, outer, *tree.shape[1:]))

    def oracle_roles(self, shape: Shape, weights: list[list[np.ndarray]], inputs: list[np.ndarray],
                     return_sequences: bool, mask: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """The last layer's roles (return_state=True) by the oracle chain, in float64."""
        shapes = self.layer_shapes(shape)
        if self.plain is not None:  # the same kernel on every step (slice); a mask changes nothing
            return {"output": self.plain.apply(inputs[0], weights[0])}
        if self.kind == "timedistributed":  # the layer on every slice: the slices as rows
            rows = inputs[0].reshape(-1, *inputs[0].shape[2:])
            roles = reference.expected_roles(self.last, shapes[0], weights[0], rows, return_sequences=return_sequences,
                                             mask=None if mask is None else mask.reshape(rows.shape[:2]))
            return {r: v.reshape(inputs[0].shape[0], OUTER, *v.shape[1:]) for r, v in roles.items()}
        if self.kind == "wiring":
            (enc, dec), (se, sd) = self.entries, shapes
            enc_roles = reference.expected_roles(enc, se, weights[0], inputs[0], return_sequences=False)
            states = [v for role, v in enc_roles.items() if not role.startswith("output")]
            if self.bridge == "concat_halves":
                half = len(states) // 2
                states = [np.concatenate([f, b], axis=-1) for f, b in zip(states[:half], states[half:])]
            return reference.expected_roles(dec, sd, weights[1], inputs[1], return_sequences=return_sequences,
                                            initial_state=states)
        h = inputs[0]
        for i, (entry, s, w) in enumerate(zip(self.entries, shapes, weights)):
            last = i == len(self.links) - 1
            roles = reference.expected_roles(entry, s, w, h, return_sequences=return_sequences if last else True,
                                             mask=mask)
            h = roles["output"]
        return roles


def _stack(id_: str, label: str, *links: Link, container: str = "functional") -> Composition:
    return Composition(id_, label, "stack", links, container=container)


def _wiring(id_: str, label: str, *links: Link, bridge: str = "states") -> Composition:
    return Composition(id_, label, "wiring", links, bridge=bridge)


COMPOSITIONS: tuple[Composition, ...] = (
    # stacks: mixed types, so a layer that reads its predecessor's sequence wrongly shows
    _stack("Stack_LSTM_GRU", "Model: LSTM(u, return_sequences=True) -> GRU(u + 1)",
           Link("LSTM"), Link("GRU", 1)),
    _stack("Stack_SimpleRNN_LSTM_GRU", "Model: SimpleRNN(u) -> LSTM(u + 1) -> GRU(u + 2), sequences between",
           Link("SimpleRNN"), Link("LSTM", 1), Link("GRU", 2)),
    _stack("Stack_BiLSTM_SimpleRNN", "Model: Bidirectional(LSTM(u), merge_mode='concat') -> SimpleRNN(u + 1)",
           Link("Bi_LSTM_concat"), Link("SimpleRNN", 1)),
    _stack("Stack_SimpleRNN_LSTM", "Model: SimpleRNN(u, return_sequences=True) -> LSTM(u + 1)",
           Link("SimpleRNN"), Link("LSTM", 1)),
    _stack("Stack_GRU_Cells", "Model: GRU(u) -> RNN([LSTMCell(u + 1), GRUCell(u + 2)])",
           Link("GRU"), Link("RNN_LSTMCell_GRUCell", 1)),
    _stack("Seq_LSTM_GRU", "Sequential([LSTM(u, return_sequences=True), GRU(u + 1)])",
           Link("LSTM"), Link("GRU", 1), container="sequential"),
    _stack("Seq_GRU_SimpleRNN_LSTM", "Sequential([GRU(u), SimpleRNN(u + 1), LSTM(u + 2)]), sequences between",
           Link("GRU"), Link("SimpleRNN", 1), Link("LSTM", 2), container="sequential"),
    _stack("Seq_BiGRU_LSTM", "Sequential([Bidirectional(GRU(u), merge_mode='sum'), LSTM(u + 1)])",
           Link("Bi_GRU_sum"), Link("LSTM", 1), container="sequential"),
    # wirings: encoder states -> decoder initial_state
    _wiring("Wire_LSTM_LSTM", "Model: LSTM(u, return_state=True) states -> LSTM(u, initial_state=...)",
            Link("LSTM"), Link("LSTM")),
    _wiring("Wire_GRU_GRU", "Model: GRU(u, return_state=True) state -> GRU(u, initial_state=...)",
            Link("GRU"), Link("GRU")),
    _wiring("Wire_SimpleRNN_SimpleRNN", "Model: SimpleRNN(u, return_state=True) -> SimpleRNN(u, initial_state=...)",
            Link("SimpleRNN"), Link("SimpleRNN")),
    _wiring("Wire_Cells_Cells", "Model: RNN([LSTMCell(u), GRUCell(u + 1)]) states -> the same stack's initial_state",
            Link("RNN_LSTMCell_GRUCell"), Link("RNN_LSTMCell_GRUCell")),
    _wiring("Wire_BiLSTM_LSTM", "Model: Bidirectional(LSTM(u)) [fw h|bw h], [fw c|bw c] -> LSTM(2u, initial_state=...)",
            Link("Bi_LSTM_concat"), Link("LSTM", scale=2), bridge="concat_halves"),
    _wiring("Wire_ConvLSTM2D_ConvLSTM2D", "Model: ConvLSTM2D(u, 3) [h, c] -> ConvLSTM2D(u, 3, initial_state=...)",
            Link("ConvLSTM2D"), Link("ConvLSTM2D")),
)
COMPOSITIONS += tuple(
    Composition(f"TD_{entry}", f"TimeDistributed({catalog.BY_ID[entry].label}) on (batch, {OUTER}, T, features)",
                "timedistributed", (Link(entry),))
    for entry in ("SimpleRNN", "LSTM", "GRU", "RNN_LSTMCell_GRUCell", "Bi_LSTM_concat"))
COMPOSITIONS += (
    Composition("TD_Dense", "TimeDistributed(Dense(u)) on (batch, T, features)", "timedistributed", (Link("Dense"),)),
    Composition("TD_Conv1D", f"TimeDistributed(Conv1D(u, 2)) on (batch, {OUTER}, T, features)", "timedistributed",
                (Link("Conv1D"),)),
)
BY_ID: dict[str, Composition] = {c.id: c for c in COMPOSITIONS}
