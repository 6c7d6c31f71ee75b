"""rnnconf.impl.availability in-process: n/a is decided from what an implementation documents --
the release table for Keras and tf-keras, the constructors on a class's path for any other
module -- never from the error a build raised."""

from __future__ import annotations

import types

import pytest

from rnnconf.impl import availability


def module(name: str, **layers: type) -> types.SimpleNamespace:
    return types.SimpleNamespace(__name__=name, layers=types.SimpleNamespace(**layers))


class Layer:  # ends the path: refuses what it does not name, as Keras's base Layer does
    def __init__(self, *, name=None, dtype=None):
        pass


class RNN(Layer):
    def __init__(self, cell, zero_output_for_mask=False, **kwargs):
        super().__init__(**kwargs)


class LSTM(RNN):
    def __init__(self, units, use_cudnn="auto", **kwargs):
        super().__init__(None, **kwargs)


class Inherits(LSTM):  # no constructor of its own: LSTM's decides
    pass


class Closed(RNN):  # no **kwargs: nothing reaches RNN
    def __init__(self, units, dropout=0.0):
        super().__init__(None)


@pytest.mark.parametrize(("version", "lacks"), [("3.0.5", True), ("3.1.1", True), ("3.2.0", False),
                                                ("3.15.1", False), ("3.16.0.dev2026102704", False)])
def test_keras_takes_use_cudnn_from_3_2(version, lacks):
    reason = availability.lacking(module("keras", LSTM=LSTM, GRU=LSTM), version, "LSTM", "use_cudnn")
    assert bool(reason) is lacks and (not lacks or "from keras 3.2.0 on" in reason)


def test_an_option_the_table_does_not_list_is_never_lacking_on_keras():
    # even a class whose constructors name nothing: for Keras the table decides, not the classes
    assert availability.lacking(module("keras", LSTM=Closed), "3.0.0", "LSTM", "zero_output_for_mask") == ""


@pytest.mark.parametrize(("name", "option", "lacks"), [
    ("LSTM", "use_cudnn", True), ("GRU", "use_cudnn", True), ("SimpleRNNCell", "seed", True),
    ("ConvLSTM2D", "unroll", True), ("LSTM", "unroll", False), ("GRU", "zero_output_for_mask", False),
])
def test_tf_keras_from_its_table(name, option, lacks):
    reason = availability.lacking(module("tf_keras", **{name: LSTM}), "2.21.0", name, option)
    assert bool(reason) is lacks and (not lacks or "tf_keras documents no" in reason)


@pytest.mark.parametrize(("cls", "option", "lacks"), [
    (LSTM, "use_cudnn", False),              # its own constructor names it
    (LSTM, "zero_output_for_mask", False),   # forwarded through **kwargs to RNN, which names it
    (Inherits, "zero_output_for_mask", False),
    (LSTM, "no_such_option", True),          # the path ends at Layer without naming it
    (Closed, "zero_output_for_mask", True),  # the path ends at Closed: no **kwargs
])
def test_any_other_module_from_the_constructor_path(cls, option, lacks):
    reason = availability.lacking(module("mylib", LSTM=cls), "1.0", "LSTM", option)
    assert bool(reason) is lacks
    if lacks:
        assert f"takes no argument {option!r}: no constructor on its path" in reason


def test_a_missing_layer_is_not_a_lacking_option():
    assert availability.lacking(module("mylib"), "1.0", "GRU", "dropout") == ""


def test_the_fakes_a_genuinely_old_release_and_a_forwarding_regression():
    from fixtures.broken import drops_forwarded_option, older_release_lstm

    old = availability.lacking(older_release_lstm, "3.15.1", "LSTM", "use_cudnn")
    assert old.startswith("layers.LSTM() takes no argument 'use_cudnn': no constructor on its path (LSTM -> RNN")
    assert availability.lacking(drops_forwarded_option, "3.15.1", "LSTM", "zero_output_for_mask") == ""
