"""The NumPy oracle against PyTorch's recurrent layers, in float64, to 1e-12.

PyTorch's ``torch.nn.RNN`` (tanh), ``torch.nn.LSTM`` and ``torch.nn.GRU`` share
no code with Keras, so agreement here is evidence that the oracle's equations
(not only its reading of Keras) are right. Every weight is drawn per gate from
a seeded uniform(-0.5, 0.5), so a swapped gate, a transposed matrix or a bias
in the wrong place cannot cancel out.

Weight mapping, Keras layout (what the oracle takes) -> torch parameters, for
``u`` units and gate blocks of ``u`` columns each:

- kernel ``(in, g*u)`` -> ``weight_ih_l{k}`` ``(g*u, in)`` = ``kernel.T`` with its
  gate blocks reordered; recurrent kernel ``(u, g*u)`` -> ``weight_hh_l{k}``
  ``(g*u, u)`` = ``recurrent_kernel.T``, reordered the same way.
- gate order: SimpleRNN has one block. LSTM: Keras ``i, f, c, o`` is torch
  ``i, f, g, o`` -- the same order. GRU: Keras ``z, r, h`` against torch
  ``r, z, n``: torch block 0 is Keras block 1, torch block 1 is Keras block 0,
  block 2 stays.
- bias: SimpleRNN and LSTM ``(g*u,)`` -> ``bias_ih_l{k}`` (reordered), with
  ``bias_hh_l{k}`` zero (torch adds both, Keras has one). GRU with
  ``reset_after=True`` ``(2, 3u)`` -> ``bias_ih`` = row 0 (input), ``bias_hh`` =
  row 1 (recurrent), each permuted. ``use_bias=False`` -> ``bias=False``.
- the reverse direction of ``bidirectional=True`` has the same parameters with
  the suffix ``_reverse``; layer ``k`` of ``num_layers=2`` the suffix ``_l{k}``.
- states: torch ``h_0``/``h_n`` (and ``c_0``/``c_n``) are ``(layers * directions,
  batch, u)``, layer-major, forward before backward.

torch's GRU is Keras's ``reset_after=True`` (the default): torch computes
``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))`` and ``h' = (1 - z) * n + z * h``.
Keras's ``reset_after=False`` (``r`` multiplies ``h`` before the matrix product) has
no torch counterpart and is not checked here.

torch returns a bidirectional sequence with the backward half in time order,
as Keras's ``merge_mode="concat"`` does. For packed (variable-length) input
torch zero-fills the padded steps of its output, so only the valid steps are
compared; the final states are those after each row's last valid step, which is
what the oracle's right-padded mask gives.
"""

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is not installed: pip install torch==2.13.0 (or pip install -e '.[torch]')")

from rnnconf.spec import oracle  # noqa: E402
from rnnconf.spec.oracle import CellSpec  # noqa: E402

TOL = dict(rtol=1e-12, atol=1e-12)
SHAPES = [(1, 4, 5, 3), (3, 6, 2, 4), (2, 1, 3, 2)]  # (batch, T, features, units)
SHAPE_IDS = ["B%d-T%d-F%d-U%d" % s for s in SHAPES]
KINDS = ["simple", "lstm", "gru"]
TORCH_CLASS = {"simple": "RNN", "lstm": "LSTM", "gru": "GRU"}
GATE_ORDER = {"simple": [0], "lstm": [0, 1, 2, 3], "gru": [1, 0, 2]}  # torch block k = Keras block GATE_ORDER[k]


def keras_weights(spec, input_dim, rng):
    """Per-gate random float64 weights in the Keras get_weights() layout."""
    return [rng.uniform(-0.5, 0.5, size=shape) for shape in oracle.weight_shapes(spec, input_dim)]


def torch_layer(kind, input_dim, units, *, num_layers=1, bidirectional=False, bias=True, nonlinearity="tanh"):
    cls = getattr(torch.nn, TORCH_CLASS[kind])
    kw = dict(nonlinearity=nonlinearity) if kind == "simple" else {}
    return cls(input_dim, units, num_layers=num_layers, bidirectional=bidirectional, bias=bias,
               batch_first=True, dtype=torch.float64, **kw)


def load(module, spec, weights, suffix):
    """Copy one Keras cell's (kernel, recurrent_kernel[, bias]) into torch parameters *suffix* (e.g. 'l0_reverse')."""
    u = spec.units
    idx = np.concatenate([np.arange(k * u, (k + 1) * u) for k in GATE_ORDER[spec.kind]])
    params = {"weight_ih": weights[0][:, idx].T, "weight_hh": weights[1][:, idx].T}
    if spec.use_bias:
        b = weights[2]
        if b.ndim == 2:  # GRU reset_after=True: row 0 input bias, row 1 recurrent bias
            params["bias_ih"], params["bias_hh"] = b[0][idx], b[1][idx]
        else:
            params["bias_ih"], params["bias_hh"] = b[idx], np.zeros(b.shape)
    with torch.no_grad():
        for name, value in params.items():
            getattr(module, f"{name}_{suffix}").copy_(torch.from_numpy(np.ascontiguousarray(value)))


def run_torch(module, x, states=None, lengths=None):
    """Returns (sequence, [h_n] or [h_n, c_n]) as NumPy; states are torch-layout (layers*dirs, B, u) arrays."""
    inp = torch.from_numpy(x)
    if lengths is not None:
        inp = torch.nn.utils.rnn.pack_padded_sequence(inp, torch.tensor(lengths), batch_first=True,
                                                      enforce_sorted=False)
    hx = None
    if states is not None:
        hx = tuple(torch.from_numpy(s) for s in states)
        hx = hx if len(hx) == 2 else hx[0]
    with torch.no_grad():
        out, final = module(inp, hx)
    if lengths is not None:
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    final = list(final) if isinstance(final, tuple) else [final]
    return out.numpy(), [s.numpy() for s in final]


def close(actual, expected):
    np.testing.assert_allclose(actual, expected, **TOL)


def case(kind, dims, seed, use_bias=True):
    B, T, F, U = dims
    rng = np.random.default_rng(seed)
    spec = CellSpec(kind, U, use_bias=use_bias)
    return spec, rng, rng.uniform(-1.0, 1.0, size=(B, T, F))


def random_states(rng, n_sets, spec, B):
    """n_sets sets (layers or directions) of [h] or [h, c], flat in the oracle's order."""
    return [rng.uniform(-1.0, 1.0, size=(B, spec.units))
            for _ in range(n_sets) for _ in range(oracle.state_count(spec))]


def torch_states(flat, n_sets):
    """The oracle's flat [h1, c1, h2, c2, ...] as torch's (h_0, c_0), each (n_sets, B, u)."""
    k = len(flat) // n_sets
    return [np.stack(flat[j::k]) for j in range(k)]


@pytest.mark.parametrize("dims", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("init", ["zero_state", "initial_state"])
def test_single_layer(kind, dims, init):
    spec, rng, x = case(kind, dims, seed=1)
    w = keras_weights(spec, dims[2], rng)
    init_flat = random_states(rng, 1, spec, dims[0]) if init == "initial_state" else None
    ref = oracle.rnn([spec], w, x, initial_state=init_flat)
    module = torch_layer(kind, dims[2], spec.units)
    load(module, spec, w, "l0")
    seq, final = run_torch(module, x, torch_states(init_flat, 1) if init_flat else None)
    close(seq, ref.sequence)
    for got, want in zip(final, ref.states[0]):  # h (and c)
        close(got[0], want)
    assert len(final) == oracle.state_count(spec)


@pytest.mark.parametrize("kind", KINDS)
def test_no_bias(kind):
    dims = SHAPES[1]
    spec, rng, x = case(kind, dims, seed=2, use_bias=False)
    w = keras_weights(spec, dims[2], rng)
    ref = oracle.rnn([spec], w, x)
    module = torch_layer(kind, dims[2], spec.units, bias=False)
    load(module, spec, w, "l0")
    seq, final = run_torch(module, x)
    close(seq, ref.sequence)
    close(final[0][0], ref.states[0][0])


@pytest.mark.parametrize("dims", SHAPES, ids=SHAPE_IDS)
def test_simple_rnn_relu(dims):
    """activation='relu': torch's RNN(nonlinearity='relu') is the same equation."""
    spec, rng, x = case("simple", dims, seed=4)
    spec = CellSpec("simple", spec.units, activation="relu")
    w = keras_weights(spec, dims[2], rng)
    ref = oracle.rnn([spec], w, x)
    module = torch_layer("simple", dims[2], spec.units, nonlinearity="relu")
    load(module, spec, w, "l0")
    seq, final = run_torch(module, x)
    close(seq, ref.sequence)
    close(final[0][0], ref.states[0][0])
    # relu is not tanh here: some pre-activation is outside relu's and tanh's agreement
    assert not np.allclose(ref.sequence, oracle.rnn([CellSpec("simple", spec.units)], w, x).sequence)


@pytest.mark.parametrize("dims", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("kind", KINDS)
def test_bidirectional(kind, dims):
    spec, rng, x = case(kind, dims, seed=3)
    w_fw, w_bw = keras_weights(spec, dims[2], rng), keras_weights(spec, dims[2], rng)
    init_flat = random_states(rng, 2, spec, dims[0])  # forward's states, then backward's
    ref = oracle.bidirectional(spec, w_fw, spec, w_bw, x, merge_mode="concat", initial_state=init_flat)
    module = torch_layer(kind, dims[2], spec.units, bidirectional=True)
    load(module, spec, w_fw, "l0")
    load(module, spec, w_bw, "l0_reverse")
    seq, final = run_torch(module, x, torch_states(init_flat, 2))
    close(seq, ref.sequence)
    for j, (fw, bw) in enumerate(zip(ref.forward_states, ref.backward_states)):
        close(final[j][0], fw)
        close(final[j][1], bw)


@pytest.mark.parametrize("dims", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("kind", KINDS)
def test_two_layers_equal_stacked_cells(kind, dims):
    spec, rng, x = case(kind, dims, seed=4)
    w1, w2 = keras_weights(spec, dims[2], rng), keras_weights(spec, spec.units, rng)
    init_flat = random_states(rng, 2, spec, dims[0])  # layer 1's states, then layer 2's
    ref = oracle.rnn([spec, spec], w1 + w2, x, initial_state=init_flat)
    module = torch_layer(kind, dims[2], spec.units, num_layers=2)
    load(module, spec, w1, "l0")
    load(module, spec, w2, "l1")
    seq, final = run_torch(module, x, torch_states(init_flat, 2))
    close(seq, ref.sequence)
    for layer in range(2):
        for got, want in zip(final, ref.states[layer]):
            close(got[layer], want)


LENGTHS = [6, 3, 1, 4]  # unsorted: pack_padded_sequence(enforce_sorted=False)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bidirectional"])
def test_packed_right_padded_equals_mask(kind, bidirectional):
    spec, rng, x = case(kind, (len(LENGTHS), 6, 3, 2), seed=5)
    n_dirs = 2 if bidirectional else 1
    ws = [keras_weights(spec, 3, rng) for _ in range(n_dirs)]
    init_flat = random_states(rng, n_dirs, spec, len(LENGTHS))
    mask = np.arange(6)[None, :] < np.array(LENGTHS)[:, None]
    x[~mask] = 1e3  # garbage in the padding must not leak into either result
    module = torch_layer(kind, 3, spec.units, bidirectional=bidirectional)
    load(module, spec, ws[0], "l0")
    if bidirectional:
        load(module, spec, ws[1], "l0_reverse")
        ref = oracle.bidirectional(spec, ws[0], spec, ws[1], x, initial_state=init_flat, mask=mask)
        ref_seq, ref_final = ref.sequence, [ref.forward_states, ref.backward_states]
    else:
        ref = oracle.rnn([spec], ws[0], x, initial_state=init_flat, mask=mask)
        ref_seq, ref_final = ref.sequence, [ref.states[0]]
    seq, final = run_torch(module, x, torch_states(init_flat, n_dirs), lengths=LENGTHS)
    close(seq[mask], ref_seq[mask])  # valid steps only: torch zero-fills the padding
    for d in range(n_dirs):
        for got, want in zip(final, ref_final[d]):
            close(got[d], want)
