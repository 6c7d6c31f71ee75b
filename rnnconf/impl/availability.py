"""Which options an implementation documents, so that "not applicable" is decided from what the
implementation says it takes -- never from the error a build raised.

An option a release does not have makes its cases *not applicable* (n/a in the report). A release
that has the option but fails on it (it stopped forwarding it through ``**kwargs``, say) is a
regression and must fail. Two sources, in this order:

1. **The table** (:data:`TABLE`), for the implementations whose history is known: when Keras 3
   and tf-keras gained each option a release may lack, read from their source at each release
   tag. For ``keras`` and ``tf_keras`` an option the table does not list is one every covered
   release takes (Keras 3.0 on, tf-keras 2.15 on): never n/a.
2. **The classes themselves**, for any other module (a Keras-compatible library, the suite's
   fakes): the option is taken when a class on the constructor's path names it as a parameter --
   the class itself, and through ``**kwargs`` each base class in method-resolution order, as
   ``super().__init__(**kwargs)`` forwards it -- and lacking when the path ends (a constructor
   without ``**kwargs``, or the end of the MRO) before any class names it.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

from packaging.version import InvalidVersion, Version

CONV = ("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
RECURRENT = ("SimpleRNN", "LSTM", "GRU", "SimpleRNNCell", "LSTMCell", "GRUCell", *CONV)


@dataclasses.dataclass(frozen=True)
class Since:
    """``package``'s ``classes`` take ``option`` from release ``since`` on (None: no release
    does); ``why`` says where that comes from."""

    package: str
    classes: tuple[str, ...]
    option: str
    since: str | None
    why: str


TABLE: tuple[Since, ...] = (
    Since("keras", ("LSTM", "GRU"), "use_cudnn", "3.2.0",
          "use_cudnn arrived in Keras 3.2.0 (keras/layers/rnn/lstm.py and gru.py at v3.2.0; absent at v3.1.1)"),
    Since("tf_keras", ("LSTM", "GRU"), "use_cudnn", None,
          "tf-keras has no use_cudnn: it chooses the cuDNN kernel itself (tf_keras/layers/rnn/lstm.py, gru.py)"),
    Since("tf_keras", RECURRENT, "seed", None,
          "tf-keras's recurrent layers and cells take no seed: their dropout masks are drawn unseeded"),
    Since("keras", ("LSTM", "GRU", "RNN"), "time_major", None,
          "Keras 3 has no time_major: its recurrent layers read (batch, timesteps, ...) only "
          "(keras/src/layers/rnn/rnn.py; tf-keras documents it on LSTM, GRU and RNN)"),
    Since("tf_keras", CONV, "unroll", None,
          "tf-keras's convolutional RNNs refuse unroll ('Unrolling is not possible with convolutional "
          "RNNs', tf_keras/layers/rnn/base_conv_rnn.py)"),
)


def package_of(module: Any) -> str:
    return module.__name__.split(".")[0]


def lacking(module: Any, version: str, name: str, option: str) -> str:
    """Why ``module.layers.<name>`` does not take ``option`` in this release, or "" when it does
    (a missing layer is not a lacking option: that is a failure, decided elsewhere)."""
    cls = getattr(getattr(module, "layers", None), name, None)
    if cls is None:
        return ""
    package = package_of(module)
    if any(row.package == package for row in TABLE):
        return _from_table(package, version, name, option)
    return _from_classes(cls, name, option)


def _from_table(package: str, version: str, name: str, option: str) -> str:
    for row in TABLE:
        if row.package != package or row.option != option or name not in row.classes:
            continue
        if row.since is None:
            return f"{package} documents no {option!r} for layers.{name}: {row.why}"
        if older_than(version, row.since):  # an unreadable version: the option is assumed there, so a failure shows
            return f"layers.{name}() takes {option!r} from {package} {row.since} on: {row.why}"
    return ""


def _from_classes(cls: type, name: str, option: str) -> str:
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue  # inherits its constructor: the next class with one decides
        try:
            params = inspect.signature(init).parameters
        except (TypeError, ValueError):
            return ""  # a constructor that cannot be read: assume the option is taken
        if option in params:
            return ""
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            break
    return (f"layers.{name}() takes no argument {option!r}: no constructor on its path "
            f"({' -> '.join(k.__name__ for k in cls.__mro__ if '__init__' in k.__dict__)}) names it")


def older_than(version: str, release: str) -> bool:
    """Whether ``version`` is older than ``release``; False for an unreadable version (an
    unversioned module), so what the release introduced is assumed there and a failure shows."""
    try:
        return Version(version) < Version(release)
    except InvalidVersion:
        return False
