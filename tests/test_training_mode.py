"""Training mode: ``layer(x, training=True)``.

- without dropout it returns the inference values (the layers' docstrings: ``training`` is
  "only relevant when ``dropout`` or ``recurrent_dropout`` is used");
- with ``dropout`` and ``recurrent_dropout`` it returns the documented structure, and values that
  differ from inference;
- the masks, seen through layers whose documented equations make them visible (below): the
  input mask drops the documented fraction of the inputs and scales the kept ones by
  ``1 / (1 - rate)``, and both masks are the same at every time step of one call (DropoutRNNCell's
  docstring: the masks are cached and reused "for all incoming steps, so that the same mask is
  used for every step"); and they are drawn element by element (a noise shape of the input's):
  within a row the units are dropped independently, and each batch row draws its own mask.

The observable layers (SimpleRNN, LSTM, GRU, as layers and as RNN(cell)), with linear
activations (``activation`` and ``recurrent_activation``), units == features, and weights from
the documented equations:

- input mask: the candidate's input kernel is the identity, every recurrent kernel zero, gates
  open (LSTM: i = o = 1, f = 0 through the biases; GRU: z = 0, r = 1), so ``h_t = dropout(x_t)``:
  on an input of ones, each value is 0 (dropped) or ``1 / (1 - rate)`` (kept);
- recurrent mask: every input kernel zero, the candidate's recurrent kernel the identity, the same
  gates, and an initial ``h`` of ones: ``h_t = m_t * h_{t-1} / (1 - rate)``, so
  ``h_t = (m / (1 - rate)) ** t`` when the mask ``m`` is the same at every step, and the zeros of
  ``h_t`` are those of ``h_1`` at every ``t``. (A mask drawn anew per step adds zeros over time.)

LSTM and GRU draw one mask per gate when recurrent dropout is on (3 for GRU, 4 for LSTM); these
observables see the candidate's. Bidirectional, stacked and ConvLSTM entries are not observed this
way: Bidirectional wraps two of these layers, a stacked cell's input is the previous cell's
output (no identity input), and ConvLSTM's 3x3 kernels mix neighbouring positions.

The drop count is binomial: over ``n`` independent mask entries at rate ``p`` it lies within
``5 * sqrt(n p (1 - p))`` of ``n p`` except with probability below 1e-6; each layer gets a fixed
``seed`` where the implementation takes one, so a run is reproducible (tf-keras's layers take no
seed: its masks are drawn unseeded, and the statistics hold all the same).
"""

import math

import numpy as np
import pytest

from rnnconf.spec import catalog, contract, reference
from rnnconf.harness.asserts import assert_close
from rnnconf.harness.checks import roles_in

pytestmark = pytest.mark.mode("training")

RATE = 0.3
SIGMAS = 5
BATCH, UNITS, STEPS = 500, 8, 4  # n = 4000 mask entries: 5 sigma = 145 (a rate within +-0.036)
SEED = 1234
OBSERVABLE = lambda e: e.form in ("layer", "rnn")  # noqa: E731


@pytest.mark.shapes("options")
def test_training_without_dropout_equals_inference(run, entry, return_sequences, return_state, shape, device,
                                                   record):
    trained = run.call(return_sequences, return_state, training=True).tree
    inferred = run.call(return_sequences, return_state).tree
    context = run.describe(return_sequences, return_state)
    roles_in(run, trained, return_sequences, return_state, " with training=True")
    worst = 0.0
    for a, b in zip(contract.flatten(trained), contract.flatten(inferred)):
        worst = max(worst, assert_close(a, b, "training=True without dropout", context, **reference.SELF_TOLERANCE,
                                        against="the inference call (same layer, no dropout)"))
    record.deviation(worst, reference.self_tolerance_text(), against="self")


# The default lane: return_sequences=True with return_state=True, which returns every tensor (the
# other three combinations with --full): each case builds four dropout layers of its own.
@pytest.mark.default_lane(lambda p: p["return_sequences"] and p["return_state"])
@pytest.mark.entries(lambda e: not e.custom)  # the suite's own cells take no dropout
@pytest.mark.shapes("options")
def test_dropout_in_training_changes_values(make_run, entry, return_sequences, return_state, shape, device):
    """With dropout=recurrent_dropout=0.5 on every cell, training=True returns the documented
    tensors (count and shapes of inference) and the output differs from inference: some input
    and some recurrent entries are dropped (all of B*T*F inputs kept has probability 2**-60)."""
    run = make_run(dropout=0.5, recurrent_dropout=0.5)
    trained = run.call(return_sequences, return_state, training=True).tree
    inferred = run.call(return_sequences, return_state).tree
    got = roles_in(run, trained, return_sequences, return_state, " with training=True")
    same = {role: np.allclose(a, b, **reference.SELF_TOLERANCE) if a.shape == b.shape else f"shape {a.shape}"
            for (role, a), b in zip(got.items(), contract.flatten(inferred))}
    outputs = [r for r in got if r.startswith("output")]
    assert all(same[r] is False for r in outputs), (
        f"training=True with dropout=0.5, recurrent_dropout=0.5 returned {same} (role: equal to the inference "
        f"call within {reference.self_tolerance_text()}, or its wrong shape) for "
        f"{run.describe(return_sequences, return_state)}: every output must differ from inference, "
        "with the inference shapes")


# ---- the masks, made visible ---------------------------------------------------------------
def _observable(impl, entry, *, dropout: float, recurrent_dropout: float):
    """The layer described in the module docstring, built, with the seed and the weights for
    ``input`` (dropout > 0) or ``recurrent`` observation."""
    kind = entry.cells[0].kind
    name = catalog.CELL_CLASS[kind] if entry.form == "rnn" else catalog.LAYER_CLASS[kind]
    options = dict(entry.cells[0].options(), activation="linear", dropout=dropout,
                   recurrent_dropout=recurrent_dropout)
    # a release without seed (tf-keras) draws unseeded masks: the statistics hold all the same
    # (5 sigma), the run is just not reproducible to the bit
    if not impl.lacks_argument(name, "seed"):
        options["seed"] = SEED
    if kind != "simple":
        options["recurrent_activation"] = "linear"
    if entry.form == "rnn":
        layer = impl.layer("RNN")(impl.layer(name)(UNITS, **options), return_sequences=True)
    else:
        layer = impl.layer(name)(UNITS, return_sequences=True, **options)
    impl.build(layer, (BATCH, STEPS, UNITS))
    eye, gates = np.eye(UNITS, dtype=np.float32), {"simple": 1, "lstm": 4, "gru": 3}[kind]
    # candidate gate index, and the bias that opens the others (documented gate orders:
    # LSTM i, f, c, o; GRU z, r, h)
    candidate, opened = {"simple": (0, []), "lstm": (2, [0, 3]), "gru": (2, [1])}[kind]
    kernel = np.zeros((UNITS, gates * UNITS), np.float32)
    recurrent = np.zeros((UNITS, gates * UNITS), np.float32)
    (kernel if dropout else recurrent)[:, candidate * UNITS:(candidate + 1) * UNITS] = eye
    weights = [kernel, recurrent]
    bias_shape = tuple(layer.get_weights()[2].shape)
    bias = np.zeros(bias_shape, np.float32)
    for g in opened:  # for GRU(reset_after=True) the input bias row opens r
        (bias[0] if bias.ndim == 2 else bias)[g * UNITS:(g + 1) * UNITS] = 1.0
    layer.set_weights(weights + [bias])
    return layer


def _call(impl, device, layer, entry, initial_ones: bool):
    x = np.ones((BATCH, STEPS, UNITS), np.float32)
    kwargs = {"training": True}
    if initial_ones:
        h0 = np.ones((BATCH, UNITS), np.float32)
        states = [h0, np.zeros_like(h0)] if entry.cells[0].kind == "lstm" else [h0]
        kwargs["initial_state"] = [impl.to_tensor(s) for s in states]
    with impl.device(device):
        return impl.normalise(layer(x, **kwargs)).tree


def _check_rate(dropped: np.ndarray, what: str, context: str) -> None:
    n = dropped.size
    count = int(dropped.sum())
    bound = SIGMAS * np.sqrt(n * RATE * (1 - RATE))
    assert abs(count - n * RATE) <= bound, (
        f"{what}: {count} of {n} entries dropped ({count / n:.3f}), expected {n * RATE:.0f} +- {bound:.0f} "
        f"(rate {RATE}, {SIGMAS} sigma of a binomial) for {context}")


def _check_same_over_time(zero: np.ndarray, what: str, context: str) -> None:
    """``zero``: (batch, steps, units) bool, where the output is 0."""
    moved = [t for t in range(zero.shape[1]) if not np.array_equal(zero[:, t], zero[:, 0])]
    assert not moved, (
        f"{what}: the dropped entries at steps {moved} are not those of step 0 "
        f"({[int((zero[:, t] != zero[:, 0]).sum()) for t in moved]} entries differ) for {context}: "
        "the mask must be the same at every step of one call")


def _check_kept(out: np.ndarray, kept: np.ndarray, expected: np.ndarray, what: str, context: str) -> None:
    """Kept entries carry exactly the scaled value (float32 rounding aside)."""
    ok = np.isclose(out, expected, **reference.SELF_TOLERANCE) | ~kept
    assert ok.all(), (
        f"{what}: {int((~ok).sum())} kept entries are not the value 1/(1 - rate) scaling gives "
        f"(first: {out[~ok][:3]}, expected {expected[~ok][:3]}) for {context}")


def _check_units_independent(dropped: np.ndarray, what: str, context: str) -> None:
    """``dropped``: (rows, units) bool, one step's mask. The documented mask is drawn element by
    element, so within a row whether one unit is dropped says nothing of another: the rows that
    drop all their units or none stay within 5 sigma of their binomial count. A mask drawn per
    row and broadcast over the units (a noise-shape bug) makes every row all-or-none."""
    rows, units = dropped.shape
    same = int((dropped.all(axis=1) | ~dropped.any(axis=1)).sum())
    bound = binomial_bound(rows, RATE ** units + (1 - RATE) ** units)
    assert same <= bound, (
        f"{what}: {same} of {rows} batch rows drop all {units} units or none, at most {bound} for a mask "
        f"drawn element by element at rate {RATE} ({TAIL_TEXT}): the mask is shared across units for {context}")


def _check_rows_independent(dropped: np.ndarray, what: str, context: str) -> None:
    """Across batch rows, each row draws its own mask: neighbouring rows carry the same mask no
    more often than chance (5 sigma over the row pairs). A mask shared by several rows (one
    sample's reused for the next) repeats far more often."""
    pairs, units = dropped.shape[0] - 1, dropped.shape[1]
    repeats = int((dropped[1:] == dropped[:-1]).all(axis=1).sum())
    bound = binomial_bound(pairs, (RATE ** 2 + (1 - RATE) ** 2) ** units)
    assert repeats <= bound, (
        f"{what}: {repeats} of {pairs} neighbouring batch rows carry the same mask, at most {bound} for masks "
        f"drawn row by row at rate {RATE} ({TAIL_TEXT}): the mask is shared across batch rows for {context}")


# The counts of rare events (rows that drop all units or none: expected ~29 of 500; neighbouring
# rows with the same mask: ~6.4 of 499) have a heavier upper tail than the normal curve: mean + 5
# sigma is exceeded with probability ~1e-5, not ~3e-7, and one lane runs five such checks per
# layer, a release sweep thousands. Seed 1234 on Keras 3.8 with JAX draws 19 repeats (mean + 5.1
# sigma) from masks that are independent over other seeds. The bound is the binomial's own tail.
TAIL = 1e-9
TAIL_TEXT = f"the binomial tail beyond it is below {TAIL:g}"


def binomial_bound(n: int, q: float, tail: float = TAIL) -> int:
    """The smallest k with P(Binomial(n, q) > k) < ``tail``, summed exactly (n is a few hundred)."""
    pmf = [math.comb(n, k) * q ** k * (1 - q) ** (n - k) for k in range(n + 1)]
    above = 0.0
    for k in range(n, -1, -1):
        if above + pmf[k] >= tail:
            return k
        above += pmf[k]
    return 0


def _describe(entry, what):
    return f"{entry.label} built as an observable of its {what} dropout mask (see the module docstring), " \
           f"input ones {(BATCH, STEPS, UNITS)}, rate {RATE}, seed {SEED}, training=True"


@pytest.mark.entries(OBSERVABLE)
def test_input_dropout_mask(impl, entry, device):
    """h_t = dropout(x_t): the drawn fraction, the 1/(1 - rate) scaling, and one mask for all steps."""
    layer = _observable(impl, entry, dropout=RATE, recurrent_dropout=0.0)
    out = np.asarray(_call(impl, device, layer, entry, initial_ones=False), np.float64)
    context = _describe(entry, "input")
    zero = out == 0
    _check_rate(zero[:, 0], "input mask", context)
    _check_kept(out, ~zero, np.full_like(out, 1 / (1 - RATE)), "input mask", context)
    _check_same_over_time(zero, "input mask", context)
    _check_units_independent(zero[:, 0], "input mask", context)
    _check_rows_independent(zero[:, 0], "input mask", context)


@pytest.mark.entries(OBSERVABLE)
def test_recurrent_dropout_mask(impl, entry, device):
    """h_t = (m / (1 - rate)) ** t: the recurrent mask drops the documented fraction at step 1
    and is the same at every step (the zeros of h_1 are the zeros of every h_t)."""
    layer = _observable(impl, entry, dropout=0.0, recurrent_dropout=RATE)
    out = np.asarray(_call(impl, device, layer, entry, initial_ones=True), np.float64)
    context = _describe(entry, "recurrent")
    zero = out == 0
    _check_rate(zero[:, 0], "recurrent mask", context)
    _check_same_over_time(zero, "recurrent mask", context)
    powers = (1 / (1 - RATE)) ** np.arange(1, STEPS + 1)
    _check_kept(out, ~zero, np.broadcast_to(powers[None, :, None], out.shape), "recurrent mask", context)
    _check_units_independent(zero[:, 0], "recurrent mask", context)
    _check_rows_independent(zero[:, 0], "recurrent mask", context)
