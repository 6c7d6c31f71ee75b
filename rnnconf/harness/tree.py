"""The suite's own sources as one digest, written into every record (``shapes.json``).

Two runs of the same sources on the same implementation judge a case alike, so a record whose
digest and implementation match says what a rerun of its cases would: the self-tests' controls
read ``make report``'s record for the cases it ran instead of running them again
(tests/selftest/suite.py, :func:`recorded`).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# what decides a conformance case's verdict: the harness and spec, the test modules, the root
# conftest, pytest's configuration and the expectation files (the fakes do not: a record is of
# one implementation)
SOURCES = ("rnnconf/**/*.py", "tests/*.py", "conftest.py", "pyproject.toml", "fixtures/expectations/*.toml")


@functools.cache
def digest(root: Path = ROOT) -> str:
    """A SHA-256 over the paths and bytes of :data:`SOURCES` under ``root`` (16 hex digits)."""
    h = hashlib.sha256()
    for pattern in SOURCES:
        for path in sorted(root.glob(pattern)):
            if "__pycache__" in path.parts or not path.is_file():
                continue
            h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]
