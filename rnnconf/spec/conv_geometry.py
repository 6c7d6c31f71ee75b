"""ConvLSTM's geometry arguments, crossed: ``padding`` x ``strides``/``dilation_rate`` x
``data_format``, for each rank.

The catalog runs one geometry per ConvLSTM rank (and ``channels_first`` once) through every
family; this module lists every combination the documentation allows, for
tests/test_conv_geometry.py. ``strides`` and ``dilation_rate`` are each 1 or 2, but not both 2:
the docstrings rule that out ("Specifying any stride value != 1 is incompatible with specifying
any dilation_rate value != 1"; tests/test_validation.py checks the error). The input's spatial
dims are larger than the catalog's, (9, 6, 5), so a ``"valid"`` dilated kernel (span 5) still
leaves an output, strides of 2 give odd and even "same" paddings both, and no geometry's output
is (units, units, ...) in every spatial dim, so a state with its channel axis misplaced shows in
its shape.

The default lane runs a strength-2 covering array of the four factors (rnnconf/spec/pairwise.py):
every pair of rank, padding, step and data_format meets in some case; ``--full`` runs all 36.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rnnconf.spec import pairwise
from rnnconf.spec.catalog import BY_ID, Entry

SPATIAL = (9, 6, 5)
PADDINGS = ("same", "valid")
STEPS = ((1, 1), (2, 1), (1, 2))  # (strides, dilation_rate)
FORMATS = ("channels_last", "channels_first")
BASE = {1: "ConvLSTM1D", 2: "ConvLSTM2D", 3: "ConvLSTM3D"}  # the catalog entry of each rank


@dataclasses.dataclass(frozen=True)
class Geometry:
    rank: int
    padding: str
    strides: int
    dilation_rate: int
    data_format: str

    @property
    def id(self) -> str:
        """Words joined by "+" (a case id splits on "-"): ``same+strides2+channels_first``."""
        words = [self.padding]
        if self.strides > 1:
            words.append(f"strides{self.strides}")
        if self.dilation_rate > 1:
            words.append(f"dilation{self.dilation_rate}")
        return "+".join(words + [self.data_format])

    def applies(self, entry: Entry) -> bool:
        """A geometry is a case of its rank's catalog entry only."""
        return entry.id == BASE[self.rank]

    def entry(self, base: Entry) -> Entry:
        """``base`` (its rank's catalog entry) with this geometry and the larger spatial dims."""
        spatial = SPATIAL[: self.rank]
        n = self.rank
        dims = ", ".join(map(str, spatial))
        shape = f"(B, T, F, {dims})" if self.data_format == "channels_first" else f"(B, T, {dims}, F)"
        args = [f"padding={self.padding!r}"]
        if self.strides > 1:
            args.append(f"strides={self.strides}")
        if self.dilation_rate > 1:
            args.append(f"dilation_rate={self.dilation_rate}")
        args.append(f"data_format={self.data_format!r}")
        return dataclasses.replace(
            base, label=f"ConvLSTM{n}D(units, {base.kernel_size}, {', '.join(args)}) on {shape}",
            padding=self.padding, strides=self.strides, dilation_rate=self.dilation_rate,
            data_format=self.data_format, spatial_size=spatial)


GEOMETRIES: tuple[Geometry, ...] = tuple(
    Geometry(rank, padding, s, d, fmt)
    for rank in BASE for padding in PADDINGS for s, d in STEPS for fmt in FORMATS)


def factors() -> pairwise.Factors:
    return {"rank": tuple(BASE), "padding": PADDINGS, "step": STEPS, "data_format": FORMATS}


def _row_geometry(row: dict[str, Any]) -> Geometry:
    s, d = row["step"]
    return Geometry(row["rank"], row["padding"], s, d, row["data_format"])


DEFAULT_LANE: frozenset[Geometry] = frozenset(_row_geometry(r) for r in pairwise.covering_array(factors()))


def in_default_lane(geometry: Geometry) -> bool:
    return geometry in DEFAULT_LANE


assert all(BY_ID[e].conv_rank == r for r, e in BASE.items())
