"""Gradients against the NumPy oracle: the backend's autodiff (tf.GradientTape on TensorFlow
and tf-keras, jax.value_and_grad over ``stateless_call`` on JAX, torch.autograd on PyTorch:
``Backend.autodiff`` in rnnconf/impl/base.py) of a fixed scalar loss -- a seeded weighted sum of
every returned tensor, so each output and each state contributes -- with respect to the input,
the initial states (passed as ``initial_state``) and every weight (get_weights() order), for
every oracle entry and flag combination, without and with masks.

The oracle's gradients come from NumPy alone: central differences of the float64 oracle,
element by element for tensors of at most 128 elements and along 12 seeded random unit
directions for larger ones (rnnconf/spec/gradients.py states the method and its accuracy, ~1e-8).
Tolerance: ``reference.GRADIENT_TOLERANCE`` (float32 autodiff against float64 differences).

With a mask, a masked step's input is not read at all (the states are frozen there and the
output repeats the previous one), so its gradient is exactly zero: nothing flows to it, neither
from its own output nor from anything later.
"""

import numpy as np
import pytest

from rnnconf.spec import catalog, contract, gradients, reference
from rnnconf.harness.asserts import assert_matches_oracle
from rnnconf.harness.checks import judge_open_behaviours, roles_of
from rnnconf.spec.seeds import seed_for

# gradients and fit need the backend's autodiff: n/a on an inference-only backend
pytestmark = [pytest.mark.mode("training"), pytest.mark.autodiff]

mask_kinds = pytest.mark.parametrize("mask_kind", reference.MASK_KINDS)
# The default lane: return_sequences=True with return_state=True (every output and state in the
# loss); masks only for the exact-zero claim, one mask kind. --full runs every combination and kind.
SEQ_STATE = lambda p: p["return_sequences"] and p["return_state"]  # noqa: E731
# the masked gradients in the default lane: two gated layers on the arbitrary mask (--full: every
# entry, combination and mask kind)
MASKED_DEFAULT_LANE = ("LSTM", "GRU")


def loss_weights(entry, shape, return_sequences, return_state):
    """role -> a seeded float32 weight array shaped like the role (the contract's shape): the
    loss is the sum over roles of sum(weight * returned)."""
    out = {}
    for leaf in contract.flatten(contract.expected_tree(entry, shape, return_sequences, return_state)):
        rng = np.random.default_rng(seed_for("loss", entry.id, shape.id, leaf.role))
        out[leaf.role] = rng.uniform(-1.0, 1.0, size=leaf.shape).astype(np.float32)
    return out


def initial_states(entry, shape):
    return reference.initial_state_arrays(entry, shape, seed_for("gradient-initial", entry.id, shape.id))


def autodiff(run, return_sequences, return_state, mask=None):
    """The implementation's gradients of the seeded loss, from an initial_state call (once per
    case, flags and mask: the tests of a case share it)."""
    entry, shape = run.entry, run.shape
    roles_of(run, return_sequences, return_state)  # the arity, checked once (one message)

    def compute():
        weights = loss_weights(entry, shape, return_sequences, return_state)
        layer = run.layer(return_sequences, return_state)
        with run.impl.device(run.device):
            return run.impl.gradients(
                layer, run.x, list(weights.values()), initial_state=initial_states(entry, shape), mask=mask,
                nest=lambda flat: contract.nest_like_states(entry, shape, flat))

    key = ("autodiff", return_sequences, return_state, None if mask is None else mask.tobytes())
    return run.remember(key, compute)


def context_of(run, return_sequences, return_state, mask):
    context = run.describe(return_sequences, return_state) + ", initial_state=<seeded>"
    return context + (", mask=<ndarray>" if mask is not None else "")


def check_gradients(run, return_sequences, return_state, record, *, mask=None):
    __tracebackhide__ = True
    entry, shape = run.entry, run.shape
    got = autodiff(run, return_sequences, return_state, mask)
    weights = loss_weights(entry, shape, return_sequences, return_state)
    arrays = {"input": got.input, **{f"initial_state[{i}]": g for i, g in enumerate(got.initial_state)},
              **{f"weight[{i}]": g for i, g in enumerate(got.weights)}}

    def oracle_for(choices):
        return gradients.oracle_derivatives(entry, shape, run.weights, run.x, mask=mask, choices=choices,
                                            initial_state=initial_states(entry, shape))

    def label(p):
        return f"dL/d{p.name} ({gradients.how_probed(p.value.size)})"

    # the probe directions are seeded by name: the same under every choice of the oracle
    have = {label(p): oracle_for({}).project(p.name, arrays[p.name]) for p in oracle_for({}).params}

    def expected_for(choices):
        oracle = oracle_for(choices)
        projections = oracle.loss_projections(return_sequences, weights)
        return {label(p): projections[p.name] for p in oracle.params}

    context = ("the gradient of a seeded weighted sum of the returned tensors, "
               + context_of(run, return_sequences, return_state, mask))
    worst = judge_open_behaviours(
        run, record, lambda want: assert_matches_oracle(have, want, context, **reference.GRADIENT_TOLERANCE,
                                                        against="central differences of the NumPy oracle"),
        expected_for, mask=mask, initial_state=initial_states(entry, shape))
    record.deviation(worst, reference.gradient_tolerance_text())


@pytest.mark.default_lane(SEQ_STATE)
@pytest.mark.shapes("options")
def test_gradients_match_oracle(run, entry, return_sequences, return_state, shape, device, record):
    check_gradients(run, return_sequences, return_state, record)


@mask_kinds
@pytest.mark.default_lane(lambda p: SEQ_STATE(p) and p["mask_kind"] == "arbitrary" and p["entry"].id in MASKED_DEFAULT_LANE)
@pytest.mark.entries(lambda e: e in catalog.MASK_ENTRIES)
@pytest.mark.shapes("options")
def test_masked_gradients_match_oracle(run, entry, return_sequences, return_state, shape, device, mask_kind,
                                       record):
    mask = reference.make_mask(mask_kind, shape.batch, shape.timesteps, seed=shape.timesteps)
    check_gradients(run, return_sequences, return_state, record, mask=mask)


@mask_kinds
@pytest.mark.default_lane(lambda p: SEQ_STATE(p) and p["mask_kind"] == "arbitrary")
@pytest.mark.entries(lambda e: e in catalog.MASK_ENTRIES)
@pytest.mark.shapes("options")
def test_masked_steps_get_no_input_gradient(run, entry, return_sequences, return_state, shape, device,
                                            mask_kind):
    """Exactly zero, by the implementation alone: a masked step's input is never read."""
    mask = reference.make_mask(mask_kind, shape.batch, shape.timesteps, seed=shape.timesteps)
    got = autodiff(run, return_sequences, return_state, mask)
    context = context_of(run, return_sequences, return_state, mask)
    leaked = np.abs(got.input[~mask])  # (masked steps, features)
    assert np.all(leaked == 0), (
        f"the gradient w.r.t. the input at masked steps is not zero for {context}: "
        f"{int(np.sum(np.any(leaked != 0, axis=-1)))} of {int(np.sum(~mask))} masked (row, step) pairs "
        f"get a gradient, max |dL/dx| = {float(leaked.max()):.3g}")
