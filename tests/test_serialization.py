"""Serialization keeps what a layer returns: get_config/from_config and a .keras save/load keep
the flags and, with the same weights, the values (bit for bit: the same code runs). A
user-defined cell is registered as serializable (rnnconf/impl/cells.py), as Keras documents for
custom objects, so both round trips rebuild it."""

import zlib

import numpy as np
import pytest

from rnnconf.spec import contract
from rnnconf.harness.asserts import assert_identical
from rnnconf.harness.checks import roles_in
from rnnconf.harness.runner import CaseContext

FLAGS = ("return_sequences", "return_state")


def _flag_values(layer):
    return {f: getattr(layer, f, None) for f in FLAGS}


@pytest.mark.shapes("notebook")
def test_config_round_trip(run, entry, return_sequences, return_state, shape, device):
    layer = run.layer(return_sequences, return_state)
    context = run.describe(return_sequences, return_state)
    clone = type(layer).from_config(layer.get_config())
    assert _flag_values(clone) == _flag_values(layer) == dict(zip(FLAGS, (return_sequences, return_state))), \
        f"flags after from_config(get_config()): {_flag_values(clone)}, before: {_flag_values(layer)}, for {context}"
    with run.impl.device(device):
        run.impl.build(clone, run.x.shape)
        clone.set_weights(run.weights)
        again = run.impl.normalise(clone(run.x)).tree
    original = run.call(return_sequences, return_state).tree
    roles_in(run, again, return_sequences, return_state, " cloned by from_config(get_config())")
    for i, (a, b) in enumerate(zip(contract.flatten(again), contract.flatten(original))):
        assert_identical(a, b, f"returned[{i}] after from_config(get_config())", context)


def _halves(layer, weights=False):
    """What a Bidirectional's two layers are: (class, units, go_backwards, return_sequences,
    return_state, stateful) of the forward and of the backward layer; with ``weights`` also a
    digest of the backward layer's weights (shapes and a checksum of the values)."""
    def one(half):
        return (type(half).__name__, getattr(half, "units", None), getattr(half, "go_backwards", None),
                *(getattr(half, f, None) for f in FLAGS + ("stateful",)))
    out = {"forward_layer": one(layer.forward_layer), "backward_layer": one(layer.backward_layer)}
    if weights:
        out["backward_layer weights"] = [(tuple(w.shape), zlib.crc32(np.ascontiguousarray(w).tobytes()))
                                         for w in layer.backward_layer.get_weights()]
    return out


@pytest.mark.entries(lambda e: e.asymmetric)
@pytest.mark.shapes("notebook")
def test_config_round_trip_keeps_backward_layer(run, entry, return_sequences, return_state, shape, device):
    """An explicit backward_layer (another type or units) is in get_config and from_config rebuilds
    it: the same class, units, direction and flags (its values: test_config_round_trip)."""
    layer = run.layer(return_sequences, return_state)
    clone = type(layer).from_config(layer.get_config())
    assert _halves(clone) == _halves(layer), (
        f"from_config(get_config()) of {run.describe(return_sequences, return_state)} rebuilt "
        f"{_halves(clone)}, the layer was {_halves(layer)}")


@pytest.mark.entries(lambda e: e.asymmetric)
@pytest.mark.shapes("notebook")
def test_keras_file_keeps_backward_layer(run, entry, return_sequences, return_state, shape, device, tmp_path):
    """A .keras save/load keeps an explicit backward_layer: the same class, units, direction and
    flags, and its own weights (the values: test_keras_file_round_trip)."""
    layer = run.layer(return_sequences, return_state)
    context = run.describe(return_sequences, return_state)
    with CaseContext(f"saving and loading a .keras model of {context}"), run.impl.device(device):
        model = run.impl.save_and_load(layer, tuple(run.x.shape[2:]), tmp_path / "case.keras")
    loaded = [_halves(l, weights=True) for l in model.layers if type(l).__name__ == type(layer).__name__]
    assert loaded and loaded[0] == _halves(layer, weights=True), (
        f".keras save/load of {context} gave {loaded}, the layer was {_halves(layer, weights=True)}")


@pytest.mark.entries(lambda e: e.id in ("SimpleRNN", "LSTM", "GRU_reset_before", "RNN_LSTMCell_GRUCell",
                                        "Bi_LSTM_concat", "Bi_GRU_None", "ConvLSTM1D")
                     or e.custom or e.asymmetric)
@pytest.mark.shapes("notebook")
def test_keras_file_round_trip(run, entry, return_sequences, return_state, shape, device, tmp_path):
    layer = run.layer(return_sequences, return_state)
    context = run.describe(return_sequences, return_state)
    original = run.call(return_sequences, return_state).tree
    with CaseContext(f"saving and loading a .keras model of {context}"), run.impl.device(device):
        model = run.impl.save_and_load(layer, tuple(run.x.shape[2:]), tmp_path / "case.keras")
        loaded = run.impl.normalise(model(run.x)).tree
    inner = [l for l in model.layers if type(l).__name__ == type(layer).__name__]
    assert inner and _flag_values(inner[0]) == _flag_values(layer), \
        f"flags after .keras save/load: {[_flag_values(l) for l in inner]}, before {_flag_values(layer)}, for {context}"
    roles_in(run, loaded, return_sequences, return_state, " saved and loaded as .keras")
    for i, (a, b) in enumerate(zip(contract.flatten(loaded), contract.flatten(original))):
        assert_identical(a, b, f"returned[{i}] after .keras save/load", context)
