"""Training through Keras's own loop, against the NumPy oracle.

- **One SGD step**: ``train_on_batch`` with plain SGD (``learning_rate=LR``, no momentum) on a
  one-layer functional model (outputs: the layer's returned tensors, flat; ``mse`` against a
  seeded target per output; the model's loss is their sum) gives ``w - LR * dL/dw`` with
  ``dL/dw`` the oracle's, by the chain rule over the outputs: ``dL/dy = 2 (y - target) / y.size``.
- **Stateful training**: ``fit(x, y, batch_size=B, shuffle=False)`` over K chunks of one long
  sequence (chunk i is batch i: the rows of x are the chunks stacked) with ``stateful=True``
  carries the states from batch to batch in training. Each batch is checked as it ends (a
  callback reads the weights and ``layer.states``): its SGD step equals the oracle's from the
  weights before it, with the states the oracle carried (the final states of the previous chunk;
  the gradient is truncated there, the carried state is an input), and ``layer.states`` equal
  those the oracle carries forward. After ``reset_state()`` a second epoch starts from zeros: the
  same check, the oracle's chain restarting from zero states with the trained weights.

Derivatives: central differences of the float64 oracle (rnnconf/spec/gradients.py: element by element
up to 128 elements, else projections on 12 seeded directions -- the updates are compared by
their projections there). Tolerance: ``reference.GRADIENT_TOLERANCE`` on the implied gradient
``(w_before - w_after) / LR``; the states at ``reference.TOLERANCES["float32"]``.
"""

import numpy as np
import pytest

from rnnconf.spec import catalog, contract, gradients, reference
from rnnconf.harness.asserts import assert_matches_oracle
from rnnconf.spec.seeds import seed_for

# gradients and fit need the backend's autodiff: n/a on an inference-only backend
pytestmark = [pytest.mark.mode("training"), pytest.mark.autodiff]

LR = 0.1
CHUNKS = 2
# Compiling a train function costs ~1 s per recurrent layer on TensorFlow (2 cores; measured: a
# model with the four flag combinations as branches, 3.5-5.5 s, saves ~20% over four models), so
# the default lane runs one SGD step for a built-in layer and a user-defined cell with
# return_sequences=True, return_state=True; --full runs every entry and combination.
FIT_DEFAULT_LANE = ("LSTM", "Custom_TwoStateCell")
# Stateful training (two fits, one train function): one built-in layer and one stacked RNN in the
# default lane; --full runs every entry, Bidirectional included.
STATEFUL_DEFAULT_LANE = ("GRU", "RNN_LSTMCell_GRUCell")


def targets(entry, shape, return_sequences, return_state, salt=""):
    """role -> a seeded float32 target shaped like the role (the contract's shape)."""
    out = {}
    for leaf in contract.flatten(contract.expected_tree(entry, shape, return_sequences, return_state)):
        rng = np.random.default_rng(seed_for("target", entry.id, shape.id, leaf.role, salt))
        out[leaf.role] = rng.normal(0.0, 0.5, size=leaf.shape).astype(np.float32)
    return out


def mse_gradient(oracle, return_sequences, wanted):
    """role -> dL/d(role) for L = sum over roles of mean((role - target)^2), at the oracle's values."""
    values = oracle.values(return_sequences, list(wanted))
    return {r: 2.0 * (values[r] - t.astype(np.float64)) / t.size for r, t in wanted.items()}


def step_differences(oracle, return_sequences, wanted, before, after, label):
    """(implied gradients (w - w_new) / LR, the oracle's gradients), projected, by weight."""
    expected = oracle.loss_projections(return_sequences, mse_gradient(oracle, return_sequences, wanted))
    have, want = {}, {}
    for i, (w0, w1) in enumerate(zip(before, after)):
        name = f"weight[{i}]"
        key = f"{label}: (w - w_new) / lr of {name} ({gradients.how_probed(np.size(w0))})"
        have[key] = oracle.project(name, (np.asarray(w0, np.float64) - np.asarray(w1, np.float64)) / LR)
        want[key] = expected[name]
    return have, want


@pytest.mark.default_lane(lambda p: p["entry"].id in FIT_DEFAULT_LANE and p["return_sequences"] and p["return_state"])
@pytest.mark.shapes("options")
def test_sgd_step_matches_oracle(make_run, entry, return_sequences, return_state, shape, device, record):
    run = make_run()
    layer = run.new_layer(return_sequences, return_state)
    wanted = targets(entry, shape, return_sequences, return_state)
    with run.impl.device(device):
        model = run.impl.sgd_model([layer], tuple(run.x.shape), LR)
        model.train_on_batch(run.x, list(wanted.values()))
        after = layer.get_weights()
    oracle = gradients.oracle_derivatives(entry, shape, run.weights, run.x, probe_input=False)
    have, want = step_differences(oracle, return_sequences, wanted, run.weights, after, "one SGD step")
    context = (f"{run.describe(return_sequences, return_state)}: one train_on_batch with "
               f"SGD(learning_rate={LR}) and mse on every returned tensor")
    record.deviation(assert_matches_oracle(have, want, context, **reference.GRADIENT_TOLERANCE,
                                           against="the NumPy oracle's SGD step"),
                     reference.gradient_tolerance_text())


def state_roles(entry, shape):
    return [leaf.role for leaf in contract.flatten(contract.expected_tree(entry, shape, True, True))
            if not leaf.role.startswith("output")]


def check_epoch(run, chunk_shape, chunks, chunk_targets, weights, states, seen, what):
    """Each batch of one epoch against the oracle; returns (worst |diff|, the weights after it)."""
    __tracebackhide__ = True
    entry = run.entry
    roles = state_roles(entry, chunk_shape)
    have, want = {}, {}
    for i, (x, wanted) in enumerate(zip(chunks, chunk_targets)):
        oracle = gradients.OracleDerivatives(entry, chunk_shape, weights, x, initial_state=states,
                                             probe_input=False, salt=f"stateful {i}")
        new_weights, new_states = seen[i]
        h, w = step_differences(oracle, True, wanted, weights, new_weights, f"{what}, batch {i}")
        have.update(h)
        want.update(w)
        carried = [oracle.base[(True, r)] for r in roles]
        for role, got, expected in zip(roles, new_states, carried):
            key = f"{what}, batch {i}: layer.states {role}"
            have[key], want[key] = got, expected
        weights, states = new_weights, carried
    context = (f"{run.describe(True, False)}: fit(batch_size={chunk_shape.batch}, shuffle=False) with "
               f"SGD(learning_rate={LR}) over {len(chunks)} chunks of {chunk_shape.timesteps} steps")
    worst = assert_matches_oracle(have, want, context, **reference.GRADIENT_TOLERANCE,
                                  against="the oracle carrying the states from chunk to chunk")
    return worst, weights


class StatefulFit:
    """Epoch 1 from the layer's initial states (zeros); then reset_state() and epoch 2 with the
    trained weights. ``epochs``: per epoch, (weights, layer.states) as each batch ended; ``error``:
    what reset_state() or epoch 2 raised, if anything (the second test re-raises it)."""

    def __init__(self, run):
        entry, shape = run.entry, run.shape
        self.layer = layer = run.new_layer(True, False)
        steps = shape.timesteps // CHUNKS
        self.chunk_shape = catalog.Shape(shape.batch, steps, shape.features, shape.units)
        self.chunks = [run.x[:, i * steps:(i + 1) * steps] for i in range(CHUNKS)]
        self.targets = [targets(entry, self.chunk_shape, True, False, salt=f"chunk {i}") for i in range(CHUNKS)]
        x_fit = np.concatenate(self.chunks, axis=0)  # batch i of batch_size=B is chunk i
        y_fit = [np.concatenate([t[role] for t in self.targets], axis=0) for role in self.targets[0]]
        self.epochs: list[list] = [[], []]
        self.error = None
        with run.impl.device(run.device):
            model = run.impl.sgd_model([layer], tuple(x_fit[:shape.batch].shape), LR)
            run.impl.fit_one_epoch(model, x_fit, y_fit, shape.batch, self._after_batch(run, 0))
            try:
                run.impl.reset_state(layer)
                run.impl.fit_one_epoch(model, x_fit, y_fit, shape.batch, self._after_batch(run, 1))
            except Exception as exc:
                self.error = exc


    def _after_batch(self, run, epoch):
        return lambda: self.epochs[epoch].append((self.layer.get_weights(), run.impl.state_values(self.layer)))


def stateful_fit(run):
    """What the two epochs saw, once per case (both tests of a case share one fit)."""
    return run.remember("stateful fit", lambda: StatefulFit(run))


STATEFUL_ENTRIES = lambda e: e.cells[0].kind != "init"  # noqa: E731


@pytest.mark.default_lane(lambda p: p["entry"].id in STATEFUL_DEFAULT_LANE)
@pytest.mark.entries(STATEFUL_ENTRIES)
@pytest.mark.shapes("options")
def test_stateful_fit_carries_states_across_batches(make_run, entry, shape, device, record):
    """Epoch 1: each batch's SGD step and the states it leaves are the oracle's, the states
    carried from the previous batch (not for a cell whose get_initial_state is not zeros)."""
    run = make_run(stateful=True)
    fit = stateful_fit(run)
    first = fit.epochs[0]
    assert len(first) == CHUNKS, f"{len(first)} batches ended in epoch 1 of model.fit, expected {CHUNKS}"
    worst, _ = check_epoch(run, fit.chunk_shape, fit.chunks, fit.targets, run.weights, None, first, "epoch 1")
    record.deviation(worst, reference.gradient_tolerance_text())


@pytest.mark.default_lane(lambda p: p["entry"].id in STATEFUL_DEFAULT_LANE)
@pytest.mark.entries(STATEFUL_ENTRIES)
@pytest.mark.shapes("options")
def test_stateful_fit_after_reset_state_starts_over(make_run, entry, shape, device, record):
    """After epoch 1, reset_state(): epoch 2 is the oracle's from zero states with the weights
    epoch 1 left (those the layer reported after its last batch)."""
    run = make_run(stateful=True)
    fit = stateful_fit(run)
    if fit.error is not None:
        raise fit.error
    first, second = fit.epochs
    assert len(first) == len(second) == CHUNKS, (
        f"{len(first)} and {len(second)} batches ended in the two epochs of model.fit, expected {CHUNKS} each")
    zeros = [np.zeros_like(s, dtype=np.float64) for s in reference.initial_state_arrays(entry, fit.chunk_shape, 0)]
    worst, _ = check_epoch(run, fit.chunk_shape, fit.chunks, fit.targets, first[-1][0], zeros, second,
                           "epoch 2, after reset_state()")
    record.deviation(worst, reference.gradient_tolerance_text())
