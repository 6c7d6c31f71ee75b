"""The options that change what a recurrent layer returns or computes, in pairs.

Each option is right alone in the suite's other families; a bug that needs two options together
(a mask with ``go_backwards``, ``stateful`` with ``initial_state``, ``unroll`` under a dtype
policy...) passes them all. :func:`rows` gives, per catalog entry, a strength-2 covering array
(:mod:`rnnconf.spec.pairwise`) over the options the entry documents: every pair of option values
meets in some row, and each row is one case of ``tests/test_option_pairs.py``, checked against the
oracle (or, with dropout in training, where the oracle has no model, against the documented
identities).

The factors and their values (the first is the default):

- ``return_sequences``, ``return_state``;
- ``mask``: none, ``right_padded``, ``arbitrary`` (``reference.make_mask``; not ConvLSTM, which
  the oracle cannot mask);
- ``go_backwards`` (not Bidirectional: the wrapper runs one half backwards itself);
- ``unroll``;
- ``stateful``: the sequence given in two calls of two steps each, the states carried;
- ``initial_state``: seeded initial states given to the (first) call;
- ``zero_output_for_mask`` (not Bidirectional, which sets it itself; only with a mask);
- ``dropout``: ``dropout=recurrent_dropout=0.5`` and ``training=True`` (not the suite's own cells,
  which take no dropout);
- ``use_cudnn``: the default ``"auto"`` or ``False`` (LSTM and GRU layers; ``True`` raises on a
  device without cuDNN, which tests/test_cudnn.py checks);
- ``dtype``: ``float32``, ``float64`` or ``mixed_float16``.
"""

from __future__ import annotations

import functools
from typing import Any

from rnnconf.spec import pairwise
from rnnconf.spec.catalog import BY_ID, Entry

MASKS = ("none", "right_padded", "arbitrary")
DTYPES = ("float32", "float64", "mixed_float16")
# the id words of the non-default values; a row with none is "defaults"
WORDS = {"go_backwards": "backwards", "unroll": "unroll", "stateful": "stateful",
         "initial_state": "init", "zero_output_for_mask": "zero_output", "dropout": "dropout",
         "use_cudnn": "no_cudnn"}
DROPOUT = 0.5
CHUNKS = 2  # a stateful row gives the sequence in this many calls


def factors(entry: Entry) -> pairwise.Factors:
    """The options ``entry`` documents, each with its values (default first)."""
    out: pairwise.Factors = {"return_sequences": (False, True), "return_state": (False, True)}
    if entry.form != "conv":
        out["mask"] = MASKS
    if not entry.bidirectional:
        out["go_backwards"] = (False, True)
    out["unroll"] = (False, True)
    out["stateful"] = (False, True)
    out["initial_state"] = (False, True)
    if entry.form != "conv" and not entry.bidirectional:
        out["zero_output_for_mask"] = (False, True)
    if not entry.custom:
        out["dropout"] = (False, True)
    if entry.form in ("layer", "bidirectional") and all(c.kind in ("lstm", "gru") for c in entry.halves_cells()):
        out["use_cudnn"] = ("auto", False)
    out["dtype"] = DTYPES
    return out


def allowed(row: dict[str, Any]) -> bool:
    """zero_output_for_mask only with a mask (without one it changes nothing: a pair with "none"
    would be a case that cannot show the option)."""
    return not (row.get("zero_output_for_mask") and row.get("mask", "none") == "none")


@functools.lru_cache(maxsize=None)
def _rows(entry_id: str) -> tuple[tuple[tuple[str, Any], ...], ...]:
    entry = BY_ID[entry_id]
    return tuple(tuple(r.items()) for r in pairwise.covering_array(factors(entry), allowed))


def rows(entry: Entry) -> list[dict[str, Any]]:
    """The covering array of ``entry``: one dict per case, every factor of :func:`factors` set."""
    return [dict(r) for r in _rows(entry.id)]


def row_id(row: dict[str, Any]) -> str:
    """The case id's words for a row's options other than the flags (``-`` separates the case
    id's axes, so words are joined by ``+``): the mask kind, each option set to its non-default
    value, and a dtype other than float32; ``defaults`` when there is none."""
    words = []
    if row.get("mask", "none") != "none":
        words.append(row["mask"])
    for name, word in WORDS.items():
        if name in row and row[name] != factors_default(name):
            words.append(word)
    if row.get("dtype", "float32") != "float32":
        words.append(row["dtype"])
    return "+".join(words) or "defaults"


def factors_default(name: str) -> Any:
    return "auto" if name == "use_cudnn" else False


def layer_options(row: dict[str, Any]) -> dict[str, Any]:
    """The constructor arguments of a row (the flags apart: the case builds each with its own)."""
    out: dict[str, Any] = {}
    for name in ("go_backwards", "unroll", "stateful", "zero_output_for_mask"):
        if row.get(name):
            out[name] = True
    if row.get("dropout"):
        out["dropout"] = out["recurrent_dropout"] = DROPOUT
    if row.get("use_cudnn", "auto") is False:
        out["use_cudnn"] = False
    if row.get("dtype", "float32") != "float32":
        out["dtype"] = row["dtype"]
    return out


def coverage(entry: Entry, taken: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What the rows of ``entry`` cover: the required pairs, the pairs no allowed row can hold,
    and any required pair the rows miss (none, for the generated array)."""
    f = factors(entry)
    chosen = rows(entry) if taken is None else taken
    return {
        "factors": {k: list(v) for k, v in f.items()},
        "rows": len(chosen),
        "required": len(pairwise.required_pairs(f, allowed)),
        "covered": len(pairwise.pairs_of(chosen, f) & pairwise.required_pairs(f, allowed)),
        "uncoverable": [pairwise.describe_pair(p) for p in pairwise.sort_pairs(pairwise.uncoverable_pairs(f, allowed), f)],
        "missing": [pairwise.describe_pair(p) for p in pairwise.sort_pairs(pairwise.missing_pairs(chosen, f, allowed), f)],
    }
