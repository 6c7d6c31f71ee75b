"""``load(spec)``: the implementation named on the command line, in the flavour it speaks."""

from __future__ import annotations

import importlib
import os
import warnings
from typing import Any

from rnnconf.impl.base import Implementation, ImplementationError
from rnnconf.impl.keras2 import Keras2
from rnnconf.impl.keras3 import Keras3

FLAVORS: dict[str, type[Implementation]] = {"keras3": Keras3, "keras2": Keras2}


def load(spec: str) -> Implementation:
    """Import the implementation named ``spec``: ``keras``, ``tf_keras`` or a module path."""
    spec = spec.strip()
    if not spec:
        raise ImplementationError("--impl is empty: pass keras, tf_keras or a module path")
    # TensorFlow's C++ start-up chatter hides the report header; keep a user's own setting.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # What the implementation warns while it is imported and set up (a FutureWarning of its
    # NumPy, say) is a fact about it, recorded for the header and the report; the suite's own
    # strict warning filters are not for it.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        impl = _load(spec)
    impl.warnings_at_import = [describe_warning(w) for w in caught]
    return impl


def describe_warning(w: warnings.WarningMessage) -> str:
    """``FutureWarning: <first line> (…/site-packages/pkg/mod.py:12)``: no path of the machine."""
    where = os.path.normpath(str(w.filename)).split(os.sep)
    for marker in ("site-packages", "dist-packages"):
        if marker in where:
            where = ["…"] + where[where.index(marker):]
            break
    else:
        where = where[-3:]
    text = str(w.message).strip().splitlines()[0] if str(w.message).strip() else ""
    return f"{w.category.__name__}: {text} ({'/'.join(where)}:{w.lineno})"


def _load(spec: str) -> Implementation:
    try:
        module = importlib.import_module(spec)
    except Exception as exc:  # any import failure is a usage error, never a green empty run
        raise ImplementationError(
            f"--impl {spec!r}: cannot import module {spec!r} ({type(exc).__name__}: {exc}). "
            "Pass 'keras' (Keras 3; choose the backend with KERAS_BACKEND), 'tf_keras' (Keras 2), "
            "or an importable module that exposes the Keras layers API as <module>.layers, "
            "e.g. --impl fixtures.broken.wrong_arity; install the implementation with "
            "'make venv EXTRAS=...' (see README).") from exc
    if not hasattr(module, "layers"):
        raise ImplementationError(
            f"--impl {spec!r}: module {module.__name__!r} (from {getattr(module, '__file__', '?')}) "
            "has no attribute 'layers'; an implementation must expose the Keras layers API as "
            "<module>.layers (layers.LSTM, layers.GRU, ...)")
    return FLAVORS[_flavor(module)](spec, module)


def _flavor(module: Any) -> str:
    """``keras3`` when the module speaks Keras 3 (a device scope and a backend), else ``keras2``."""
    declared = getattr(module, "RNN_CONFORMANCE_FLAVOR", None)
    if declared:
        return declared
    version = str(getattr(module, "__version__", ""))
    if module.__name__ == "keras" and version.startswith("3"):
        return "keras3"
    if callable(getattr(module, "device", None)) and hasattr(getattr(module, "backend", None), "backend"):
        return "keras3"
    return "keras2"
