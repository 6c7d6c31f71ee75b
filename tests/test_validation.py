"""Argument validation: a layer configured the way its documentation rules out says so.

Each rule below quotes where Keras documents it (the layer's docstring, Keras 3.15.1). What is
ruled out must raise a ``ValueError`` -- when the layer is made, built or called, never a layer
that silently computes something else -- and the message must name the argument (or, for an
input, the rank it expected), so a user can tell what to change. Three claims, three
assertions: it raised, it raised ``ValueError``, the message names the argument.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Callable

import numpy as np
import pytest

from rnnconf.impl.base import MissingLayer


@dataclasses.dataclass(frozen=True)
class Rule:
    id: str
    where: str  # where the documentation says it
    names: str  # a regex the message must match: the argument (or the rank) it is about
    trigger: Callable[[Callable[[str], Any]], Any]  # make/build/call the layer: get(name) -> layers.<name>
    # (layer, argument) for a rule about an argument a release may not have at all: where the
    # constructor names no such parameter the rule is not applicable (outcomes.not_applicable)
    argument: tuple[str, str] | None = None


def _x(*shape: int) -> np.ndarray:
    return np.zeros(shape, "float32")


def _called_twice(make: Callable[[], Any], first: tuple[int, ...], second: tuple[int, ...]) -> Any:
    layer = make()
    layer(_x(*first))
    return layer(_x(*second))


RULES = [
    *(Rule(f"units_zero_{name}", f"{name}: 'units: Positive integer, dimensionality of the output space'",
           r"\bunits\b", lambda get, name=name: get(name)(0)) for name in ("SimpleRNN", "LSTM", "GRU")),
    Rule("dropout_above_one_LSTM", "LSTM: 'dropout: Float between 0 and 1'", r"\bdropout\b",
         lambda get: get("LSTM")(3, dropout=1.5)),
    Rule("recurrent_dropout_below_zero_GRU", "GRU: 'recurrent_dropout: Float between 0 and 1'",
         r"\brecurrent_dropout\b", lambda get: get("GRU")(3, recurrent_dropout=-0.5)),
    *(Rule(f"use_cudnn_invalid_{name}", f"{name}: 'use_cudnn: ... \"auto\" ...' (one of 'auto', True, False)",
           r"\buse_cudnn\b", lambda get, name=name: get(name)(3, use_cudnn="yes"), (name, "use_cudnn"))
      for name in ("LSTM", "GRU")),
    Rule("merge_mode_invalid", "Bidirectional: 'merge_mode: ... One of {\"sum\", \"mul\", \"concat\", \"ave\", None}'",
         r"merge[ _]mode", lambda get: get("Bidirectional")(get("LSTM")(3), merge_mode="max")),
    Rule("backward_same_direction", "Bidirectional: '`backward_layer` and `layer` should have different "
         "`go_backwards` argument values. A `ValueError` will be raised'", r"\bgo_backwards\b",
         lambda get: get("Bidirectional")(get("LSTM")(3), backward_layer=get("LSTM")(3))),
    *(Rule(f"backward_{flag}_differs", "Bidirectional: 'the provided `backward_layer` ... should have the same "
           "values for `stateful`, `return_states`, `return_sequences` ... A `ValueError` will be raised'",
           rf"\b{flag}\b", lambda get, flag=flag: get("Bidirectional")(
               get("LSTM")(3, **{flag: True}), backward_layer=get("GRU")(3, go_backwards=True)))
      for flag in ("return_sequences", "return_state", "stateful")),
    # sum/ave/mul combine the two halves element by element: an explicit backward_layer of another
    # width cannot be merged so (concat and None can: the catalog's Bi_*_bw* entries). No sentence
    # rules it out in as many words; the docstring asks a backward_layer to match the layer's
    # properties and promises a ValueError when they do not -- the claim is that ValueError (naming
    # the merge or the backward layer), never a backend's broadcasting error or, where one half is 1
    # wide, a silently broadcast output.
    *(Rule(f"merge_{mode}_units_{fw}_vs_{bw}_Bi_SimpleRNN", "Bidirectional: 'merge_mode: Mode by which outputs "
           "of the forward and backward RNNs will be combined' (element-wise for sum/ave/mul); 'the provided "
           "`backward_layer` layer should have properties matching those of the `layer` argument ... A "
           "`ValueError` will be raised if these requirements are not met'", r"merge[ _]mode|backward[ _]layer",
           lambda get, mode=mode, fw=fw, bw=bw: get("Bidirectional")(
               get("SimpleRNN")(fw), merge_mode=mode, backward_layer=get("SimpleRNN")(bw, go_backwards=True))(
               _x(2, 4, 5)))
      for mode, fw, bw in (("sum", 3, 5), ("ave", 3, 5), ("mul", 3, 5), ("sum", 1, 3))),
    *(Rule(f"strides_with_dilation_ConvLSTM{rank}D", f"ConvLSTM{rank}D: '`strides > 1` is incompatible with "
           "`dilation_rate > 1`'", r"\bstrides\b.*\bdilation_rate\b|\bdilation_rate\b.*\bstrides\b",
           lambda get, rank=rank: get(f"ConvLSTM{rank}D")(3, 3, strides=2, dilation_rate=2)) for rank in (1, 2)),
    *(Rule(f"stateful_other_batch_{name}", f"{label}: 'stateful ... Specify a fixed batch size' (the RNN "
           "docstring's note on statefulness)", r"batch[ _]size",
           lambda get, make=make: _called_twice(lambda: make(get), (2, 4, 5), (3, 4, 5)))
      for name, label, make in (
          ("LSTM", "LSTM", lambda get: get("LSTM")(3, stateful=True)),
          ("RNN_GRUCell", "RNN", lambda get: get("RNN")(get("GRUCell")(3), stateful=True)),
          ("Bi_LSTM", "Bidirectional(LSTM)", lambda get: get("Bidirectional")(get("LSTM")(3, stateful=True))))),
    *(Rule(f"input_{rank}d_{name}", f"{doc}: 'sequences: A 3-D tensor with shape (batch_size, timesteps, features)'",
           r"ndim=3|3-D|rank (at least )?3", lambda get, make=make, rank=rank: make(get)(_x(*(2, 4, 5, 1)[:rank])))
      for name, doc, rank, make in (
          ("SimpleRNN", "SimpleRNN", 4, lambda get: get("SimpleRNN")(3)),
          ("GRU", "GRU", 2, lambda get: get("GRU")(3)),
          ("RNN_SimpleRNNCell", "RNN", 2, lambda get: get("RNN")(get("SimpleRNNCell")(3))),
          ("Bi_LSTM", "Bidirectional (the wrapped RNN's input)", 2, lambda get: get("Bidirectional")(get("LSTM")(3))))),
    # TimeDistributed passes its mask on to the wrapped layer, one time slice at a time: a mask that
    # is not the input's (batch, time) would be sliced wrongly. Keras 3 refuses it by name.
    *(Rule(f"td_mask_{name}_LSTM", "TimeDistributed: 'mask: Binary tensor of shape `(samples, timesteps)` "
           "indicating whether a given timestep should be masked'", r"\bmask\b",
           lambda get, shape=shape: get("TimeDistributed")(get("LSTM")(3))(_x(2, 3, 4, 5), mask=np.ones(shape, bool)))
      for name, shape in (("other_batch", (4, 3, 4)), ("other_time", (2, 2, 4)), ("one_dimension", (2,)))),
    Rule("input_4d_ConvLSTM2D", "ConvLSTM2D: 'Input shape: ... 5D tensor with shape (samples, time, rows, cols, "
         "channels)'", r"ndim=5|5-?D|rank 5", lambda get: get("ConvLSTM2D")(3, 3)(_x(2, 4, 5, 1))),
]
BY_ID = {r.id: r for r in RULES}


@pytest.mark.parametrize("rule", [r.id for r in RULES])
def test_ruled_out_argument_raises_value_error_naming_it(impl, device, rule):
    from rnnconf.harness.outcomes import not_applicable, skip_without_gpu

    skip_without_gpu(impl, device)
    spec = BY_ID[rule]
    lacking = spec.argument and impl.lacks_argument(*spec.argument)
    if lacking:
        not_applicable(impl, lacking)
    what = f"{rule} ({spec.where}) on {impl.title}, {device}"
    error: Exception | None = None
    try:
        with impl.device(device):
            spec.trigger(impl.layer)
    except MissingLayer:
        raise  # fails the case as a missing layer, not as a validation
    except Exception as exc:  # noqa: BLE001 -- which exception came back is the claim
        error = exc
    assert error is not None, f"{what}: no error -- the configuration was accepted"
    assert isinstance(error, ValueError), (
        f"{what}: raised {type(error).__name__} instead of ValueError: {_first_line(error)}")
    assert re.search(spec.names, str(error)), (
        f"{what}: the ValueError does not name the argument (/{spec.names}/): {_first_line(error)}")


def _first_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:300]
