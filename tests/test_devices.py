"""The device axis itself: a case placed on a device computes there, and Keras's documented
device scope (``keras.device("cpu:0")`` / ``"gpu:0"``) works for recurrent layers."""

import numpy as np
import pytest

from rnnconf.spec import catalog
from rnnconf.harness.outcomes import not_applicable, skip_without_gpu

DEVICE_WORDS = {"cpu": ("cpu",), "gpu": ("gpu", "cuda")}


@pytest.mark.shapes(catalog.NOTEBOOK_SHAPE)
def test_returned_tensors_are_on_the_device(run, entry, shape, device, record):
    if not run.impl.facts.tensors_have_device:
        not_applicable(run.impl, f"{run.impl.backend} tensors carry no device: placement cannot be observed")
    got = run.call(True, True)
    record.note(placements=got.placements)
    wrong = [p for p in got.placements if not any(w in p.lower() for w in DEVICE_WORDS[device])]
    assert got.placements and not wrong, (
        f"{run.describe(True, True)}: returned tensors are on {got.placements}, expected {device}")


@pytest.mark.parametrize("layer", ["SimpleRNN", "LSTM", "GRU"])
def test_documented_device_scope_builds_and_calls(impl, layer, device):
    """``with keras.device("<device>:0"): LSTM(3)(x)`` -- the form Keras documents."""
    skip_without_gpu(impl, device)
    if impl.flavor != "keras3":
        pytest.skip(f"{impl.spec} is Keras 2: its device scope is tf.device, not keras.device")
    x = np.random.default_rng(0).random((1, 4, 5)).astype(np.float32)
    with impl.module.device(f"{device}:0"):
        out = impl.normalise(impl.layer(layer)(3)(x))
    assert out.tree.shape == (1, 3)
