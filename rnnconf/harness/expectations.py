"""Known nonconformances as data: each names the failure it expects, and where and until when.

A file ``fixtures/expectations/<impl>.toml`` applies to every backend of that implementation,
``<impl>-<backend>.toml`` to one backend (``keras-torch.toml``...). Each entry::

    [[xfail]]
    id = "tests/test_masking.py::test_zero_output_for_mask_output[*-last-*]"  # or a list; only * is a wildcard
    raises = "AssertionError"        # the exception's class (or a base class) name
    match = "output differs from the NumPy oracle"   # a regex searched in its message
    versions = "<3.16"               # optional: PEP 440 specifier on the implementation's version
    backends = ["jax"]               # optional: only on these backends
    onednn = false                   # optional: only where TensorFlow's oneDNN CPU kernels are off (true: on)
    max_abs = 1e-7                   # optional, a numeric bug's size (max_rel: relative)
    reason = "what the implementation does instead"
    link = "https://github.com/keras-team/keras/issues/NNNN"  # or a precise reproduction

A listed case is judged by :func:`verdict` after its call:

- it fails with the named exception and a matching message: **xfailed** (the bug ships); when
  the failure carries claims (:class:`rnnconf.harness.asserts.ClaimFailures`), *each* failed
  claim must match and be within the entry's ``max_abs``/``max_rel``;
- it passes: **failed**, as a strict XPASS whose message says to bound or remove the entry;
- it fails differently: **failed**, with a message naming the expected and the actual failure.

An entry whose ``versions``/``backends`` exclude this run does not apply (the report lists it as
such); one that applies but matches no case that ran is reported as stale.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import tomllib
from pathlib import Path
from typing import Any, Iterable

import pytest

EXPECTATIONS_DIR = Path("fixtures") / "expectations"
REQUIRED = ("id", "raises", "match", "reason", "link")
OPTIONAL = ("versions", "backends", "max_abs", "max_rel", "cpu_flags", "onednn", "observed", "raised_in")
EXPECT_KEY = pytest.StashKey["Expectations"]()
KNOWN_KEY = pytest.StashKey["Known"]()
VERDICT_KEY = "rnnconf.verdict"  # user property: how an expectation judged a case


class ExpectationsError(Exception):
    """An expectations file is malformed; the run stops with a usage error."""


@dataclasses.dataclass(frozen=True)
class Known:
    """One id pattern of one [[xfail]] entry."""

    pattern: str
    raises: str  # an exception class name (a base class covers its subclasses); A|B: either
    match: str
    reason: str
    link: str
    source: str  # "keras.toml #3"
    versions: str = ""
    backends: tuple[str, ...] = ()
    # the size of a numeric nonconformance: a deviation larger than this is another bug
    max_abs: float | None = None
    max_rel: float | None = None
    # a machine-dependent bug: the entry applies only on a CPU with one of these flags (/proc/cpuinfo)
    cpu_flags: tuple[str, ...] = ()
    # False: written from the public record before this suite saw it; until a run observes it,
    # a case it lists that passes is not a strict XPASS
    observed: bool = True
    # a regex one frame of the exception's traceback ("path:function") must match: an error whose
    # message alone is generic ("list index out of range") is this bug only where it arises
    raised_in: str = ""
    # a machine-dependent bug of TensorFlow's CPU kernels: the entry applies only where TensorFlow
    # runs its oneDNN kernels (True) or does not (False) -- TensorFlow's own choice for the CPU
    # (on by default on CPUs with AVX512_VNNI/AMX-class features) or TF_ENABLE_ONEDNN_OPTS, as the
    # implementation reports it (rnnconf.impl.backends.tensorflow.onednn)
    onednn: bool | None = None

    @property
    def key(self) -> str:
        """One id pattern of one entry: ``keras.toml #3|tests/...``."""
        return f"{self.source}|{self.pattern}"

    def matches(self, nodeid: str) -> bool:
        return glob_pattern(self.pattern).fullmatch(nodeid) is not None

    def expected_failure(self) -> str:
        bounds = [f"max |diff| <= {self.max_abs:g}" if self.max_abs is not None else "",
                  f"max relative diff <= {self.max_rel:g}" if self.max_rel is not None else ""]
        size = " and ".join(b for b in bounds if b)
        return (f"{self.raises} matching /{self.match}/" + (f" with {size}" if size else "")
                + (f" raised in /{self.raised_in}/" if self.raised_in else ""))

    def covers(self, claim: Any) -> str:
        """Why one failed claim is not this entry's bug ("" when it is): its message, or its size."""
        if not re.search(self.match, claim.message):
            return f"/{self.match}/ does not match"
        for bound, value, what in ((self.max_abs, claim.max_abs, "max |diff|"),
                                   (self.max_rel, claim.max_rel, "max relative diff")):
            if bound is None:
                continue
            if value is None:
                return f"it carries no {what} to hold to {bound:g}"
            if value > bound:
                return f"{what} = {value:.3g} exceeds the entry's {bound:g}"
        return ""

    def scope(self) -> str:
        """``keras <3.16 on jax``: where the entry applies."""
        parts = [f"versions {self.versions}" if self.versions else "every version"]
        if self.backends:
            parts.append("on " + ", ".join(self.backends))
        if self.cpu_flags:
            parts.append("on a CPU with " + " or ".join(self.cpu_flags))
        if self.onednn is not None:
            parts.append(f"with TensorFlow's oneDNN CPU kernels {'on' if self.onednn else 'off'}")
        if not self.observed:
            parts.append("(not yet observed)")
        return " ".join(parts)

    def fixed_in(self) -> str:
        """The release an upper bound ``<X`` names as the first fixed one ('' if none)."""
        found = re.search(r"<\s*([0-9][^,\s]*)", self.versions)
        return found.group(1) if found and "<=" not in self.versions else ""

    def applies_to(self, version: str, backend: str, onednn: bool | None = None, *,
                   machine: bool = True) -> bool:
        """Whether the entry applies to this release on this backend, on the machine the run is
        on: its CPU's flags, and ``onednn`` (the implementation's report of TensorFlow's oneDNN
        kernels; None: no TensorFlow, so an entry that names either state does not apply).
        ``machine=False`` leaves the machine out, for reading a run recorded elsewhere."""
        if self.backends and backend not in self.backends:
            return False
        if machine and self.cpu_flags and not set(self.cpu_flags) & cpu_flags():
            return False
        if machine and self.onednn is not None and onednn is not self.onednn:
            return False
        if not self.versions:
            return True
        from packaging.specifiers import SpecifierSet
        from packaging.version import InvalidVersion, Version

        try:
            v = Version(version)
        except InvalidVersion:  # an unversioned module: a bounded entry cannot be judged
            return False
        return SpecifierSet(self.versions).contains(v, prereleases=True)

    def text(self) -> str:
        return f"known nonconformance: {self.reason} [{self.link}]"

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"expected_failure": self.expected_failure(),
                                           "scope": self.scope(), "fixed_in": self.fixed_in()}


@dataclasses.dataclass(frozen=True)
class Verdict:
    outcome: str  # "xfailed" | "failed" | "passed"
    text: str


def verdict(known: Known, exc_types: list[str] | None, message: str, claims: list | None = None,
            frames: list[str] | None = None) -> Verdict:
    """Judge one call of a listed case. ``exc_types``: the names of the raised exception's
    class and its bases (None when the call passed); ``message``: its text; ``claims``: the
    failed claims it carries (:class:`rnnconf.harness.asserts.ClaimFailures`), each judged on its
    own -- the case is a known failure only if every one is this entry's bug; ``frames``: its
    traceback as ``path:function``, innermost last (for ``raised_in``)."""
    where = f"{known.source}: {known.pattern}"
    if exc_types is None and not known.observed:
        return Verdict("passed", (
            f"the listed, not yet observed nonconformance ({where}) did not occur here: {known.reason} "
            f"[{known.link}]. Mark it observed = true when a run shows it, or remove it."))
    if exc_types is None:
        return Verdict("failed", (
            f"[XPASS(strict)] known nonconformance no longer fails ({where}): {known.reason} "
            f"[{known.link}]. If a release fixed it, bound the entry with versions = \"<FIXED\" "
            f"(it applies to {known.scope()} now); otherwise remove it."))
    raised = any(r in exc_types for r in known.raises.split("|"))
    if claims and raised:
        others = [(c, why) for c in claims if (why := known.covers(c))]
        if not others:
            return Verdict("xfailed", known.text())
        return Verdict("failed", (
            f"a known nonconformance is listed for this case ({where}), expecting "
            f"{known.expected_failure()}, but {len(others)} of the {len(claims)} failed claims are not "
            "that bug: " + " / ".join(f"{first_lines(c.message, 1)} ({why})" for c, why in others[:3])
            + (" ..." if len(others) > 3 else "")))
    bounded = known.max_abs is not None or known.max_rel is not None
    arose = not known.raised_in or any(re.search(known.raised_in, f) for f in frames or [])
    if raised and re.search(known.match, message) and not bounded and arose:
        return Verdict("xfailed", known.text())
    elsewhere = "" if arose else f" (raised in {(frames or ['an unknown frame'])[-1]})"
    return Verdict("failed", (
        f"a known nonconformance is listed for this case ({where}), expecting "
        f"{known.expected_failure()}, but it failed differently: {exc_types[0]}: "
        f"{first_lines(message)}{elsewhere}"))


def first_lines(text: str, n: int = 3) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " / ".join(lines[:n]) + (" ..." if len(lines) > n else "")


class Expectations:
    def __init__(self, entries: list[Known], files: list[str], *, version: str = "",
                 backend: str = "", onednn: bool | None = None) -> None:
        self.entries = [e for e in entries if e.applies_to(version, backend, onednn)]
        self.not_applicable = [e for e in entries if e not in self.entries]
        self.files = files
        self.version = version
        self.backend = backend
        self._by_test: dict[str, list[Known]] = {}

    @classmethod
    def load(cls, paths: list[Path], *, version: str, backend: str, onednn: bool | None = None,
             shown: list[str] | None = None) -> "Expectations":
        entries: list[Known] = []
        for path in paths:
            entries += parse(path.read_text(), path.name)
        return cls(entries, shown if shown is not None else [p.name for p in paths],
                   version=version, backend=backend, onednn=onednn)

    @classmethod
    def for_run(cls, option: str, rootdir: Path, impl: Any) -> "Expectations":
        """``option``: 'auto' (the implementation's files), 'none', or a file path."""
        if option == "none":
            return cls([], [], version=impl.version, backend=impl.backend, onednn=impl.onednn)
        if option == "auto":
            base = rootdir / EXPECTATIONS_DIR
            names = [f"{impl.spec}.toml", f"{impl.spec}-{impl.backend}.toml"]
            paths = [base / n for n in names if (base / n).is_file()]
            shown = [str(EXPECTATIONS_DIR / p.name) for p in paths]
        else:
            path = Path(option)
            if not path.is_file():
                raise ExpectationsError(f"--expectations {option!r}: no such file; pass a TOML "
                                        "file, 'auto' or 'none'")
            paths, shown = [path], [relative_path(path, rootdir)]
        return cls.load(paths, version=impl.version, backend=impl.backend, onednn=impl.onednn, shown=shown)

    def describe(self) -> str:
        if not self.files:
            return "none"
        text = f"{len(self.entries)} known nonconformance(s) from {', '.join(self.files)}"
        if self.not_applicable:
            text += f" ({len(self.not_applicable)} more do not apply to {self.version} on {self.backend})"
        return text

    def match(self, nodeid: str) -> Known | None:
        """The first entry (in file order) whose pattern matches ``nodeid``."""
        for entry in self._candidates(nodeid.split("[", 1)[0]):
            if entry.matches(nodeid):
                return entry
        return None

    def matched(self, nodeids: Iterable[str]) -> set[str]:
        """The keys of the entries that match at least one of ``nodeids``."""
        keys: set[str] = set()
        for nodeid in nodeids:
            for entry in self._candidates(nodeid.split("[", 1)[0]):
                if entry.key not in keys and entry.matches(nodeid):
                    keys.add(entry.key)
        return keys

    def _candidates(self, test: str) -> list[Known]:
        """The entries that can match a node id of ``test`` (``file::function``), in file order.

        A pattern matches a node id only if the id starts with the pattern's literal text up to
        its first ``*``; an id is ``test[params]``, so that prefix pins ``test`` whenever it
        reaches the ``[``. Matching every collected item against every entry was a measurable
        share of collection (docs/figures.md); this narrows each item to its test's entries."""
        found = self._by_test.get(test)
        if found is None:
            found = self._by_test[test] = [e for e in self.entries if _may_match(e.pattern, test)]
        return found

    def unmatched(self, nodeids: Iterable[str], deselected: set[str]) -> tuple[list[Known], list[Known]]:
        """(stale, not run in this lane): the applicable entries that match no case that ran,
        split by whether they match a case this run deselected (``deselected``: their keys)."""
        unmatched = self.stale(nodeids)
        return ([e for e in unmatched if e.key not in deselected], [e for e in unmatched if e.key in deselected])

    def stale(self, nodeids: Iterable[str]) -> list[Known]:
        """Applicable entries that match no case that ran, among entries whose test file ran
        at all (a run of other files says nothing about them)."""
        ids = list(nodeids)
        files = {n.split("::")[0] for n in ids}
        matched = self.matched(ids)
        return [e for e in self.entries
                if any(glob_pattern(e.pattern.split("::")[0]).fullmatch(f) for f in files)
                and e.key not in matched]


def _may_match(pattern: str, test: str) -> bool:
    """Whether ``pattern`` can match some node id ``test[...]`` (or ``test`` itself)."""
    literal = pattern.split("*", 1)[0]
    if "[" in literal:
        return literal.split("[", 1)[0] == test
    if "*" not in pattern:
        return pattern == test or pattern.startswith(test + "[")
    return test.startswith(literal)


def parse(text: str, name: str) -> list[Known]:
    data = tomllib.loads(text)
    entries: list[Known] = []
    for i, raw in enumerate(data.get("xfail", []), start=1):
        missing = [k for k in REQUIRED if k not in raw]
        unknown = sorted(set(raw) - set(REQUIRED) - set(OPTIONAL))
        if missing or unknown:
            raise ExpectationsError(
                f"{name}: [[xfail]] #{i} " + "; ".join(filter(None, [
                    f"lacks {missing}" if missing else "", f"has unknown keys {unknown}" if unknown else ""]))
                + f" (every entry names {', '.join(REQUIRED)}; optional: {', '.join(OPTIONAL)})")
        try:
            re.compile(raw["match"])
            re.compile(raw.get("raised_in", ""))
            if raw.get("versions"):
                from packaging.specifiers import SpecifierSet

                SpecifierSet(raw["versions"])
        except Exception as exc:
            raise ExpectationsError(f"{name}: [[xfail]] #{i}: {type(exc).__name__}: {exc}") from None
        for key in ("max_abs", "max_rel"):
            if key in raw and (not isinstance(raw[key], (int, float)) or raw[key] <= 0):
                raise ExpectationsError(f"{name}: [[xfail]] #{i}: {key} must be a positive number, "
                                        f"got {raw[key]!r}")
        for key in ("observed", "onednn"):
            if key in raw and not isinstance(raw[key], bool):
                raise ExpectationsError(f"{name}: [[xfail]] #{i}: {key} must be true or false")
        flags = raw.get("cpu_flags", [])
        ids = raw["id"] if isinstance(raw["id"], list) else [raw["id"]]
        backends = raw.get("backends", [])
        entries += [Known(p, raw["raises"], raw["match"], raw["reason"], raw["link"], f"{name} #{i}",
                          raw.get("versions", ""), tuple([backends] if isinstance(backends, str) else backends),
                          raw.get("max_abs"), raw.get("max_rel"),
                          tuple([flags] if isinstance(flags, str) else flags), raw.get("observed", True),
                          raw.get("raised_in", ""), raw.get("onednn"))
                    for p in ids]
    return entries


def cpu_flags() -> set[str]:
    """The CPU's feature flags (Linux's /proc/cpuinfo; elsewhere none are known, so an entry that
    needs one does not apply and its cases are judged like any other)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


@functools.lru_cache(maxsize=None)
def glob_pattern(pattern: str) -> "re.Pattern[str]":
    """``*`` matches anything; every other character, brackets included, is literal (compiled
    once per pattern: every collected item is matched against every entry)."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def relative_path(path: Path | str, rootdir: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path(rootdir).resolve()))
    except ValueError:
        return Path(path).name


# ---- hooks ---------------------------------------------------------------------------------
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    expectations = config.stash[EXPECT_KEY]
    for item in items:
        known = expectations.match(item.nodeid)
        if known is not None:
            item.stash[KNOWN_KEY] = known


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    known = item.stash.get(KNOWN_KEY, None)
    judged = _judge(known, call) if known is not None and call.when == "call" else None
    option, style = item.config.option, getattr(item.config.option, "tbstyle", "auto")
    if (judged is not None and judged.outcome == "xfailed" and call.excinfo is not None
            and not call.excinfo.errisinstance(pytest.skip.Exception)):
        # A known failure's report shows the verdict (wasxfail), never its traceback; pytest
        # formats one anyway, with source context for every Keras and TensorFlow frame (~45 ms
        # a case, docs/figures.md). Native formatting keeps the traceback, at a fraction.
        option.tbstyle = "native"
    try:
        report = yield
    finally:
        option.tbstyle = style
    if judged is None or report.skipped and not hasattr(report, "wasxfail"):
        return report
    if judged.outcome == "xfailed":
        report.outcome = "skipped"
        report.wasxfail = judged.text
    elif judged.outcome == "passed":  # an unobserved entry that did not occur: said, not failed
        report.sections.append(("rnn-conformance verdict", judged.text))
    else:
        report.outcome = "failed"
        original = report.longreprtext if call.excinfo is not None else ""
        # "E   " as pytest marks what a failure says; the original failure follows in full
        report.longrepr = ("E   " + judged.text + "\n\n" + original) if original else judged.text
    report.user_properties.append((VERDICT_KEY, json.dumps(
        {"outcome": judged.outcome, "text": judged.text, "entry": known.source, "pattern": known.pattern})))
    return report


def _judge(known: Known, call: pytest.CallInfo) -> Verdict:
    if call.excinfo is None:
        return verdict(known, None, "")
    exc = call.excinfo.value
    frames = [f"{Path(str(entry.path)).as_posix()}:{entry.name}" for entry in call.excinfo.traceback]
    return verdict(known, [c.__name__ for c in type(exc).__mro__], str(exc), getattr(exc, "claims", None), frames)
