"""The suite's own data: seeded inputs and weights, the same in every process and run.

Nothing here comes from the implementation under test: the harness sets these weights with
``set_weights`` and feeds these inputs, and the oracle computes from the same arrays.
"""

from __future__ import annotations

import zlib

import numpy as np

from rnnconf.spec.catalog import Entry, Shape


def seed_for(*parts: str) -> int:
    """A stable seed from text (Python's hash() is salted per process)."""
    return zlib.crc32("|".join(parts).encode())


def make_input(entry: Entry, shape: Shape, salt: str = "") -> np.ndarray:
    """Non-integer float32 values, every batch row different."""
    rng = np.random.default_rng(seed_for("input", entry.id, shape.id, salt))
    return rng.normal(0.0, 1.0, size=entry.input_shape(shape)).astype(np.float32)


def make_weights(shapes: list[tuple[int, ...]], *parts: str, scale: float = 0.5) -> list[np.ndarray]:
    rng = np.random.default_rng(seed_for("weights", *parts))
    return [rng.uniform(-scale, scale, size=s).astype(np.float32) for s in shapes]
