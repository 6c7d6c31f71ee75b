"""Run the real suite in a subprocess (pytester) and compare its outcomes with the spec.

- :func:`run_suite` runs chosen test files (or node ids) of this repository on one
  implementation (``--impl``), CPU only, by default without the expectation files (so a known
  Keras xfail cannot mask a fake's failure), and returns a :class:`SuiteRun`;
- the node-id builders (:func:`catalog_ids`, :func:`notebook_ids`) spell the node ids a
  selection must produce, from the catalog -- never from a run;
- :meth:`SuiteRun.assert_outcomes` checks that exactly the expected node ids failed, each with
  the expected message, and that every other selected node passed.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import re
from pathlib import Path
from typing import Iterable

import pytest

from rnnconf.spec import catalog, models
from rnnconf.harness.caseid import case_id

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
STRUCTURE = "tests/test_structure.py"
IDENTITIES = "tests/test_identities.py"
SYMBOLIC = "tests/test_symbolic.py"
NOTEBOOK = "tests/test_notebook.py"
DEVICE = "cpu"
BOTH = (False, True)
TIMEOUT_S = 300  # a self-test's own subprocess (xdist's workers): pytester's timeout


class SuiteRun:
    """One inner run: exit code, output, and ``cases`` ({nodeid: {outcome, message}})."""

    def __init__(self, result: pytest.RunResult, cases: dict[str, dict[str, str]],
                 command: str, expectations: str = "none") -> None:
        self.result = result
        self.expectations = expectations
        self.ret = int(result.ret)
        self.cases = cases
        self.command = command
        self.stdout = result.stdout.str()
        self.stderr = result.stderr.str()

    def assert_outcomes(self, *, failed: dict[str, Iterable[str]] | None = None,
                        passed: Iterable[str] = (), skipped: Iterable[str] = (),
                        xfailed: Iterable[str] = (), outcome: str = "failed") -> None:
        """``failed`` maps a message regex to the node ids that must fail with it (``outcome``
        names the kind of failure: ``failed``, or ``error`` for a setup/teardown failure).
        The selection must be exactly these node ids plus ``passed``/``skipped``/``xfailed``."""
        __tracebackhide__ = True
        failed = {pattern: set(ids) for pattern, ids in (failed or {}).items()}
        want = {n: outcome for ids in failed.values() for n in ids}
        for name, ids in (("passed", passed), ("skipped", skipped), ("xfailed", xfailed)):
            want.update({n: name for n in ids})
        problems = []
        if self.expectations == "none":
            problems += _cannot_run_here(want, failed)
        missing = sorted(set(want) - set(self.cases))
        if missing:
            problems.append(f"{len(missing)} expected node id(s) did not run, e.g. {missing[:3]}")
        extra = sorted(set(self.cases) - set(want))
        if extra:
            problems.append(f"{len(extra)} node id(s) ran that the spec does not list, e.g. {extra[:3]}")
        wrong = sorted(n for n in set(want) & set(self.cases) if self.cases[n]["outcome"] != want[n])
        for n in wrong[:5]:
            message = self.cases[n]["message"].strip().splitlines()[-1:] or [""]
            problems.append(f"{n}: {self.cases[n]['outcome']}, expected {want[n]} ({message[0][:300]})")
        if len(wrong) > 5:
            problems.append(f"... and {len(wrong) - 5} more node id(s) with an unexpected outcome")
        for pattern, ids in failed.items():
            unexplained = sorted(n for n in ids & set(self.cases)
                                 if self.cases[n]["outcome"] == outcome
                                 and not re.search(pattern, self.cases[n]["message"]))
            for n in unexplained[:3]:
                problems.append(f"{n}: the failure message does not match {pattern!r}:\n"
                                f"{self.cases[n]['message'][-1500:]}")
        expected_ret = 1 if failed and any(failed.values()) else 0
        if self.ret != expected_ret:
            problems.append(f"exit code {self.ret}, expected {expected_ret}")
        assert not problems, (f"{self.command}\n  " + "\n  ".join(problems)
                              + f"\n--- inner stdout (tail) ---\n{self.stdout[-3000:]}"
                              + f"\n--- inner stderr (tail) ---\n{self.stderr[-1500:]}")


def run_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, impl: str | None,
              files: Iterable[str], *args: str, k: str | None = None,
              expectations: str = "none") -> SuiteRun:
    """Run ``files`` (repository-relative) of the real suite on ``impl``, in this process
    (:func:`run_in_process`), on the CPU cases only (``--device cpu``).

    ``impl=None`` passes no ``--impl`` (the environment decides).
    """
    out = pytester.path / "outcomes.json"
    monkeypatch.setenv("CI", "true")  # Hypothesis's derandomized profile: the same examples every run
    argv = [*(str(REPO / f) for f in files),
            "-c", str(REPO / "pyproject.toml"), "--rootdir", str(REPO),
            "-p", "no:randomly", "-p", "outcomes_plugin", "--selftest-outcomes", str(out),
            "--device", DEVICE, "--expectations", expectations, "--no-report", "-rA",
            # Each inner run pays for importing the backend; skip what it does not need: it
            # runs in one process, and the modules it runs use no Hypothesis (-1.5 s a run).
            "-p", "no:xdist", "-p", "no:hypothesispytest"]
    if impl is not None:
        argv += ["--impl", impl]
    if k is not None:
        argv += ["-k", k]
    argv += list(args)
    result = run_in_process(pytester, argv)
    cases = json.loads(out.read_text()) if out.is_file() else {}
    return SuiteRun(result, cases, "pytest " + " ".join(argv), expectations)


@functools.cache
def machine_bound() -> tuple:
    """Keras's known nonconformances that the running machine makes apply (an entry with
    ``onednn`` or ``cpu_flags``): a case one of them claims cannot run here on Keras, so it
    cannot run on a fake that wraps Keras's layer either."""
    import keras

    from rnnconf.harness.expectations import EXPECTATIONS_DIR, Expectations
    from rnnconf.impl.backends import BACKENDS

    backend = keras.backend.backend()
    paths = [REPO / EXPECTATIONS_DIR / n for n in ("keras.toml", f"keras-{backend}.toml")]
    onednn = BACKENDS[backend].onednn() if backend in BACKENDS else None
    known = Expectations.load([p for p in paths if p.is_file()], version=keras.__version__,
                              backend=backend, onednn=onednn)
    return tuple(e for e in known.entries if e.onednn is not None or e.cpu_flags)


def _cannot_run_here(want: dict[str, str], failed: dict[str, set[str]]) -> list[str]:
    """A run without expectation files: a node id that a machine-bound Keras entry claims here
    (:func:`machine_bound`) must fail as that entry says, whatever the spec predicted, so
    ``want`` and ``failed`` are rewritten for it. The spec's failures must still show somewhere:
    a pattern all of whose node ids cannot run here is a problem (the fake is not shown caught
    where the suite runs), returned as such."""
    entries = machine_bound()
    problems = []
    shown = [pattern for pattern, ids in failed.items() if ids]
    for nodeid in list(want):
        known = next((e for e in entries if e.matches(nodeid)), None)
        if known is None:
            continue
        want[nodeid] = "failed"
        for ids in failed.values():
            ids.discard(nodeid)
        failed.setdefault(known.match, set()).add(nodeid)
    for pattern in shown:
        if not failed[pattern]:
            problems.append(f"every node id that must fail with {pattern!r} cannot run where the suite runs "
                            "(a machine-bound Keras entry claims it): the fake is not shown caught here")
    return problems


# ---- what the suite's own run recorded (the controls read it instead of running it again) ----
# `make test` runs `make report` (reports/shapes.json) and the export slice
# (reports/export-slice/shapes.json) before the self-tests.
RECORDS = (REPO / "reports" / "shapes.json", REPO / "reports" / "export-slice" / "shapes.json")
SAME_IMPLEMENTATION = ("impl", "version", "flavor", "backend", "backend_version", "settings")


def recorded(impl) -> dict[str, str]:
    """``{nodeid: outcome}`` of the CPU cases :data:`RECORDS` hold, from every record made by these
    sources (:func:`rnnconf.harness.tree.digest`) on this implementation (its name, version,
    backend and their settings); a record of other sources or another implementation is not
    read. Empty when there is none, so the controls run everything."""
    ours = tuple((k, getattr(impl, "spec" if k == "impl" else k)) for k in SAME_IMPLEMENTATION)
    return dict(_recorded(ours))


@functools.cache
def _recorded(ours: tuple) -> tuple:
    from rnnconf.harness import tree

    out: dict[str, str] = {}
    for path in RECORDS:
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        theirs = record.get("implementation") or {}
        if record.get("tree") != tree.digest() or tuple((k, theirs.get(k)) for k, _ in ours) != ours:
            continue
        out.update((c["nodeid"], c["outcome"]) for c in record.get("cases", []) if c.get("device") == DEVICE)
    return tuple(out.items())


# ---- the inner run in this process ----
# What an inner run imports afresh, as a new process would: the harness (its per-process memo of
# built layers, the backend facts the inner plugins patch), the fakes, the test modules, the root
# conftest and the inner plugins. Everything else -- Keras, its backend, NumPy -- is imported once
# per worker and shared, which is what the in-process run saves (a subprocess pays ~5 s for it).
_FRESH = ("rnnconf", "fixtures", "tests", "conftest", "outcomes_plugin", "inference_only_plugin",
          "loosen_plugin", "simulated_gpu_plugin", "raising_probe_plugin", "markerless_keyword_plugin")


def _fresh(name: str) -> bool:
    return name.split(".", 1)[0] in _FRESH


@functools.cache
def _freeze_the_worker_heap() -> None:
    """Once per worker, with Keras and its backend imported: move every object alive now into
    the collector's permanent generation (:func:`gc.freeze`). Each inner run triggers several
    full collections (our own after the run, Keras's ``clear_session``, pytest's unraisable-
    exception check at unconfigure); over TensorFlow's heap each took ~0.18 s, a third of the
    self-tests' time. Frozen objects are the imported modules, which live as long as the worker
    anyway; what an inner run allocates is still collected as before."""
    import gc

    gc.collect()
    gc.freeze()


def run_in_process(pytester: pytest.Pytester, argv: list[str]) -> pytest.RunResult:
    """``pytest.main(argv)`` in this process with the project's modules imported afresh and put
    back afterwards; stdout and stderr are captured into the returned :class:`pytest.RunResult`.

    The backend is imported before the run, so the run reuses it; Keras's session is cleared
    after it, so no layer, name or graph of one inner run reaches the next.
    """
    import contextlib
    import gc
    import io
    import sys
    import time

    import keras  # imported once per worker, before the project's modules are set aside

    _freeze_the_worker_heap()
    outer = {name: module for name, module in sys.modules.items() if _fresh(name)}
    for name in outer:
        del sys.modules[name]
    path, meta_path, cwd = list(sys.path), list(sys.meta_path), os.getcwd()
    sys.path[:0] = [str(REPO), str(HERE)]
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    try:
        os.chdir(pytester.path)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            ret = pytest.main(argv, plugins=[])
    finally:
        os.chdir(cwd)
        for name in [name for name in sys.modules if _fresh(name)]:
            del sys.modules[name]
        sys.modules.update(outer)
        sys.path[:], sys.meta_path[:] = path, meta_path
        keras.backend.clear_session()
        gc.collect()
    return pytest.RunResult(int(ret), out.getvalue().splitlines(), err.getvalue().splitlines(),
                            time.perf_counter() - start)


# ---- node ids, from the catalog (spelled by rnnconf.harness.caseid, the one owner of the case id) ----
def _axis(values: Iterable[bool] | None) -> list[bool | None]:
    return [None] if values is None else list(values)


def catalog_ids(module: str, test: str, entries: Iterable[str], *,
                return_sequences: Iterable[bool] | None = BOTH,
                return_state: Iterable[bool] | None = BOTH,
                shapes: Iterable[catalog.Shape] = catalog.SHAPES,
                extra: Iterable[str | None] = (None,)) -> set[str]:
    """Node ids of a catalog test: ``test[<entry>-<seq|last>-<state|nostate>-<shape>-cpu-<extra>]``.

    Pass ``None`` for an axis the test does not have (test_last_step_is_final_state has no
    return_state axis; test_flag_combinations_agree has neither); ``extra``: the test's own
    trailing parameters (mask kind, policy), ``None`` for none.
    """
    sweeps = _sweeps_shapes(module, test)
    return {case_id(module, test, entry=e, return_sequences=rs, return_state=st, shape=s,
                    device=DEVICE, extra=() if x is None else (x,))
            for e in entries for rs in _axis(return_sequences) for st in _axis(return_state)
            for s in shapes for x in extra
            # the default lane (the inner runs have no --full): a shape-sweeping test runs an
            # entry that does not sweep every shape on the option shape alone (rnnconf.harness.axes)
            if not sweeps or catalog.in_default_shape_lane(catalog.BY_ID[e], s)}


@functools.lru_cache(maxsize=None)
def _sweeps_shapes(module: str, test: str) -> bool:
    """Whether a catalog test sweeps the shapes: it has no ``@pytest.mark.shapes`` (read from
    its source, as rnnconf.harness.axes reads the marker)."""
    tree = ast.parse((REPO / module).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == test:
            return not any("mark.shapes" in ast.unparse(d) for d in node.decorator_list)
    raise ValueError(f"no test {test} in {module}")


def notebook_ids(test: str, names: Iterable[str] | None = None, *,
                 return_sequences: Iterable[bool] | None = None,
                 return_state: Iterable[bool] | None = None) -> set[str]:
    """Node ids of a notebook test: ``test[<seq|last>-<state|nostate>-cpu-<name>]``; ``names``
    is None for a test without the layer-name axis (test_lstm_returns_output_h_and_c)."""
    return {case_id(NOTEBOOK, test, return_sequences=rs, return_state=st, device=DEVICE,
                    extra=() if n is None else (n,))
            for n in ([None] if names is None else names)
            for rs in _axis(return_sequences) for st in _axis(return_state)}


def composed_ids(module: str, test: str, comps: Iterable[str], shape: catalog.Shape, *,
                 fronts: Iterable[str | None] = (None,), return_sequences: Iterable[bool] = BOTH,
                 return_state: Iterable[bool] = BOTH) -> set[str]:
    """Node ids of a composition test (rnnconf/spec/models.py):
    ``test[<composition>-<seq>-<state>-<shape>-cpu-<front>]``, for the flag combinations each
    composition is documented for (a Sequential stack: no return_state); ``fronts``: the test's
    own parameter (``"bare"``: a stack without one; None: a test without the parameter)."""
    return {case_id(module, test, entry=c, return_sequences=rs, return_state=st, shape=shape, device=DEVICE,
                    extra=() if f is None else (f,))
            for c in comps for rs, st in models.BY_ID[c].combos()
            if rs in return_sequences and st in return_state for f in fronts}


def entry_ids(predicate) -> list[str]:
    return [e.id for e in catalog.ENTRIES if predicate(e)]


def shapes_where(predicate) -> list[catalog.Shape]:
    return [s for s in catalog.SHAPES if predicate(s)]


# ---- which assertion each fake's failures came from (tests/selftest/test_assertion_sites.py) ----
SITE_LOG = REPO / "reports" / "selftest-sites"


@functools.cache
def _suite_sites() -> list:
    """The suite's assertion sites: its sources do not change during a session, so parsed once
    per worker."""
    from .sites import all_sites

    return all_sites()


def log_failing_sites(fake: str, run: SuiteRun) -> None:
    """Record, for a fake whose outcomes were just verified, the assertion site of each failure."""
    from .sites import failing_site

    sites = _suite_sites()
    hit: dict[str, list[str]] = {}
    for nodeid, case in run.cases.items():
        if case["outcome"] in ("failed", "error") and case.get("frames"):
            site = failing_site([tuple(f) for f in case["frames"]], sites)
            if site is not None:
                hit.setdefault(site.key, []).append(nodeid)
    SITE_LOG.mkdir(parents=True, exist_ok=True)
    (SITE_LOG / f"{fake}.json").write_text(json.dumps(hit, indent=1, sort_keys=True))
