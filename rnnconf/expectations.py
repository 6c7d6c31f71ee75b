"""Known nonconformances as data: strict xfails with a public link, per implementation.

A file ``fixtures/expectations/<impl>.toml`` applies to every backend of that implementation,
``<impl>-<backend>.toml`` to one backend (``keras-tensorflow.toml``, ``keras-jax.toml``...).
Each entry::

    [[xfail]]
    id = "tests/test_structure.py::test_structure[RNN_LSTMCell_GRUCell-*-state-*]"  # only * is a wildcard;
                                                                                    # or a list of such ids
    reason = "what the implementation does instead"
    link = "https://github.com/keras-team/keras/issues/NNNN"  # or a precise description

A matching case runs as ``xfail(strict=True)``: the run stays green while the bug ships and turns
red the day it is fixed. An entry that matches no case that ran is reported as stale.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any, Iterable

EXPECTATIONS_DIR = Path("fixtures") / "expectations"


@dataclasses.dataclass(frozen=True)
class Known:
    pattern: str
    reason: str
    link: str
    source: str

    def matches(self, nodeid: str) -> bool:
        return glob_pattern(self.pattern).fullmatch(nodeid) is not None

    def text(self) -> str:
        return f"known nonconformance: {self.reason} [{self.link}]"

    def as_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


class Expectations:
    def __init__(self, entries: list[Known], files: list[str]) -> None:
        self.entries = entries
        self.files = files

    @classmethod
    def for_run(cls, option: str, rootdir: Path, impl: Any) -> "Expectations":
        if option == "none":
            return cls([], [])
        if option == "auto":
            base = rootdir / EXPECTATIONS_DIR
            names = [f"{impl.spec}.toml", f"{impl.spec}-{impl.backend}.toml"]
            paths = [base / n for n in names if (base / n).is_file()]
        else:
            path = Path(option)
            if not path.is_file():
                import pytest

                raise pytest.UsageError(f"--expectations {option!r}: no such file; pass a TOML "
                                        "file, 'auto' or 'none'")
            paths = [path]
        entries: list[Known] = []
        for path in paths:
            data = tomllib.loads(path.read_text())
            for i, raw in enumerate(data.get("xfail", [])):
                missing = {"id", "reason", "link"} - set(raw)
                if missing:
                    import pytest

                    raise pytest.UsageError(f"{path}: [[xfail]] #{i + 1} lacks {sorted(missing)}")
                ids = raw["id"] if isinstance(raw["id"], list) else [raw["id"]]
                entries += [Known(i, raw["reason"], raw["link"], path.name) for i in ids]
        return cls(entries, [str(p) for p in paths])

    def describe(self) -> str:
        if not self.files:
            return "none"
        return f"{len(self.entries)} known nonconformance(s) from {', '.join(Path(f).name for f in self.files)}"

    def match(self, nodeid: str) -> Known | None:
        for entry in self.entries:
            if entry.matches(nodeid):
                return entry
        return None

    def stale(self, nodeids: Iterable[str]) -> list[Known]:
        """Entries that match no case that ran, among entries whose test file ran at all (a run
        of other files says nothing about them)."""
        ids = list(nodeids)
        files = {n.split("::")[0] for n in ids}
        return [e for e in self.entries
                if any(glob_pattern(e.pattern.split("::")[0]).fullmatch(f) for f in files)
                and not any(e.matches(n) for n in ids)]


def glob_pattern(pattern: str) -> "re.Pattern[str]":
    """``*`` matches anything; every other character, brackets included, is literal."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))
