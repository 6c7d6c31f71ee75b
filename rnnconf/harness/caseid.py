"""The case id: built and parsed here, and nowhere else.

A conformance test's node id reads as the case it runs::

    tests/test_structure.py::test_shapes[LSTM-seq-state-B1T4F5U3-cpu]
    tests/test_dtypes.py::test_dtype_of_every_output_and_state[GRU-last-nostate-B3T4F5U3-cpu-float64]

The parameters come in one canonical order -- catalog entry (or composition, rnnconf/spec/models.py), ``seq``/``last``
(``return_sequences``), ``state``/``nostate`` (``return_state``), input shape, device -- each
present only when the test has that axis, followed by the test's own parameters (mask kind,
dtype policy, ...). pytest joins the ids in the order the axes are parametrized, and
:mod:`rnnconf.harness.axes` parametrizes them in this order, so :func:`case_id` spells what pytest
collects. :func:`parse_case_id` reads any node id back by what each token *is* (an entry of the
catalog, a flag word, a shape id, a device), so it also reads ids whose own parameters come
first (``test_printed_shapes[last-nostate-cpu-SimpleRNN]``).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Iterable

from rnnconf.spec import catalog, models

DEVICES = ("cpu", "gpu")
SEQ = {"seq": True, "last": False}
STATE = {"state": True, "nostate": False}
SHAPE_ID = re.compile(r"B(\d+)T(\d+)F(\d+)U(\d+)")


def seq_word(return_sequences: bool) -> str:
    return "seq" if return_sequences else "last"


def state_word(return_state: bool) -> str:
    return "state" if return_state else "nostate"


def case_id(module: str, test: str, *, entry: str | None = None,
            return_sequences: bool | None = None, return_state: bool | None = None,
            shape: "catalog.Shape | str | None" = None, device: str | None = None,
            extra: Iterable[str] = ()) -> str:
    """The node id of one case, e.g. ``case_id("tests/test_structure.py", "test_arity",
    entry="LSTM", return_sequences=True, return_state=False, shape=NOTEBOOK_SHAPE, device="cpu")``.
    Axes left as None are ones the test does not have."""
    parts = [entry,
             None if return_sequences is None else seq_word(return_sequences),
             None if return_state is None else state_word(return_state),
             shape if shape is None or isinstance(shape, str) else shape.id,
             device, *extra]
    params = "-".join(p for p in parts if p is not None)
    return f"{module}::{test}[{params}]" if params else f"{module}::{test}"


@dataclasses.dataclass(frozen=True)
class CaseId:
    """What a node id says, axis by axis (None where the test has no such axis)."""

    nodeid: str
    module: str
    test: str
    entry: str | None = None
    return_sequences: bool | None = None
    return_state: bool | None = None
    shape: str | None = None
    device: str | None = None
    extra: tuple[str, ...] = ()

    @property
    def group(self) -> str:
        """The cases that share built layers: one (entry, shape, device); the node id when the
        test is not a catalog case."""
        if self.entry is None:
            return self.nodeid
        return f"{self.entry}-{self.shape or ''}-{self.device or ''}"


def parse_case_id(nodeid: str) -> CaseId:
    module, _, rest = nodeid.partition("::")
    test, bracket, params = rest.partition("[")
    fields: dict = {"nodeid": nodeid, "module": module, "test": test}
    if not bracket or not params.endswith("]"):
        return CaseId(**fields)
    extra = []
    for token in params[:-1].split("-"):
        if (token in catalog.BY_ID or token in models.BY_ID) and "entry" not in fields:
            fields["entry"] = token
        elif token in SEQ and "return_sequences" not in fields:
            fields["return_sequences"] = SEQ[token]
        elif token in STATE and "return_state" not in fields:
            fields["return_state"] = STATE[token]
        elif SHAPE_ID.fullmatch(token) and "shape" not in fields:
            fields["shape"] = token
        elif token in DEVICES and "device" not in fields:
            fields["device"] = token
        else:
            extra.append(token)
    return CaseId(**fields, extra=tuple(extra))
