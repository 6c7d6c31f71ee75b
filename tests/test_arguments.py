"""Every documented constructor argument does what its docstring promises, checked on the layer
the implementation builds, one case per argument value (rnnconf/spec/nondefault.py lists them,
rnnconf/spec/arguments.py which documented argument each test covers):

- ``activation``, ``recurrent_activation`` (Keras names, the suite's own callable), ``use_bias``:
  the documented weight layout and the values, against the oracle computing the same functions
  (``hard_sigmoid`` as each implementation's own docstring defines it);
- initializers: the weights ``build`` creates -- given initializers honoured on exactly the
  weights they name, ``unit_forget_bias`` ("add 1 to the bias of the forget gate at
  initialization. Setting it to True will also force bias_initializer="zeros"") and the documented
  defaults (glorot_uniform kernels, orthogonal recurrent kernels, zero biases);
- regularizers: ``layer.losses`` holds the penalty of the weights the layer holds (the oracle's
  sum), and ``activity_regularizer`` the penalty of every tensor the layer returned, divided by
  the batch size (Keras's regularizer guide: "the value returned by the activity_regularizer
  object gets divided by the input batch size");
- constraints: after one SGD step (``train_on_batch``) the constrained weights satisfy the
  constraint, and the others are left alone;
- ``seed``: two layers with the same seed and weights draw the same dropout masks in training;
  another seed draws others;
- ``get_config``/``from_config`` keep every argument set to a value other than its default, and a
  ``.keras`` file keeps what the config holds (one case per argument: a dropped key names itself).
"""

import numpy as np
import pytest

from rnnconf.spec import catalog, contract, nondefault, reference
from rnnconf.harness.asserts import assert_close, assert_flat_matches_oracle
from rnnconf.harness.checks import check_against_oracle, roles_in
from rnnconf.harness.outcomes import not_applicable

OPTION = "options"
# The default lane runs the notebook's three layers, Bidirectional(LSTM) (concat), one RNN(cell),
# the stacked cells and one ConvLSTM on every setting; --full every entry.
ARGUMENT_LANE = ("SimpleRNN", "LSTM", "GRU", "Bi_LSTM_concat", "RNN_GRUCell", "RNN_LSTMCell_GRUCell", "ConvLSTM2D")
in_argument_lane = pytest.mark.default_lane(lambda p: p["entry"].id in ARGUMENT_LANE)


def _run_of(make_run, entry, setting, **override):
    """The case built with the setting's options. An option the implementation does not document
    (tf-keras's layers take no ``seed``: rnnconf/impl/availability.py) makes it not applicable,
    decided from that documentation, never from an error."""
    options = {**setting.options(entry), **override}
    run = make_run(**options)
    reason = _lacking(run.impl, entry, options)
    if reason:
        not_applicable(run.impl, reason)
    return run


def _lacking(impl, entry, options):
    """Why the implementation does not take one of ``options`` (from what it documents), or ""."""
    for name in options:
        for cls in entry.option_targets(name):
            reason = impl.lacks_argument(cls, name)
            if reason:
                return reason
    return ""


def _weights_of(run, setting, weights):
    """(index, cell kind, array) of the weights the setting's argument names, in the documented
    layout."""
    target = nondefault.WEIGHT_OF[setting.argument]
    roles = reference.weight_roles(run.entry, run.shape, _layout_args(setting))
    return [(i, kind, np.asarray(w, np.float64))
            for i, ((role, kind), w) in enumerate(zip(roles, weights)) if role == target]


def _layout_args(setting):
    return {"use_bias": setting.value} if setting.argument == "use_bias" else {}


def _describe(run, setting, how=""):
    return f"{run.describe(True, True)}{how}"


# ---- values ---------------------------------------------------------------------------------
@in_argument_lane
@pytest.mark.settings("values")
@pytest.mark.shapes(OPTION)
def test_argument_values(make_run, entry, shape, device, setting, record):
    """return_sequences=True, return_state=True: the sequence and every state; the last-output
    form of each is the last step (test_identities)."""
    run = _run_of(make_run, entry, setting)
    cell_args = setting.oracle_cell_args(run.impl.flavor)
    layer = run.layer(True, True)
    layout = [tuple(w.shape) for w in layer.get_weights()]
    expected_layout = reference.weight_shapes(entry, shape, _layout_args(setting))
    assert layout == expected_layout, (
        f"get_weights() of {_describe(run, setting)} has shapes {layout}, the documented layout with "
        f"{setting.argument}={setting.value!s} is {expected_layout}")
    check_against_oracle(run, True, True, record, cell_args=cell_args)


# ---- initializers -----------------------------------------------------------------------------
def _orthonormal(w):
    """Keras's Orthogonal on a weight of any rank: flattened to (prod(shape[:-1]), shape[-1]), the
    rows are orthonormal when there are fewer rows than columns, else the columns."""
    flat = w.reshape(-1, w.shape[-1])
    gram = flat @ flat.T if flat.shape[0] < flat.shape[1] else flat.T @ flat
    return np.abs(gram - np.eye(gram.shape[0])).max()


def _glorot_limit(w):
    """glorot_uniform's bound sqrt(6 / (fan_in + fan_out)); a convolution kernel's fans count its
    receptive field."""
    receptive = int(np.prod(w.shape[:-2])) if w.ndim > 2 else 1
    fan_in, fan_out = w.shape[-2] * receptive, w.shape[-1] * receptive
    return np.sqrt(6.0 / (fan_in + fan_out))


def _forget_block(bias, forget_one, rest):
    """An LSTM bias as documented after build: ``rest`` everywhere, the forget gate's block (gate
    order i, f, c, o) at 1 when ``forget_one``."""
    expected = np.full_like(bias, rest)
    if forget_one:
        units = bias.shape[-1] // 4
        expected[..., units:2 * units] = 1.0
    return expected


def _documented_bias(run, setting, kind, bias):
    """What the bias of a ``kind`` cell holds after build with this setting: bias_initializer's
    values, except that an LSTM cell with unit_forget_bias (default True) has its forget block at 1
    and the rest zeros -- "Setting it to True will also force bias_initializer="zeros"."."""
    options = setting.options(run.entry)
    rest = 1.0 if options.get("bias_initializer") == "ones" else 0.0
    if kind == "lstm" and options.get("unit_forget_bias", True):
        return _forget_block(bias, True, 0.0), "zeros with the forget gate's block at 1 (unit_forget_bias=True)"
    return np.full_like(bias, rest), "ones" if rest else "zeros"


def _check_weights(run, setting, weights, context):
    arg = setting.argument
    chosen = _weights_of(run, setting, weights)
    if not chosen:  # the setting table's mistake, not the implementation's
        raise RuntimeError(f"{context}: the documented layout has no weight that {arg} applies to")
    for i, kind, w in chosen:
        what = f"weight[{i}] ({nondefault.WEIGHT_OF[arg]} of a {kind} cell) with {arg}={setting.value!s}"
        if arg == "kernel_initializer":
            assert_close(w, np.ones_like(w), what, context, rtol=0, atol=0, against="ones")
        elif arg == "recurrent_initializer" and setting.label == "constant":
            assert_close(w, np.full_like(w, 0.25), what, context, rtol=0, atol=1e-7, against="Constant(0.25)")
        elif arg == "recurrent_initializer":
            err = _orthonormal(w)
            assert err <= 1e-5, (f"{what}: not orthogonal (Keras's Orthogonal: the flattened rows, or "
                                 f"columns, are orthonormal) -- max |W W^T - I| = {err:.3g}, for {context}")
        elif arg in ("bias_initializer", "unit_forget_bias"):
            expected, text = _documented_bias(run, setting, kind, w)
            assert_close(w, expected, what, context, rtol=0, atol=0, against=text)
        else:
            raise AssertionError(f"no weight claim for {arg}")


@in_argument_lane
@pytest.mark.settings("weights")
@pytest.mark.shapes(OPTION)
def test_initializer_on_built_weights(make_run, entry, shape, device, setting):
    run = _run_of(make_run, entry, setting)
    layer = run.new_layer(True, True, seeded=False)
    context = f"{_describe(run, setting)}, as build() made them"
    _check_weights(run, setting, layer.get_weights(), context)


@in_argument_lane
@pytest.mark.entries(lambda e: not e.custom)
@pytest.mark.shapes(OPTION)
def test_default_initializers(make_run, entry, shape, device):
    """No initializer argument given: kernels are glorot_uniform (within its bound, not constant),
    recurrent kernels orthogonal, biases zeros -- an LSTM's forget block 1 (unit_forget_bias
    defaults to True)."""
    run = make_run()
    layer = run.new_layer(True, True, seeded=False)
    weights = [np.asarray(w, np.float64) for w in layer.get_weights()]
    roles = reference.weight_roles(entry, shape)
    context = f"{_describe(run, None)} with no initializer given, as build() made its weights"
    # (the layout itself, count and shapes, is test_values.py::test_weight_layout's claim)
    for i, ((role, kind), w) in enumerate(zip(roles, weights)):
        what = f"weight[{i}] ({role} of a {kind} cell, shape {w.shape})"
        if role == "kernel":
            limit = _glorot_limit(w)
            assert np.abs(w).max() <= limit * (1 + 1e-6) and np.ptp(w) > 0, (
                f"{what}: not glorot_uniform, the documented default (values in +-{limit:.4f}, not "
                f"constant): its range is [{w.min():.4f}, {w.max():.4f}], for {context}")
        elif role == "recurrent_kernel":
            err = _orthonormal(w)
            assert err <= 1e-5, f"{what}: not orthogonal, the documented default (max |W W^T - I| = {err:.3g}), for {context}"
        elif role == "bias":
            forget = kind == "lstm"
            assert_close(w, _forget_block(w, forget, 0.0), what, context, rtol=0, atol=0,
                         against="zeros" + (" with the forget gate's block at 1 (unit_forget_bias=True)" if forget else ""))


# ---- regularizers ----------------------------------------------------------------------------
def _penalty(arrays):
    return sum(nondefault.PENALTY * float(np.sum(np.square(np.asarray(a, np.float64)))) for a in arrays)


def _losses(run, layer):
    return [float(run.impl.to_numpy(v)) for v in layer.losses]


@in_argument_lane
@pytest.mark.settings("penalty")
@pytest.mark.shapes(OPTION)
def test_weight_penalty_in_losses(make_run, entry, shape, device, setting):
    """L2(0.01) on one kind of weight: ``layer.losses`` sums to 0.01 * the sum of squares of those
    weights, as the layer holds them (the suite's seeded weights)."""
    run = _run_of(make_run, entry, setting)
    layer = run.layer(True, True)
    with run.impl.device(device):
        got = _losses(run, layer)
    expected = _penalty(w for _, _, w in _weights_of(run, setting, run.weights))
    context = f"{_describe(run, setting)}: sum(layer.losses) = {sum(got):.6g} from {len(got)} term(s)"
    assert_close(sum(got), expected, f"the {setting.argument} penalty", context,
                 **reference.tolerance("float32"), against="0.01 * the sum of squares of the weights it names")


@in_argument_lane
@pytest.mark.entries(lambda e: not e.custom and e.merge_mode in ("concat", None))
@pytest.mark.settings("activity")
@pytest.mark.shapes(OPTION)
def test_activity_penalty_in_losses(make_run, entry, return_sequences, return_state, shape, device, setting, record):
    """After a call, ``layer.losses`` holds L2(0.01) of every returned tensor, each divided by the
    batch size, computed on the oracle's values (a Bidirectional's halves are regularized as they
    return: concat and None merge without changing the sum of squares)."""
    run = _run_of(make_run, entry, setting)
    layer = run.new_layer(return_sequences, return_state)
    with run.impl.device(device):
        returned = run.impl.normalise(layer(run.x)).tree
        got = _losses(run, layer)
    roles = roles_in(run, returned, return_sequences, return_state)
    expected_roles = reference.expected_roles(entry, shape, run.weights, run.x, return_sequences=return_sequences)
    expected = sum(_penalty([expected_roles[r]]) for r in roles) / shape.batch
    context = (f"{run.describe(return_sequences, return_state)} with activity_regularizer=L2(0.01): "
               f"sum(layer.losses) = {sum(got):.6g} from {len(got)} term(s) after one call")
    record.deviation(assert_close(sum(got), expected, "the activity penalty", context, **reference.tolerance("float32"),
                                  against="0.01 * the sum of squares of every returned tensor / batch"),
                     reference.tolerance_text("float32"))


# ---- constraints ------------------------------------------------------------------------------
CONSTRAINT_LANE = ("LSTM",)  # a train function costs ~1 s to compile on TensorFlow


@pytest.mark.mode("training")
@pytest.mark.autodiff
@pytest.mark.default_lane(lambda p: p["entry"].id in CONSTRAINT_LANE)
@pytest.mark.settings("constraint")
@pytest.mark.shapes(OPTION)
def test_constraint_after_sgd_step(make_run, entry, shape, device, setting):
    """NonNeg on one kind of weight: after one ``train_on_batch`` with SGD, every weight it names is
    >= 0; the seeded weights it does not name (uniform in +-scale) keep their negative entries.
    return_sequences=True alone: the sequence reaches every weight, and a model over the states of
    some layers is its own claim (test_fit), whose known failures must not hide this one."""
    run = _run_of(make_run, entry, setting)
    layer = run.new_layer(True, False)
    targets = [np.zeros(leaf.shape, np.float32)
               for leaf in contract.flatten(contract.expected_tree(entry, shape, True, False))]
    with run.impl.device(device):
        model = run.impl.sgd_model([layer], tuple(run.x.shape), 0.1)
        model.train_on_batch(run.x, targets)
        after = [np.asarray(w, np.float64) for w in layer.get_weights()]
    context = f"{run.describe(True, False)}: one train_on_batch with SGD(learning_rate=0.1)"
    named = {i for i, _, _ in _weights_of(run, setting, after)}
    for i in sorted(named):
        assert after[i].min() >= 0, (f"weight[{i}] ({nondefault.WEIGHT_OF[setting.argument]}) has "
                                     f"{int((after[i] < 0).sum())} negative entries (min {after[i].min():.4g}) "
                                     f"after the step, against {setting.argument}=NonNeg(), for {context}")
    others = [after[i] for i in range(len(after)) if i not in named]
    assert any(o.min() < 0 for o in others), (
        f"every weight is >= 0 after the step, those {setting.argument} does not name included: the "
        f"constraint reached weights it does not name, for {context}")


# ---- seed -------------------------------------------------------------------------------------
@in_argument_lane
@pytest.mark.mode("training")
@pytest.mark.settings("seed")
@pytest.mark.shapes(OPTION)
def test_seed_draws_the_same_masks(make_run, entry, shape, device, setting):
    """dropout=recurrent_dropout=0.5 and ``training=True``: two layers built with seed=1234 and the
    same weights return the same values; a layer with seed=1235 returns others."""
    run = _run_of(make_run, entry, setting)
    other = _run_of(make_run, entry, setting, seed=setting.value + 1)
    other.weights = run.weights

    def once(case):
        layer = case.new_layer(True, True)
        layer.set_weights(run.weights)
        with run.impl.device(device):
            return [np.asarray(a) for a in contract.flatten(run.impl.normalise(layer(run.x, training=True)).tree)]
    first, again, third = once(run), once(run), once(other)
    context = f"{_describe(run, setting)}, called with training=True"
    for i, (a, b) in enumerate(zip(first, again)):
        assert np.array_equal(a, b), (
            f"returned[{i}] differs between two layers built with seed={setting.value} and the same weights "
            f"(max |diff| {np.abs(a - b).max():.3g}): the seed does not fix the dropout masks, for {context}")
    assert any(not np.array_equal(a, c) for a, c in zip(first, third)), (
        f"seed={setting.value} and seed={setting.value + 1} return the same values in training: the seed "
        f"does not reach the dropout masks, for {context}")


# ---- serialization ----------------------------------------------------------------------------
NESTED_LAYERS = ("layer", "backward_layer", "cell", "cells")


def found(config, key):
    """Every value of ``key`` in a layer's config and in the configs of the layers it holds (a
    Bidirectional's layers, RNN's cell or cells), not inside the objects it names (an
    initializer's own ``seed``)."""
    out = [config[key]] if key in config else []
    for name in NESTED_LAYERS:
        held = config.get(name)
        for sub in held if isinstance(held, (list, tuple)) else [held]:
            if isinstance(sub, dict):
                out += found(sub.get("config", sub), key)
    return out


@in_argument_lane
@pytest.mark.shapes("notebook")
@pytest.mark.settings(lambda s: s.serializable)
def test_config_keeps_argument(make_run, entry, shape, device, setting):
    """get_config() holds the argument's value, other than the default layer's, and
    from_config(get_config()) gives a layer whose get_config() holds the same value."""
    run = _run_of(make_run, entry, setting)
    layer = run.layer(False, False)
    given = found(layer.get_config(), setting.argument)
    default = found(make_run().layer(False, False).get_config(), setting.argument)
    context = f"{run.describe(False, False)}"
    assert given and given != default, (
        f"get_config() holds {setting.argument}={given!r}, the default layer's {default!r}: the value "
        f"{setting.value!s} was not kept, for {context}")
    clone = type(layer).from_config(layer.get_config())
    again = found(clone.get_config(), setting.argument)
    assert again == given, (f"{setting.argument} is {again!r} after from_config(get_config()), was {given!r}, "
                            f"for {context}")


def _saved_configs(make_run, impl, entry, device):
    """One functional model holding a layer per serializable setting of ``entry`` (each its own
    output), saved as a ``.keras`` file and loaded once per case (the case's memo): setting id ->
    (the original layer's config, the loaded layer's). One save per entry, whatever the number of
    settings."""
    def save_all():
        import tempfile

        layers = {s.id: make_run(**s.options(entry)).layer(False, False)
                  for s in nondefault.SETTINGS
                  if s.serializable and s.applies(entry) and not _lacking(impl, entry, s.options(entry))}
        with impl.device(device), tempfile.TemporaryDirectory() as tmp:
            inp = impl.module.Input(shape=(None, *entry.input_shape(make_run().shape)[2:]))
            model = impl.module.Model(inp, [layer(inp) for layer in layers.values()])
            loaded = impl.save_model_and_load(model, f"{tmp}/arguments.keras")
        return {sid: (layer.get_config(), loaded.get_layer(layer.name).get_config()) for sid, layer in layers.items()}
    return make_run().remember("a .keras file of every setting", save_all)


KERAS_FILE_LANE = ("LSTM", "GRU")  # one save and load per entry; --full: every entry


@pytest.mark.default_lane(lambda p: p["entry"].id in KERAS_FILE_LANE)
@pytest.mark.shapes("notebook")
@pytest.mark.settings(lambda s: s.serializable)
def test_keras_file_keeps_argument(make_run, impl, entry, shape, device, setting):
    """A model saved as a ``.keras`` file and loaded holds the layer with the argument's value
    (one model holds every setting of the entry, each layer its own output)."""
    run = _run_of(make_run, entry, setting)
    original, loaded = _saved_configs(make_run, impl, entry, device)[setting.id]
    given, again = found(original, setting.argument), found(loaded, setting.argument)
    assert again == given, (f"{setting.argument} is {again!r} in the layer of a loaded .keras file, was {given!r}, "
                            f"for {run.describe(False, False)}")


@pytest.mark.entries(lambda e: set(e.option_targets("time_major")) <= {"LSTM", "GRU", "RNN"}
                     and e.option_targets("time_major"))
@pytest.mark.shapes(OPTION)
@in_argument_lane
def test_time_major(make_run, entry, return_sequences, return_state, shape, device, record):
    """tf-keras's ``time_major=True`` ("the inputs and outputs will be in shape (timesteps, batch,
    ...)"): the layer reads the input with time first, returns the output sequence with time first,
    and the last output and the states as (batch, units); the values are the oracle's on the
    batch-major input, transposed back. n/a where the implementation documents no time_major
    (Keras 3), decided from rnnconf/impl/availability.py."""
    run = make_run(time_major=True)
    reason = _lacking(run.impl, entry, {"time_major": True})
    if reason:
        not_applicable(run.impl, reason)
    layer = run.new_layer(return_sequences, return_state)
    with run.impl.device(device):
        got = run.impl.normalise(layer(run.impl.to_tensor(np.swapaxes(run.x, 0, 1)))).tree
    expected_tree = contract.expected_tree(entry, shape, return_sequences, return_state)
    arrays = [np.asarray(v) for v in contract.flatten(got)]
    if return_sequences and arrays:  # the output sequence (timesteps, batch, units) -> the contract's order
        arrays[0] = np.swapaxes(arrays[0], 0, 1)
    context = run.describe(return_sequences, return_state) + ", called on the input transposed to (timesteps, batch, features)"
    expected = reference.expected_roles(entry, shape, run.weights, run.x, return_sequences=return_sequences)
    expected = {leaf.role: expected[leaf.role] for leaf in contract.flatten(expected_tree)}
    record.deviation(assert_flat_matches_oracle(arrays, expected, context, **reference.tolerance("float32")),
                     reference.tolerance_text("float32"))
