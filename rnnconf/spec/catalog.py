"""The layer catalog: one entry per layer variant, as data.

An entry knows how to build its layer from an implementation's ``layers`` namespace, which
cells it runs (for the state structure and the NumPy oracle), and how its input is shaped.
Everything a test expects from it is derived in :mod:`rnnconf.spec.contract`; adding a layer
variant is adding an entry here.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

# kind of a cell: "simple" | "lstm" | "gru"; the number of states each cell carries.
STATES_PER_CELL = {"simple": 1, "lstm": 2, "gru": 1, "proj": 1, "two": 2, "nested": 3, "init": 1,
                   "plain": 1}
# User-defined cells (rnnconf/impl/cells.py, their twins in rnnconf/spec/oracle.py): how their states nest, as (role, units offset) leaves
# in tuples, the units offset of their output, and the state their output is (None: none is).
CUSTOM_KINDS = ("proj", "two", "nested", "init", "plain")
STATE_TREES = {
    "simple": (("h", 0),), "gru": (("h", 0),), "lstm": (("h", 0), ("c", 0)),
    "proj": (("h", 0),), "two": (("s1", 0), ("s2", 2)), "nested": (("h", 0), (("a", 1), ("b", 2))),
    "init": (("h", 0),), "plain": (("h", 0),),
}
OUTPUT_OFFSET = {"proj": 1}
OUTPUT_STATE = {"proj": None, "two": "s1"}  # the rest: the output is the state "h"
CELL_CLASS = {"simple": "SimpleRNNCell", "lstm": "LSTMCell", "gru": "GRUCell"}
LAYER_CLASS = {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
MERGE_MODES = ("concat", "sum", "ave", "mul", None)
# The arguments a cell documents: given to RNN(cell) / RNN([cells]) entries, they go to the cells
# (the RNN wrapper only loops); the rest (return flags, go_backwards, activity_regularizer...) to RNN.
CELL_OPTIONS = ("dropout", "recurrent_dropout", "seed", "activation", "recurrent_activation", "use_bias",
                "kernel_initializer", "recurrent_initializer", "bias_initializer", "unit_forget_bias",
                "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                "kernel_constraint", "recurrent_constraint", "bias_constraint")


@dataclasses.dataclass(frozen=True)
class Shape:
    """An input shape ``(batch, timesteps, features)`` and the layer's ``units``."""

    batch: int
    timesteps: int
    features: int
    units: int

    @property
    def id(self) -> str:
        return f"B{self.batch}T{self.timesteps}F{self.features}U{self.units}"


# The notebook's own case first, then one shape per way the notebook's input could hide a bug:
# batch > 1 with differing rows, T = 1, T >= 6 with units != 3 and features != 5.
NOTEBOOK_SHAPE = Shape(batch=1, timesteps=4, features=5, units=3)
SHAPES = (
    NOTEBOOK_SHAPE,
    Shape(batch=3, timesteps=4, features=5, units=3),
    Shape(batch=2, timesteps=1, features=5, units=3),
    Shape(batch=2, timesteps=7, features=2, units=6),
    Shape(batch=4, timesteps=6, features=3, units=1),
)


@dataclasses.dataclass(frozen=True)
class Cell:
    """One recurrent cell inside an entry: its kind and GRU's ``reset_after``."""

    kind: str
    reset_after: bool = True
    units_offset: int = 0  # a stacked cell i has ``units + i`` units, so shapes tell cells apart

    @property
    def states(self) -> int:
        return STATES_PER_CELL[self.kind]

    @property
    def custom(self) -> bool:
        return self.kind in CUSTOM_KINDS

    @property
    def state_tree(self) -> tuple:
        """How the cell's states nest: (role, units offset) leaves in tuples."""
        return STATE_TREES[self.kind]

    def state_leaves(self) -> list[tuple[str, int]]:
        """(role, units offset) of every state, flat, in order."""
        def walk(node):
            return [node] if isinstance(node[0], str) else [leaf for n in node for leaf in walk(n)]
        return [leaf for node in self.state_tree for leaf in walk(node)]

    @property
    def output_offset(self) -> int:
        return OUTPUT_OFFSET.get(self.kind, 0)

    @property
    def output_state(self) -> str | None:
        """The state role the cell's output is (its last step is that state), or None."""
        return OUTPUT_STATE.get(self.kind, "h")

    def options(self) -> dict[str, Any]:
        return {"reset_after": self.reset_after} if self.kind == "gru" else {}


@dataclasses.dataclass(frozen=True)
class Entry:
    """A layer variant.

    ``form`` is how the cells are wrapped:

    - ``"layer"``: the ready-made layer (``LSTM(units)``),
    - ``"rnn"``: ``RNN(<Cell>(units))``,
    - ``"stacked"``: ``RNN([cell_1, cell_2, ...])``: one state entry per cell, nested for LSTM,
    - ``"bidirectional"``: ``Bidirectional(<Layer>(units), merge_mode=...)``; with ``backward``
      cells, an explicit ``backward_layer=<Layer>(units + offset, go_backwards=True)`` of that
      cell's type and units (Keras's docstring: the backward layer may be any layer with the same
      ``stateful``/``return_sequences``/``return_state`` and the other ``go_backwards``),
    - ``"conv"``: ``ConvLSTM{rank}D(filters=units, kernel_size, padding, strides, dilation_rate)``,
    - ``"custom"``: ``RNN(<user-defined cell>(units))`` (the suite's own cells, rnnconf/impl/cells.py).
    """

    id: str
    label: str
    form: str
    cells: tuple[Cell, ...]
    merge_mode: str | None = "concat"
    conv_rank: int = 0
    padding: str = "same"
    kernel_size: int = 3
    strides: int = 1
    dilation_rate: int = 1
    data_format: str = "channels_last"  # ConvLSTM only: "channels_first" puts channels after time
    spatial_size: tuple[int, ...] = ()  # ConvLSTM only: the input's spatial dims (default: spatial())
    # Bidirectional only: the backward layer's cell when it is given explicitly (backward_layer=);
    # empty: Keras makes the backward layer from the forward one (the same cells).
    backward: tuple[Cell, ...] = ()

    # ---- what the implementation must provide -------------------------------------------
    @property
    def needs(self) -> tuple[str, ...]:
        if self.form == "layer":
            return (LAYER_CLASS[self.cells[0].kind],)
        if self.form in ("rnn", "stacked"):
            return ("RNN",) + tuple(dict.fromkeys(CELL_CLASS[c.kind] for c in self.cells))
        if self.form == "bidirectional":
            return ("Bidirectional",) + tuple(dict.fromkeys(LAYER_CLASS[c.kind] for c in self.halves_cells()))
        if self.form == "custom":
            return ("RNN", "Layer")
        return (f"ConvLSTM{self.conv_rank}D",)

    # ---- shapes ---------------------------------------------------------------------------
    def spatial(self) -> tuple[int, ...]:
        """Spatial input dims of a ConvLSTM entry (small, and different per axis)."""
        return self.spatial_size or (5, 4, 3)[: self.conv_rank]

    def input_shape(self, shape: Shape) -> tuple[int, ...]:
        return (shape.batch, shape.timesteps, *self.per_step(self.spatial(), shape.features))

    def per_step(self, spatial: tuple[int, ...], channels: int) -> tuple[int, ...]:
        """One step's (or one state's) dims after batch: spatial dims and channels in the entry's
        ``data_format`` (channels last but for a ``channels_first`` ConvLSTM)."""
        return (channels, *spatial) if self.data_format == "channels_first" else (*spatial, channels)

    def spatial_out(self) -> tuple[int, ...]:
        if self.form != "conv":
            return ()
        from rnnconf.spec.oracle import conv_output_spatial

        return conv_output_spatial(self.conv_spec(1), self.spatial())

    def conv_spec(self, units: int) -> Any:
        """The oracle's description of a ConvLSTM entry (``units`` filters)."""
        from rnnconf.spec.oracle import ConvSpec

        return ConvSpec(self.conv_rank, units, (self.kernel_size,) * self.conv_rank, self.padding,
                        self.strides, self.dilation_rate, data_format=self.data_format)

    @property
    def weight_scale(self) -> float:
        """Seeded weights are uniform in +-scale: a ConvLSTM's kernel sums many taps, so its
        scale shrinks with the kernel's volume to keep the gates out of saturation."""
        return 0.5 / (self.kernel_size ** self.conv_rank) ** 0.5 if self.form == "conv" else 0.5

    def cell_units(self, shape: Shape) -> list[int]:
        return [shape.units + c.units_offset for c in self.cells]

    @property
    def backward_cells(self) -> tuple[Cell, ...]:
        """The cells of a Bidirectional entry's backward half (its forward cells unless given)."""
        return self.backward or self.cells

    @property
    def asymmetric(self) -> bool:
        """A Bidirectional entry with an explicit backward layer of another type or size."""
        return bool(self.backward)

    def halves_cells(self) -> tuple[Cell, ...]:
        """Every cell a Bidirectional entry runs: forward, then backward."""
        return self.cells + (self.backward_cells if self.bidirectional else ())

    def backward_units(self, shape: Shape) -> list[int]:
        return [shape.units + c.units_offset for c in self.backward_cells]

    def output_units(self, shape: Shape) -> int:
        """The last cell's output size (a user-defined cell's may differ from its state's)."""
        return self.cell_units(shape)[-1] + self.cells[-1].output_offset

    def state_sizes(self, shape: Shape) -> list[int]:
        """The size of every state, flat, in the documented order (forward then backward)."""
        def sizes(cells, units):
            return [u + off for c, u in zip(cells, units) for _, off in c.state_leaves()]
        fw = sizes(self.cells, self.cell_units(shape))
        return fw + sizes(self.backward_cells, self.backward_units(shape)) if self.bidirectional else fw

    @property
    def custom(self) -> bool:
        return self.form == "custom"

    @property
    def bidirectional(self) -> bool:
        return self.form == "bidirectional"

    @property
    def has_cell_state(self) -> bool:
        return any(c.kind == "lstm" for c in self.halves_cells())

    def option_targets(self, option: str) -> tuple[str, ...]:
        """The classes (names in ``layers``) that receive a layer option, as :meth:`build`
        passes it: where an implementation must accept it as an argument."""
        if option == "dtype":
            return ()  # every layer takes a dtype (its policy) through its base class
        if self.form == "layer":
            return (LAYER_CLASS[self.cells[0].kind],)
        if self.form in ("rnn", "stacked"):
            if option in CELL_OPTIONS:
                return tuple(dict.fromkeys(CELL_CLASS[c.kind] for c in self.cells))
            return ("RNN",)
        if self.form == "bidirectional":
            return tuple(dict.fromkeys(LAYER_CLASS[c.kind] for c in self.halves_cells()))
        if self.form == "custom":
            return ("RNN",)
        return (f"ConvLSTM{self.conv_rank}D",)

    # ---- building -------------------------------------------------------------------------
    def build(self, get: Callable[[str], Any], units: int, *, return_sequences: bool,
              return_state: bool, user_cell: Callable[[str], Any] | None = None, **options: Any) -> Any:
        """Build the layer. ``get(name)`` returns the implementation's ``layers.<name>``;
        ``user_cell(kind)`` the implementation's class of the user-defined cell ``kind`` (the
        ``custom`` entries need it: the cells are Keras classes, made in
        :mod:`rnnconf.impl.cells`, and the specification imports no Keras).

        ``options`` go to the recurrent layer (``go_backwards``, ``stateful``, ...), except
        ``merge_mode``/``backward_layer`` style wrapper options which Bidirectional entries own.
        """
        flags = dict(return_sequences=return_sequences, return_state=return_state)
        if self.form == "layer":
            cell = self.cells[0]
            return get(LAYER_CLASS[cell.kind])(units, **cell.options(), **flags, **options)
        if self.form in ("rnn", "stacked"):
            # Dropout belongs to the cells; the RNN wrapper only loops. A dtype policy is
            # given to both: each cell is a layer that computes in its own policy.
            per_cell = {k: options.pop(k) for k in CELL_OPTIONS if k in options}
            if "dtype" in options:
                per_cell["dtype"] = options["dtype"]
            cells = [get(CELL_CLASS[c.kind])(units + c.units_offset, **c.options(), **per_cell)
                     for c in self.cells]
            return get("RNN")(cells[0] if self.form == "rnn" else cells, **flags, **options)
        if self.form == "bidirectional":
            cell = self.cells[0]
            inner = get(LAYER_CLASS[cell.kind])(units, **cell.options(), **flags, **options)
            # The wrapper is a layer with its own dtype policy: give it the same one.
            wrapper = {"dtype": options["dtype"]} if "dtype" in options else {}
            if self.asymmetric:  # the same flags and options, the other direction
                bw = self.backward[0]
                wrapper["backward_layer"] = get(LAYER_CLASS[bw.kind])(
                    units + bw.units_offset, **bw.options(), **flags, **{**options, "go_backwards": True})
            return get("Bidirectional")(inner, merge_mode=self.merge_mode, **wrapper)
        if self.form == "custom":
            if user_cell is None:
                raise TypeError(f"{self.id}: building a user-defined cell needs user_cell=")
            per_cell = {"dtype": options["dtype"]} if "dtype" in options else {}
            cell = user_cell(self.cells[0].kind)(units + self.cells[0].units_offset, **per_cell)
            return get("RNN")(cell, **flags, **options)
        # recurrent_activation is named: Keras 3 defaults to sigmoid, Keras 2 to hard_sigmoid (a
        # documented difference of defaults, not a bug); the oracle computes the sigmoid.
        options.setdefault("recurrent_activation", "sigmoid")
        if self.data_format != "channels_last":
            options["data_format"] = self.data_format
        return get(f"ConvLSTM{self.conv_rank}D")(
            units, self.kernel_size, padding=self.padding, strides=self.strides,
            dilation_rate=self.dilation_rate, **flags, **options)


def _entries() -> tuple[Entry, ...]:
    out = [
        Entry("SimpleRNN", "SimpleRNN(units)", "layer", (Cell("simple"),)),
        Entry("LSTM", "LSTM(units)", "layer", (Cell("lstm"),)),
        Entry("GRU", "GRU(units)", "layer", (Cell("gru"),)),
        Entry("GRU_reset_before", "GRU(units, reset_after=False)", "layer",
              (Cell("gru", reset_after=False),)),
        Entry("RNN_SimpleRNNCell", "RNN(SimpleRNNCell(units))", "rnn", (Cell("simple"),)),
        Entry("RNN_LSTMCell", "RNN(LSTMCell(units))", "rnn", (Cell("lstm"),)),
        Entry("RNN_GRUCell", "RNN(GRUCell(units))", "rnn", (Cell("gru"),)),
        Entry("RNN_LSTMCell_GRUCell", "RNN([LSTMCell(units), GRUCell(units + 1)])", "stacked",
              (Cell("lstm"), Cell("gru", units_offset=1))),
    ]
    for kind in ("simple", "lstm", "gru"):
        name = LAYER_CLASS[kind]
        for mode in MERGE_MODES:
            out.append(Entry(f"Bi_{name}_{mode or 'None'}",
                             f"Bidirectional({name}(units), merge_mode={mode!r})",
                             "bidirectional", (Cell(kind),), merge_mode=mode))
    # An explicit backward_layer (keras #23688 is about these): of another type with another state
    # structure (LSTM forward, GRU backward: same units, so every merge mode applies), and of the
    # same type with other units (SimpleRNN(units + 2) backward: concat and None only -- sum, ave
    # and mul of unequal widths are ruled out, tests/test_validation.py says what must happen).
    for mode in MERGE_MODES:
        out.append(Entry(f"Bi_LSTM_bwGRU_{mode or 'None'}",
                         f"Bidirectional(LSTM(units), backward_layer=GRU(units, go_backwards=True), "
                         f"merge_mode={mode!r})", "bidirectional", (Cell("lstm"),), merge_mode=mode,
                         backward=(Cell("gru"),)))
    for mode in ("concat", None):
        out.append(Entry(f"Bi_SimpleRNN_bwSimpleRNN2_{mode or 'None'}",
                         f"Bidirectional(SimpleRNN(units), backward_layer=SimpleRNN(units + 2, "
                         f"go_backwards=True), merge_mode={mode!r})", "bidirectional", (Cell("simple"),),
                         merge_mode=mode, backward=(Cell("simple", units_offset=2),)))
    # User-defined cells (rnnconf/impl/cells.py, their twins in rnnconf/spec/oracle.py), each through RNN: paths the built-in cells never take
    # (an output of units + 1 over a state of units; state_size [u, u + 2]; [u, [u + 1, u + 2]];
    # a get_initial_state of 0.5; a plain int state_size without output_size).
    out += [
        Entry("Custom_ProjCell", "RNN(ProjectedOutputCell(units))",
              "custom", (Cell("proj"),)),
        Entry("Custom_TwoStateCell", "RNN(TwoStateCell(units))", "custom",
              (Cell("two"),)),
        Entry("Custom_NestedCell", "RNN(NestedStateCell(units))",
              "custom", (Cell("nested"),)),
        Entry("Custom_InitCell", "RNN(InitialStateCell(units))", "custom",
              (Cell("init"),)),
        Entry("Custom_PlainCell", "RNN(PlainIntStateCell(units))",
              "custom", (Cell("plain"),)),
    ]
    # One ConvLSTM per rank, between them "same" and "valid" padding, strides and dilation
    # (Keras rejects strides > 1 together with dilation > 1).
    out += [
        Entry("ConvLSTM1D", "ConvLSTM1D(units, 3, padding='same', dilation_rate=2) on (B, T, 5, F)",
              "conv", (Cell("lstm"),), conv_rank=1, padding="same", dilation_rate=2),
        Entry("ConvLSTM2D", "ConvLSTM2D(units, 3, padding='valid') on (B, T, 5, 4, F)", "conv",
              (Cell("lstm"),), conv_rank=2, padding="valid"),
        Entry("ConvLSTM3D", "ConvLSTM3D(units, 3, padding='same', strides=2) on (B, T, 5, 4, 3, F)",
              "conv", (Cell("lstm"),), conv_rank=3, padding="same", strides=2),
        # data_format="channels_first": channels after time in the input, after batch in the
        # output and states (tests/test_conv_geometry.py crosses it with the other arguments)
        Entry("ConvLSTM2D_channels_first",
              "ConvLSTM2D(units, 3, padding='same', data_format='channels_first') on (B, T, F, 5, 4)",
              "conv", (Cell("lstm"),), conv_rank=2, padding="same", data_format="channels_first"),
    ]
    return tuple(out)


ENTRIES: tuple[Entry, ...] = _entries()
BY_ID: dict[str, Entry] = {e.id: e for e in ENTRIES}

# Option tests run on one shape in the default lane -- several rows, T=4 (masks need T >= 2 and
# rows that differ) -- and, with --full, also on the notebook's and a long one (T=7, F=2, U=6).
OPTION_SHAPES = (SHAPES[1],)
OPTION_SHAPES_FULL = (SHAPES[0], SHAPES[1], SHAPES[3])
MASK_SHAPES = (SHAPES[1],)
MASK_SHAPES_FULL = (SHAPES[1], SHAPES[3])
# Named sets for @pytest.mark.shapes("options"): (default lane, --full lane).
# "notebook": a test whose claim needs one shape (a round trip) -- the notebook's in both lanes;
# named, so the default lane's option rule (in_default_option_lane) applies to it too.
SHAPE_SETS = {
    "options": (OPTION_SHAPES, OPTION_SHAPES_FULL),
    "masks": (MASK_SHAPES, MASK_SHAPES_FULL),
    "notebook": ((NOTEBOOK_SHAPE,), (NOTEBOOK_SHAPE,)),
}



def in_default_option_lane(entry: "Entry") -> bool:
    """Option tests (a named shape set) in the default lane skip Bidirectional's sum/ave/mul: an
    option, or a serialization round trip, acts on the wrapped layers the same way whatever the
    merge, and concat and None cover both output structures (the explicit-backward entries: concat
    alone, the symmetric ones cover None's structure). --full runs them all."""
    if entry.asymmetric:
        return entry.merge_mode == "concat"
    return not (entry.bidirectional and entry.merge_mode in ("sum", "ave", "mul"))


def sweeps_every_shape(entry: "Entry") -> bool:
    """Whether the default lane runs the entry on every shape of SHAPES in the families that sweep
    them (structure, symbolic, identities, values, devices: a test with no ``shapes`` marker).
    The user-defined cells, the explicit-backward Bidirectional entries, the channels_first
    ConvLSTM and Bidirectional's sum/ave/mul merges run there on the notebook's shape and the option shape (several rows, T=4)
    -- what they add is a code path, not a shape; the built-in layers' sweep (concat and None for
    Bidirectional) covers the shapes. --full runs them on every shape too."""
    return not (entry.custom or entry.asymmetric or entry.data_format != "channels_last"
                or not in_default_option_lane(entry))


DEFAULT_LANE_SHAPES = (NOTEBOOK_SHAPE, *OPTION_SHAPES)  # what the code-path entries sweep


def in_default_shape_lane(entry: "Entry", shape: Shape) -> bool:
    return sweeps_every_shape(entry) or shape in DEFAULT_LANE_SHAPES


# Masks: the oracle has no ConvLSTM masking.
MASK_ENTRIES = tuple(e for e in ENTRIES if e.form != "conv")
