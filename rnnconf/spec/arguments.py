"""The arguments each layer class the suite tests documents, and the tests whose claims cover them.

:data:`DOCUMENTED` comes from the docstrings themselves -- Keras 3's and tf-keras's, read by
``python -m rnnconf arguments`` (``rnnconf/tools/arguments.py``) into
``rnnconf/spec/documented_arguments.json``: per class the constructor's ``Args:`` in docstring
order (Keras 3's first, then those only tf-keras documents), each with the first sentence of its
description and the flavours that document it. :data:`CALL_ARGUMENTS` is the ``Call arguments:``
section, the same way. Nothing here is added by hand: an argument a constructor takes but its
docstring does not list (Keras 3's ``SimpleRNN(seed=)``, ``Bidirectional(weights=)``, every
layer's ``dtype``) is not documented, and so is in neither.

:data:`CLAIMS` is written by hand: per argument name, the conformance tests that check what its
documentation promises. A test is listed only where it genuinely checks that promise on the
classes that document the argument; a new claim test is one more string in its tuple (and
``tests/unit/test_arguments_table.py`` checks that every test named exists). :func:`coverage`
says, per class, which documented arguments no test claims.

Imports the standard library and the spec only.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

PATH = Path(__file__).with_name("documented_arguments.json")
FLAVORS = ("keras3", "tf_keras")


@dataclasses.dataclass(frozen=True)
class Argument:
    """A documented argument: its name, the first sentence of its description (Keras 3's where
    both document it), which flavours document it, and whether it is a catch-all (``**kwargs``).
    ``sentences``: each documenting flavour's own first sentence."""

    name: str
    sentence: str
    keras3: bool
    tf_keras: bool
    catch_all: bool = False
    sentences: tuple[tuple[str, str], ...] = ()

    @property
    def flavors(self) -> tuple[str, ...]:
        return tuple(f for f in FLAVORS if getattr(self, f))


def _arguments(rows: list[dict[str, Any]]) -> tuple[Argument, ...]:
    return tuple(Argument(r["name"], r["sentence"], r["keras3"], r["tf_keras"], r.get("catch_all", False),
                          tuple(r.get("sentences", {}).items())) for r in rows)


def load(path: Path = PATH) -> dict[str, Any]:
    """The table at ``path``: ``documented`` and ``call_arguments`` (class -> arguments),
    ``sources`` (flavour -> package and version read) and ``signatures`` (class -> flavour ->
    what the constructor and ``call`` name that the docstring does not, and the reverse)."""
    doc = json.loads(Path(path).read_text())
    classes = doc["classes"]
    return {
        "documented": {name: _arguments(c["arguments"]) for name, c in classes.items()},
        "call_arguments": {name: _arguments(c["call_arguments"]) for name, c in classes.items()},
        "sources": doc["sources"],
        "signatures": {name: {"constructor": c.get("constructor", {}), "call": c.get("call", {})}
                       for name, c in classes.items()},
    }


_TABLE = load()
DOCUMENTED: dict[str, tuple[Argument, ...]] = _TABLE["documented"]
CALL_ARGUMENTS: dict[str, tuple[Argument, ...]] = _TABLE["call_arguments"]
SOURCES: dict[str, dict[str, str]] = _TABLE["sources"]
SIGNATURES: dict[str, dict[str, Any]] = _TABLE["signatures"]

# ---- the claims -------------------------------------------------------------------------------
_ARITY = "tests/test_structure.py::test_arity"
_SHAPES = "tests/test_structure.py::test_shapes"
_VALUES = "tests/test_values.py::test_values_match_oracle"
_LAYOUT = "tests/test_values.py::test_weight_layout"
_ARG_VALUES = "tests/test_arguments.py::test_argument_values"
_ARG_CONFIG = ("tests/test_arguments.py::test_config_keeps_argument", "tests/test_arguments.py::test_keras_file_keeps_argument")
_ARG_WEIGHTS = "tests/test_arguments.py::test_initializer_on_built_weights"
_ARG_DEFAULTS = "tests/test_arguments.py::test_default_initializers"
_ARG_PENALTY = "tests/test_arguments.py::test_weight_penalty_in_losses"
_ARG_CONSTRAINT = "tests/test_arguments.py::test_constraint_after_sgd_step"
_PAIRS = "tests/test_option_pairs.py::test_option_pairs"
_PAIRS_TRAINING = "tests/test_option_pairs.py::test_option_pairs_in_training"
_GEOMETRY = ("tests/test_conv_geometry.py::test_conv_geometry_shapes",
             "tests/test_conv_geometry.py::test_conv_geometry_compute_output_shape",
             "tests/test_conv_geometry.py::test_conv_geometry_values")
# one test, many rules: each Rule there quotes the docstring sentence it checks
_RULED_OUT = "tests/test_validation.py::test_ruled_out_argument_raises_value_error_naming_it"

CLAIMS: dict[str, tuple[str, ...]] = {
    # what a layer returns ("Whether to return the last output ... or the full sequence", "the last
    # state in addition to the output"), both defaulting to False
    "return_sequences": (_ARITY, _SHAPES, "tests/test_notebook.py::test_flags_default_to_false",
                         "tests/test_notebook.py::test_printed_shapes",
                         "tests/test_identities.py::test_flag_combinations_agree"),
    "return_state": (_ARITY, _SHAPES, "tests/test_notebook.py::test_flags_default_to_false",
                     "tests/test_notebook.py::test_printed_shapes",
                     "tests/test_notebook.py::test_lstm_returns_output_h_and_c",
                     "tests/test_identities.py::test_last_step_is_final_state"),
    # the sizes and the cells: shapes, and the stacked cells' values ("stacked on top of each other");
    # StackedRNNCells is reached through RNN([cell, cell]), which makes one of the list
    "units": (_SHAPES, _RULED_OUT),
    "cell": (_SHAPES, _VALUES),
    "cells": (_SHAPES, _VALUES),
    # options that change what is computed
    "go_backwards": ("tests/test_go_backwards.py::test_go_backwards_matches_oracle",
                     "tests/test_go_backwards.py::test_go_backwards_last_step_is_final_state"),
    "stateful": ("tests/test_stateful.py::test_stateful_halves_equal_whole",
                 "tests/test_stateful.py::test_bidirectional_stateful_forward_half_carries",
                 "tests/test_compiled.py::test_compiled_stateful_halves_equal_whole",
                 "tests/test_fit.py::test_stateful_fit_carries_states_across_batches", _RULED_OUT),
    "unroll": ("tests/test_unroll_dropout.py::test_unroll_matches_oracle_and_loop",),
    "dropout": ("tests/test_unroll_dropout.py::test_dropout_inactive_at_inference",
                "tests/test_training_mode.py::test_dropout_in_training_changes_values",
                "tests/test_training_mode.py::test_input_dropout_mask", _RULED_OUT),
    "recurrent_dropout": ("tests/test_unroll_dropout.py::test_dropout_inactive_at_inference",
                          "tests/test_training_mode.py::test_dropout_in_training_changes_values",
                          "tests/test_training_mode.py::test_recurrent_dropout_mask", _RULED_OUT),
    "use_cudnn": ("tests/test_cudnn.py::test_use_cudnn_matches_oracle",
                  "tests/test_cudnn.py::test_use_cudnn_true_without_fast_path_raises", _RULED_OUT),
    # GRU(reset_after=False) is the catalog's GRU_reset_before entry; the layout: separate biases
    # for kernel and recurrent_kernel with reset_after=True (GRU's docstring)
    "reset_after": (_VALUES, _LAYOUT),
    "zero_output_for_mask": ("tests/test_masking.py::test_zero_output_for_mask_output",
                             "tests/test_masking.py::test_zero_output_for_mask_states"),
    # Bidirectional: every merge mode (None: "returned as a list"), an explicit backward layer
    "layer": (_ARITY, _VALUES),
    "merge_mode": (_ARITY, _SHAPES, _VALUES, _RULED_OUT),
    "backward_layer": (_VALUES, "tests/test_serialization.py::test_config_round_trip_keeps_backward_layer",
                       "tests/test_serialization.py::test_keras_file_keeps_backward_layer", _RULED_OUT),
    # ConvLSTM: "same" and "valid" padding, strides and dilation (strides > 1 with dilation > 1
    # refused), each catalog entry through every family; every combination with both data formats
    # in tests/test_conv_geometry.py, and channels_first through every family (a catalog entry)
    "filters": (_SHAPES, _VALUES),
    "kernel_size": (_SHAPES, _VALUES),
    "padding": (_SHAPES, _VALUES, *_GEOMETRY),
    "strides": (_SHAPES, _VALUES, *_GEOMETRY, _RULED_OUT),
    "dilation_rate": (_SHAPES, _VALUES, *_GEOMETRY, _RULED_OUT),
    "data_format": (_SHAPES, _VALUES, *_GEOMETRY),
    # tf-keras: "If True, the inputs and outputs will be in shape (timesteps, batch, ...)"
    "time_major": ("tests/test_arguments.py::test_time_major",),
    # the arguments' own claims (tests/test_arguments.py, rnnconf/spec/nondefault.py): each set to a
    # value other than its default, checked on the layer built, and kept by get_config/from_config
    "activation": (_ARG_VALUES, *_ARG_CONFIG),
    "recurrent_activation": (_ARG_VALUES, *_ARG_CONFIG),
    "use_bias": (_ARG_VALUES, *_ARG_CONFIG, _LAYOUT),
    "kernel_initializer": (_ARG_WEIGHTS, _ARG_DEFAULTS, *_ARG_CONFIG),
    "recurrent_initializer": (_ARG_WEIGHTS, _ARG_DEFAULTS, *_ARG_CONFIG),
    "bias_initializer": (_ARG_WEIGHTS, _ARG_DEFAULTS, *_ARG_CONFIG),
    "unit_forget_bias": (_ARG_WEIGHTS, _ARG_DEFAULTS, *_ARG_CONFIG),
    "kernel_regularizer": (_ARG_PENALTY, *_ARG_CONFIG),
    "recurrent_regularizer": (_ARG_PENALTY, *_ARG_CONFIG),
    "bias_regularizer": (_ARG_PENALTY, *_ARG_CONFIG),
    "activity_regularizer": ("tests/test_arguments.py::test_activity_penalty_in_losses", *_ARG_CONFIG),
    "kernel_constraint": (_ARG_CONSTRAINT, *_ARG_CONFIG),
    "recurrent_constraint": (_ARG_CONSTRAINT, *_ARG_CONFIG),
    "bias_constraint": (_ARG_CONSTRAINT, *_ARG_CONFIG),
    "seed": ("tests/test_arguments.py::test_seed_draws_the_same_masks", *_ARG_CONFIG),
}

# Options in pairs (tests/test_option_pairs.py, rnnconf/spec/option_pairs.py): every pair of their
# values meets in some case, against the oracle
for _name in ("return_sequences", "return_state", "go_backwards", "unroll", "stateful", "zero_output_for_mask",
              "dropout", "recurrent_dropout", "use_cudnn"):
    CLAIMS[_name] += (_PAIRS, _PAIRS_TRAINING)


def coverage(documented: dict[str, tuple[Argument, ...]] | None = None,
             claims: dict[str, tuple[str, ...]] | None = None) -> dict[str, dict[str, Any]]:
    """Per class: how many arguments it documents (in either flavour; catch-alls left out of every
    count and listed apart), how many of them a test claims, and the names of the others."""
    documented = DOCUMENTED if documented is None else documented
    claims = CLAIMS if claims is None else claims
    out = {}
    for name, args in documented.items():
        counted = [a for a in args if not a.catch_all]
        claimed = [a.name for a in counted if claims.get(a.name)]
        out[name] = {
            "documented": len(counted),
            "claimed": len(claimed),
            "claimed_names": claimed,
            "unclaimed": [a.name for a in counted if not claims.get(a.name)],
            "catch_all": [a.name for a in args if a.catch_all],
            **{f: sum(1 for a in counted if getattr(a, f)) for f in FLAVORS},
        }
    return out


def markdown(documented: dict[str, tuple[Argument, ...]] | None = None,
             sources: dict[str, dict[str, str]] | None = None) -> str:
    """The table the documentation shows (``python -m rnnconf docs``, docs/claims.md)."""
    sources = SOURCES if sources is None else sources
    read = " and ".join(f"{s['package']} {s['version']}" for s in sources.values())
    lines = [f"*Read from the docstrings of {read} (`python -m rnnconf arguments`); a claim is a test "
             "listed in `rnnconf/spec/arguments.py` (`CLAIMS`).*", "",
             "| class | documented | with a claim test | without |", "|---|---|---|---|"]
    for name, row in coverage(documented).items():
        without = ", ".join(f"`{n}`" for n in row["unclaimed"]) or "—"
        lines.append(f"| `{name}` | {row['documented']} | {row['claimed']} | {without} |")
    return "\n".join(lines) + "\n"
