"""Independent float64 NumPy reference for Keras recurrent layers.

Written from the published cell equations (SimpleRNN, LSTM with gate order
i, f, c, o; GRU with gate order z, r, h in both ``reset_after`` variants) and
the documented options (masking, ``go_backwards``, ``zero_output_for_mask``,
``initial_state``, stacked cells, ``Bidirectional`` merge modes). It imports
only NumPy and the standard library -- no Keras, TensorFlow, JAX or PyTorch --
and computes everything in float64, so it can judge any backend's float32
result.

Masking follows the Keras generic loop: at a masked step every state keeps
its previous value and the sequence output repeats the previous step's output
(zeros before the first step: the documentation leaves that open, and
``leading_output`` picks; see rnnconf/spec/unspecified.py), or is zeros with
``zero_output_for_mask``.
``Result.last_output`` follows the documentation: ``zero_output_for_mask``
only affects the sequence, so the last output is the output after the last
unmasked step (zeros if a row has no unmasked step at all). ``bidirectional`` zeroes masked
steps of its sequence, as Keras's Bidirectional documents (it forces each
half's ``zero_output_for_mask`` to ``return_sequences``).

``conv_lstm`` is the ConvLSTM1D/2D/3D reference (channels_last, no mask): the
LSTM equations with both matrix products replaced by N-dimensional
cross-correlations written here in NumPy. The input convolution uses the
layer's ``padding``, ``strides`` and ``dilation_rate`` and adds the bias; the
recurrent convolution is always ``padding="same"``, stride 1, no dilation, no
bias, on the output grid. ``"same"`` pads as TensorFlow does: out = ceil(in /
stride), pad_total = max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0),
pad_total // 2 before and the rest after (so an even kernel pads one more
after than before; ``odd_padding="before"`` swaps the two, see rnnconf/spec/unspecified.py).
"""

from __future__ import annotations

import dataclasses

import numpy as np

_GATES = {"simple": 1, "lstm": 4, "gru": 3}


def _hard_sigmoid_6(v):
    return np.clip(v / 6.0 + 0.5, 0.0, 1.0)


def _hard_sigmoid_5(v):
    return np.clip(0.2 * v + 0.5, 0.0, 1.0)


# Activations by their definition, not by a library's name for them: ``activation`` applies to
# the candidate (and, for LSTM, to the cell state before the output gate), ``recurrent_activation``
# to the gates. Keras 3 and tf-keras define "hard_sigmoid" differently, each in its docstring:
# Keras 3 ``x / 6 + 0.5`` clipped (0 at x <= -3, 1 at x >= 3), tf-keras ``0.2 x + 0.5`` clipped
# (0 below -2.5, 1 above 2.5); the caller maps a name to its implementation's definition.
# ``half_tanh`` is the suite's own callable activation (``0.5 * tanh``), defined nowhere in Keras.
ACTIVATIONS = {
    "tanh": np.tanh,
    "sigmoid": lambda v: _sigmoid(v),  # defined below, overflow-safe
    "relu": lambda v: np.maximum(v, 0.0),
    "linear": lambda v: v,
    "hard_sigmoid_x/6+0.5": _hard_sigmoid_6,
    "hard_sigmoid_0.2x+0.5": _hard_sigmoid_5,
    "half_tanh": lambda v: 0.5 * np.tanh(v),
}


def _activation(name: str):
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; the oracle knows {sorted(ACTIVATIONS)}") from None

# The suite's user-defined cells (rnnconf/impl/cells.py documents them; these are their twins, written
# from the same equations): weight shapes in creation order, as functions of (input_dim, units).
CUSTOM_WEIGHTS = {
    "proj": lambda f, u: [(f, u), (u, u), (u,), (u, u + 1)],
    "two": lambda f, u: [(f, u), (u, u), (u + 2, u), (f, u + 2), (u + 2, u + 2), (u, u + 2)],
    "nested": lambda f, u: [(f, u), (u, u), (u + 1, u), (f, u + 1), (u + 1, u + 1), (f, u + 2),
                            (u + 2, u + 2), (u, u + 2)],
    "init": lambda f, u: [(f, u), (u, u), (u,)],
    "plain": lambda f, u: [(f, u), (u, u)],
}
# Flat state sizes as offsets from units; the output's offset; the default initial state's value.
CUSTOM_STATES = {"proj": (0,), "two": (0, 2), "nested": (0, 1, 2), "init": (0,), "plain": (0,)}
CUSTOM_OUTPUT_OFFSET = {"proj": 1}
CUSTOM_INITIAL_VALUE = {"init": 0.5}


@dataclasses.dataclass(frozen=True)
class CellSpec:
    kind: str  # "simple" | "lstm" | "gru"
    units: int
    reset_after: bool = True  # GRU only
    use_bias: bool = True
    activation: str = "tanh"  # keys of ACTIVATIONS (the built-in cells only)
    recurrent_activation: str = "sigmoid"  # LSTM and GRU gates

    def __post_init__(self):
        if self.kind not in _GATES and self.kind not in CUSTOM_WEIGHTS:
            raise ValueError(f"unknown cell kind {self.kind!r}")
        _activation(self.activation), _activation(self.recurrent_activation)

    @property
    def custom(self) -> bool:
        return self.kind in CUSTOM_WEIGHTS

    @property
    def state_sizes(self) -> list[int]:
        if self.custom:
            return [self.units + off for off in CUSTOM_STATES[self.kind]]
        return [self.units] * (2 if self.kind == "lstm" else 1)

    @property
    def output_units(self) -> int:
        return self.units + CUSTOM_OUTPUT_OFFSET.get(self.kind, 0)


@dataclasses.dataclass
class Result:
    sequence: np.ndarray  # (B, T, U) of the last cell, in processing order
    last_output: np.ndarray  # (B, U): what return_sequences=False returns
    states: list[list[np.ndarray]]  # per cell, its final states: [h] or [h, c]


@dataclasses.dataclass
class BiResult:
    sequence: np.ndarray | tuple[np.ndarray, np.ndarray]  # merged, or (fw, bw) if merge_mode is None
    last_output: np.ndarray | tuple[np.ndarray, np.ndarray]
    forward_states: list[np.ndarray]
    backward_states: list[np.ndarray]


def weight_shapes(spec: CellSpec, input_dim: int) -> list[tuple[int, ...]]:
    if spec.custom:
        return CUSTOM_WEIGHTS[spec.kind](input_dim, spec.units)
    g, u = _GATES[spec.kind], spec.units
    shapes = [(input_dim, g * u), (u, g * u)]
    if spec.use_bias:
        two_rows = spec.kind == "gru" and spec.reset_after
        shapes.append((2, g * u) if two_rows else (g * u,))
    return shapes


def state_count(spec: CellSpec) -> int:
    return len(spec.state_sizes)


def random_weights(specs: list[CellSpec], input_dim: int, rng: np.random.Generator,
                   scale=0.5) -> list[np.ndarray]:
    out, dim = [], input_dim
    for spec in _as_list(specs):
        for shape in weight_shapes(spec, dim):
            out.append(rng.uniform(-scale, scale, size=shape).astype(np.float32))
        dim = spec.output_units
    return out


def _as_list(specs):
    return [specs] if isinstance(specs, CellSpec) else list(specs)


def _sigmoid(v):
    # the logistic 1 / (1 + exp(-v)), written via the identity with tanh so
    # that large |v| cannot overflow exp
    return 0.5 * (1.0 + np.tanh(0.5 * v))


def _split_weights(specs, weights, input_dim):
    """Cut the flat get_weights() list into per-cell (W, U, b) float64 triples."""
    weights = [np.asarray(w, np.float64) for w in weights]
    cells, pos, dim = [], 0, input_dim
    for spec in specs:
        shapes = weight_shapes(spec, dim)
        chunk = weights[pos:pos + len(shapes)]
        if [w.shape for w in chunk] != shapes:
            raise ValueError(f"weights for {spec} should have shapes {shapes}, "
                             f"got {[w.shape for w in chunk]}")
        pos += len(shapes)
        dim = spec.output_units
        if spec.custom:
            cells.append(tuple(chunk))
            continue
        W, U = chunk[0], chunk[1]
        if spec.use_bias:
            b = chunk[2]
        else:  # a zero bias of the shape use_bias=True would have
            b = np.zeros(weight_shapes(dataclasses.replace(spec, use_bias=True), dim)[2])
        cells.append((W, U, b))
    if pos != len(weights):
        raise ValueError(f"{len(weights) - pos} unused weight arrays")
    return cells


def _custom_step(kind, w, x, states):
    """One step of a user-defined cell (rnnconf/impl/cells.py): (output, new flat states)."""
    if kind in ("proj", "init", "plain"):
        h = np.tanh(x @ w[0] + states[0] @ w[1] + (w[2] if kind != "plain" else 0.0))
        return (h @ w[3] if kind == "proj" else h), [h]
    if kind == "two":
        s1 = np.tanh(x @ w[0] + states[0] @ w[1] + states[1] @ w[2])
        s2 = np.tanh(x @ w[3] + states[1] @ w[4] + s1 @ w[5])
        return s1, [s1, s2]
    h, a, b = states  # nested: h, [a, b]
    nh = np.tanh(x @ w[0] + h @ w[1] + a @ w[2])
    na = np.tanh(x @ w[3] + a @ w[4])
    nb = np.tanh(x @ w[5] + b @ w[6] + nh @ w[7])
    return nh, [nh, na, nb]


def _cell_step(spec, wub, x, states):
    """One time step of one cell: returns (output, new_states)."""
    if spec.custom:
        return _custom_step(spec.kind, wub, x, states)
    W, U, b = wub
    u = spec.units
    act, gate = _activation(spec.activation), _activation(spec.recurrent_activation)
    if spec.kind == "simple":
        h = act(x @ W + b + states[0] @ U)
        return h, [h]
    if spec.kind == "lstm":
        h, c = states
        z = x @ W + h @ U + b
        i, f, g, o = (z[:, k * u:(k + 1) * u] for k in range(4))
        c = gate(f) * c + gate(i) * act(g)
        h = gate(o) * act(c)
        return h, [h, c]
    # GRU, gate order z, r, h
    h = states[0]
    Wz, Wr, Wh = W[:, :u], W[:, u:2 * u], W[:, 2 * u:]
    Uz, Ur, Uh = U[:, :u], U[:, u:2 * u], U[:, 2 * u:]
    if spec.reset_after:
        bi, br = b[0], b[1]
        z = gate(x @ Wz + bi[:u] + h @ Uz + br[:u])
        r = gate(x @ Wr + bi[u:2 * u] + h @ Ur + br[u:2 * u])
        hh = act(x @ Wh + bi[2 * u:] + r * (h @ Uh + br[2 * u:]))
    else:
        z = gate(x @ Wz + h @ Uz + b[:u])
        r = gate(x @ Wr + h @ Ur + b[u:2 * u])
        hh = act(x @ Wh + b[2 * u:] + (r * h) @ Uh)
    h = z * h + (1.0 - z) * hh
    return h, [h]


LEADING_OUTPUTS = ("zeros", "first_state")  # see rnnconf/spec/unspecified.py


def rnn(specs: list[CellSpec], weights: list[np.ndarray], x, *, initial_state=None,
        mask=None, go_backwards=False, zero_output_for_mask=False, leading_output="zeros") -> Result:
    """Run a stack of cells over x (B, T, F); see the module docstring for masking.
    ``leading_output``: what a masked step before a row's first unmasked step outputs, which the
    documentation leaves open -- ``zeros`` or the ``first_state`` of the output cell (the last)."""
    specs = _as_list(specs)
    x = np.asarray(x, np.float64)
    if x.ndim != 3:
        raise ValueError(f"x must be (batch, time, features), got {x.shape}")
    B, T, F = x.shape
    cells = _split_weights(specs, weights, F)

    # Per-cell state lists, from the flat initial_state (or zeros).
    n_states = [state_count(s) for s in specs]
    if initial_state is None:  # zeros, or what a user-defined cell's get_initial_state gives
        flat = [np.full((B, size), CUSTOM_INITIAL_VALUE.get(s.kind, 0.0))
                for s in specs for size in s.state_sizes]
    else:
        flat = [np.asarray(s, np.float64) for s in initial_state]
        if len(flat) != sum(n_states):
            raise ValueError(f"expected {sum(n_states)} initial states, got {len(flat)}")
    states, pos = [], 0
    for n in n_states:
        states.append([s.copy() for s in flat[pos:pos + n]])
        pos += n

    mask = np.ones((B, T), bool) if mask is None else np.asarray(mask, bool)
    if mask.shape != (B, T):
        raise ValueError(f"mask must be {(B, T)}, got {mask.shape}")
    if go_backwards:
        x, mask = x[:, ::-1], mask[:, ::-1]

    U_last = specs[-1].output_units
    if leading_output not in LEADING_OUTPUTS:
        raise ValueError(f"leading_output must be one of {LEADING_OUTPUTS}, got {leading_output!r}")
    if leading_output == "zeros":
        prev_out = np.zeros((B, U_last))  # repeated at masked steps
    elif states[-1][0].shape == (B, U_last):  # the output cell's first state: its h0
        prev_out = states[-1][0].copy()
    else:
        raise ValueError(f"leading_output='first_state' needs an output cell whose first state has the "
                         f"output's shape {(B, U_last)}, got {states[-1][0].shape}")
    seq = np.zeros((B, T, U_last))
    for t in range(T):
        m = mask[:, t][:, None]
        inp = x[:, t]
        for k, (spec, wub) in enumerate(zip(specs, cells)):
            inp, new = _cell_step(spec, wub, inp, states[k])
            states[k] = [np.where(m, n_, o_) for n_, o_ in zip(new, states[k])]
        out = np.where(m, inp, prev_out)
        seq[:, t] = np.where(m, inp, 0.0) if zero_output_for_mask else out
        prev_out = out
    return Result(sequence=seq, last_output=prev_out, states=states)


def _merge(a, b, mode):
    if mode == "concat":
        return np.concatenate([a, b], axis=-1)
    if mode == "sum":
        return a + b
    if mode == "ave":
        return (a + b) / 2.0
    if mode == "mul":
        return a * b
    if mode is None:
        return (a, b)
    raise ValueError(f"unknown merge_mode {mode!r}")


def bidirectional(spec_fw, w_fw, spec_bw, w_bw, x, *, merge_mode="concat",
                  initial_state=None, mask=None, leading_output="zeros") -> BiResult:
    """Keras Bidirectional: specs may be one CellSpec or a list (stacked cells)."""
    spec_fw, spec_bw = _as_list(spec_fw), _as_list(spec_bw)
    init_fw = init_bw = None
    if initial_state is not None:
        n_fw = sum(state_count(s) for s in spec_fw)
        init_fw, init_bw = list(initial_state[:n_fw]), list(initial_state[n_fw:])
    # Keras documents (and both Keras 3 and tf-keras enforce) that Bidirectional
    # sets each half's zero_output_for_mask to its return_sequences: masked steps
    # of the sequence are zeros. last_output is unaffected (see module docstring).
    fw = rnn(spec_fw, w_fw, x, initial_state=init_fw, mask=mask, zero_output_for_mask=True,
             leading_output=leading_output)
    bw = rnn(spec_bw, w_bw, x, initial_state=init_bw, mask=mask, go_backwards=True,
             zero_output_for_mask=True, leading_output=leading_output)
    return BiResult(
        sequence=_merge(fw.sequence, bw.sequence[:, ::-1], merge_mode),
        last_output=_merge(fw.last_output, bw.last_output, merge_mode),
        forward_states=[s for cell in fw.states for s in cell],
        backward_states=[s for cell in bw.states for s in cell],
    )


# ---------------------------------------------------------------- ConvLSTM


def _int_tuple(value, rank, name, default=None):
    if value is None:
        value = default
    if isinstance(value, (int, np.integer)):
        value = (int(value),) * rank
    value = tuple(int(v) for v in value)
    if len(value) != rank or any(v < 1 for v in value):
        raise ValueError(f"{name} must be {rank} positive integers, got {value}")
    return value


@dataclasses.dataclass(frozen=True)
class ConvSpec:
    """A ConvLSTM{rank}D layer: the arguments that change what it computes.

    ``kernel_size``, ``strides`` and ``dilation_rate`` accept an int (repeated
    ``rank`` times) or a tuple; ``strides`` and ``dilation_rate`` default to all
    ones. As in Keras, strides > 1 together with dilation_rate > 1 is an error.
    """
    rank: int  # 1, 2 or 3
    filters: int
    kernel_size: tuple[int, ...]
    padding: str = "valid"  # "same" | "valid" (case-insensitive, stored lower-case)
    strides: tuple[int, ...] = None  # default all 1
    dilation_rate: tuple[int, ...] = None  # default all 1
    use_bias: bool = True
    activation: str = "tanh"  # keys of ACTIVATIONS
    recurrent_activation: str = "sigmoid"
    # "channels_last": (B, T, *spatial, C); "channels_first": (B, T, C, *spatial), and the
    # states (B, filters, *spatial). The weights are laid out the same either way.
    data_format: str = "channels_last"

    def __post_init__(self):
        _activation(self.activation), _activation(self.recurrent_activation)
        if self.data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got {self.data_format!r}")
        if self.rank not in (1, 2, 3):
            raise ValueError(f"rank must be 1, 2 or 3, got {self.rank!r}")
        if self.filters < 1:
            raise ValueError(f"filters must be positive, got {self.filters}")
        set_ = lambda name, v: object.__setattr__(self, name, v)
        set_("kernel_size", _int_tuple(self.kernel_size, self.rank, "kernel_size"))
        set_("strides", _int_tuple(self.strides, self.rank, "strides", 1))
        set_("dilation_rate", _int_tuple(self.dilation_rate, self.rank, "dilation_rate", 1))
        padding = self.padding.lower() if isinstance(self.padding, str) else self.padding
        if padding not in ("same", "valid"):
            raise ValueError(f"padding must be 'same' or 'valid', got {self.padding!r}")
        set_("padding", padding)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"strides > 1 together with dilation_rate > 1 is not supported "
                             f"(strides={self.strides}, dilation_rate={self.dilation_rate})")


def conv_weight_shapes(spec: ConvSpec, in_channels: int) -> list[tuple[int, ...]]:
    """get_weights() shapes: kernel, recurrent kernel (gate order i, f, c, o), bias."""
    k, f = spec.kernel_size, spec.filters
    shapes = [k + (in_channels, 4 * f), k + (f, 4 * f)]
    if spec.use_bias:
        shapes.append((4 * f,))
    return shapes


def _conv_out_size(n, k, stride, dilation, padding):
    if padding == "same":
        return -(-n // stride)  # ceil(n / stride)
    return (n - dilation * (k - 1) - 1) // stride + 1


def conv_output_spatial(spec: ConvSpec, spatial: tuple[int, ...]) -> tuple[int, ...]:
    """Spatial shape of the output (and of both states) for an input of spatial shape ``spatial``."""
    spatial = tuple(int(n) for n in spatial)
    if len(spatial) != spec.rank:
        raise ValueError(f"a rank-{spec.rank} ConvLSTM needs {spec.rank} spatial dims, got {spatial}")
    out = tuple(_conv_out_size(n, k, s, d, spec.padding) for n, k, s, d in
                zip(spatial, spec.kernel_size, spec.strides, spec.dilation_rate))
    if any(o < 1 for o in out):
        raise ValueError(f"output size would be {out} for spatial {spatial} with {spec}")
    return out


ODD_PADDINGS = ("after", "before")  # see rnnconf/spec/unspecified.py


def _conv(x, w, strides, dilation, padding, odd_padding="after"):
    """N-D cross-correlation, channels_last: x (B, *S, C), w (*K, C, F) -> (B, *O, F).

    For each kernel offset, take the strided, dilated slice of the (padded)
    input that this offset sees at every output position and add slice @ w[offset].
    """
    spatial, ksize = x.shape[1:-1], w.shape[:-2]
    out = [_conv_out_size(n, k, s, d, padding) for n, k, s, d in zip(spatial, ksize, strides, dilation)]
    if padding == "same":  # TensorFlow's convention: the odd padding element goes after
        pads = []
        for n, o, k, s, d in zip(spatial, out, ksize, strides, dilation):
            total = max((o - 1) * s + (k - 1) * d + 1 - n, 0)
            small, large = total // 2, total - total // 2
            pads.append((small, large) if odd_padding == "after" else (large, small))
        x = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    y = np.zeros((x.shape[0], *out, w.shape[-1]))
    for offset in np.ndindex(*ksize):
        window = tuple(slice(j * d, j * d + (o - 1) * s + 1, s)
                       for j, o, s, d in zip(offset, out, strides, dilation))
        y += x[(slice(None),) + window] @ w[offset]
    return y


def _channels_last(a, rank: int, data_format: str, time_axis: bool):
    """``a`` with its channel axis moved last (from just after batch, or batch and time)."""
    if data_format == "channels_last":
        return a
    first = 2 if time_axis else 1
    return np.moveaxis(a, first, first + rank)


def _channels_first(a, rank: int, time_axis: bool):
    first = 2 if time_axis else 1
    return np.moveaxis(a, first + rank, first)


def conv_lstm(spec: ConvSpec, weights: list, x, *, initial_state=None,
              go_backwards=False, odd_padding="after") -> Result:
    """ConvLSTM over x in ``spec.data_format``: computed channels_last, and with
    ``"channels_first"`` the input and initial states are read, and the results returned, with
    the channel axis after batch (and time). See :func:`_conv_lstm_channels_last`."""
    x = np.asarray(x, np.float64)
    if spec.data_format == "channels_last" or x.ndim != spec.rank + 3:
        return _conv_lstm_channels_last(spec, weights, x, initial_state=initial_state,
                                        go_backwards=go_backwards, odd_padding=odd_padding)
    x = _channels_last(x, spec.rank, spec.data_format, True)
    if initial_state is not None:
        initial_state = [_channels_last(np.asarray(s, np.float64), spec.rank, spec.data_format, False)
                         for s in initial_state]
    res = _conv_lstm_channels_last(spec, weights, x, initial_state=initial_state,
                                   go_backwards=go_backwards, odd_padding=odd_padding)
    h, c = (_channels_first(s, spec.rank, False) for s in res.states[0])
    return Result(sequence=_channels_first(res.sequence, spec.rank, True), last_output=h, states=[[h, c]])


def _conv_lstm_channels_last(spec: ConvSpec, weights: list, x, *, initial_state=None,
                             go_backwards=False, odd_padding="after") -> Result:
    """ConvLSTM over x (B, T, *spatial, C), channels_last; weights = [kernel, recurrent_kernel, bias].
    ``odd_padding``: which side of a ``"same"`` input convolution gets the odd padding element
    (the documentation leaves it open; TensorFlow's convention is ``after``).

    Returns a Result whose sequence is (B, T, *out_spatial, filters) in
    processing order, last_output the final h and states [[h, c]].
    """
    x = np.asarray(x, np.float64)
    if x.ndim != spec.rank + 3:
        raise ValueError(f"x must be (batch, time, {spec.rank} spatial dims, channels) for a "
                         f"rank-{spec.rank} ConvLSTM, got {x.shape}")
    B, T, spatial, C = x.shape[0], x.shape[1], x.shape[2:-1], x.shape[-1]
    shapes = conv_weight_shapes(spec, C)
    weights = [np.asarray(w, np.float64) for w in weights]
    if [w.shape for w in weights] != shapes:
        raise ValueError(f"weights for {spec} on {C} input channels should have shapes {shapes}, "
                         f"got {[w.shape for w in weights]}")
    W, U = weights[0], weights[1]
    b = weights[2] if spec.use_bias else np.zeros(4 * spec.filters)
    f = spec.filters
    state_shape = (B, *conv_output_spatial(spec, spatial), f)
    if initial_state is None:
        h, c = np.zeros(state_shape), np.zeros(state_shape)
    else:
        states = [np.asarray(s, np.float64) for s in initial_state]
        if len(states) != 2 or any(s.shape != state_shape for s in states):
            raise ValueError(f"initial_state must be [h, c], each of shape {state_shape}, "
                             f"got {[s.shape for s in states]}")
        h, c = (s.copy() for s in states)
    if odd_padding not in ODD_PADDINGS:
        raise ValueError(f"odd_padding must be one of {ODD_PADDINGS}, got {odd_padding!r}")
    if go_backwards:
        x = x[:, ::-1]
    ones = (1,) * spec.rank
    act, gate = _activation(spec.activation), _activation(spec.recurrent_activation)
    seq = np.zeros((B, T) + state_shape[1:])
    for t in range(T):
        z = (_conv(x[:, t], W, spec.strides, spec.dilation_rate, spec.padding, odd_padding) + b
             + _conv(h, U, ones, ones, "same"))
        i, fg, g, o = (z[..., k * f:(k + 1) * f] for k in range(4))  # gate order i, f, c, o
        c = gate(fg) * c + gate(i) * act(g)
        h = gate(o) * act(c)
        seq[:, t] = h
    return Result(sequence=seq, last_output=h, states=[[h, c]])
