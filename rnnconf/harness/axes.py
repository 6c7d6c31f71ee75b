"""The case axes: entry x return_sequences x return_state x input shape x device.

Any test that asks for one of these fixtures gets it parametrized, in the canonical order of
:mod:`rnnconf.harness.caseid`; ``@pytest.mark.entries(predicate)`` and ``@pytest.mark.shapes(...)``
narrow a test. Where no GPU is visible, the GPU cases are deselected (and counted for the report). Under xdist, every
test of one (entry, shape, device) goes to one worker, which builds its layers once.
"""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from rnnconf.spec import catalog, conv_geometry, models, nondefault, option_pairs
from rnnconf.harness.caseid import DEVICES, parse_case_id, seq_word, state_word
from rnnconf.harness.options import IMPL_KEY
from rnnconf.harness.outcomes import not_applicable_reason

# how many GPU cases this process deselected because no GPU is visible (the report says so)
GPU_DESELECTED_KEY = pytest.StashKey[int]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "entries(predicate): limit a test to catalog entries "
                                       "for which predicate(entry) is true")
    config.addinivalue_line("markers", "compositions(predicate): limit a test to the compositions of "
                                       "rnnconf/spec/models.py for which predicate(composition) is true")
    config.addinivalue_line("markers", "devices(*devices): run a test on these devices only "
                                       "(a CPU/GPU comparison runs as a gpu case)")
    config.addinivalue_line("markers", "shapes(*shapes): run a test on these input shapes, or on a "
                                       "named set of catalog.SHAPE_SETS (its --full variant with --full)")
    config.addinivalue_line("markers", "default_lane(predicate): without --full, only the cases whose "
                                       "parameters satisfy predicate(params) run (params: name -> value, the "
                                       "catalog Entry under 'entry'); the rest are deselected, --full runs them")
    config.addinivalue_line("markers", "settings(*claims): parametrize a test's ``setting`` with the documented "
                                       "arguments' non-default values of these claims, or for which a predicate "
                                       "is true (rnnconf/spec/nondefault.py); "
                                       "an entry a setting does not apply to has no such case")
    config.addinivalue_line("markers", "pair_rows(predicate): an option-pairs test runs the covering-array rows "
                                       "for which predicate(row) is true (rnnconf/spec/option_pairs.py)")
    config.addinivalue_line("markers", "autodiff: the test differentiates or fits (gradients, model.fit): not "
                                       "applicable on an inference-only backend; training=True forward calls "
                                       "need no autodiff and run everywhere")
    config.addinivalue_line("markers", "mode(name): how the layer runs in a test -- 'training' (gradients, "
                                       "fit, training=True), 'compiled' (model.predict, tf.function, "
                                       "jax.jit) or 'export' (Model.export, run in the format's runtime: "
                                       "selected by --export only); unmarked tests are 'inference' (eager calls). The report "
                                       "groups its columns by mode; tests marked autodiff are n/a on an inference-only backend")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    names = metafunc.fixturenames
    if "pair_row" in names:
        _parametrize_pairs(metafunc)
    elif "geometry" in names:
        # a ConvLSTM geometry (rnnconf/spec/conv_geometry.py) is a case of its rank's catalog
        # entry only: the two are one parameter set, <entry>-<geometry>, shape and device follow
        cases = [(e, g) for g in conv_geometry.GEOMETRIES for e in catalog.ENTRIES if g.applies(e)]
        metafunc.parametrize(("entry", "geometry"), cases, ids=[f"{e.id}-{g.id}" for e, g in cases])
    elif "entry" in names:
        pred = _marker_arg(metafunc, "entries")
        entries = [e for e in catalog.ENTRIES if pred is None or pred(e)]
        shapes_marker = metafunc.definition.get_closest_marker("shapes")
        sets = [a for a in shapes_marker.args if isinstance(a, str)] if shapes_marker is not None else []
        if sets and not metafunc.config.getoption("--full"):
            entries = [e for e in entries if catalog.in_default_option_lane(e)]
        metafunc.parametrize("entry", entries, ids=[e.id for e in entries])
    if "composition" in names:
        # a composition with the flag combinations it is documented for (a Sequential stack: no
        # return_state), one parameter set, in the case id's order: <composition>-<seq>-<state>
        pred = _marker_arg(metafunc, "compositions")
        cases = [(c, rs, st) for c in models.COMPOSITIONS if pred is None or pred(c) for rs, st in c.combos()]
        metafunc.parametrize(("composition", "return_sequences", "return_state"), cases,
                             ids=[f"{c.id}-{seq_word(rs)}-{state_word(st)}" for c, rs, st in cases])
    elif "return_sequences" in names and "pair_row" not in names:
        metafunc.parametrize("return_sequences", [False, True], ids=["last", "seq"])
    if "return_state" in names and "composition" not in names and "pair_row" not in names:
        metafunc.parametrize("return_state", [False, True], ids=["nostate", "state"])
    if "shape" in names:
        marker = metafunc.definition.get_closest_marker("shapes")
        shapes = resolve_shapes(marker.args, metafunc.config.getoption("--full")) if marker \
            else list(catalog.SHAPES)
        metafunc.parametrize("shape", shapes, ids=[s.id for s in shapes])
    if "device" in names:
        wanted = metafunc.config.getoption("--device")
        only = metafunc.definition.get_closest_marker("devices")
        devices = [d for d in DEVICES if wanted in ("all", d) and (only is None or d in only.args)]
        metafunc.parametrize("device", devices, ids=devices)
    if "setting" in names:
        # a documented argument's non-default value (rnnconf/spec/nondefault.py), after the
        # device: ``@pytest.mark.settings(*claims)`` picks the settings whose claim the test checks
        marker = metafunc.definition.get_closest_marker("settings")
        wanted = marker.args if marker else ()
        chosen = [s for s in nondefault.SETTINGS
                  if not wanted or any(w(s) if callable(w) else s.claim == w for w in wanted)]
        metafunc.parametrize("setting", chosen, ids=[s.id for s in chosen])


def _parametrize_pairs(metafunc: pytest.Metafunc) -> None:
    """An option-pairs test (tests/test_option_pairs.py): the entry, its flags and the rest of a
    covering-array row (rnnconf/spec/option_pairs.py) are one parameter set, since the rows -- the
    flags among them -- depend on the entry. Ids read ``<entry>-<seq>-<state>-<options>`` and the
    shape and device follow. The rows are made only for the entries the lane runs: without --full,
    the test's ``default_lane`` predicate is asked with the entry alone."""
    pred = _marker_arg(metafunc, "entries")
    entries = [e for e in catalog.ENTRIES if pred is None or pred(e)]
    lane = metafunc.definition.get_closest_marker("default_lane")
    if lane is not None and not metafunc.config.getoption("--full"):
        entries = [e for e in entries if lane.args[0]({"entry": e})]
    chosen = _marker_arg(metafunc, "pair_rows")
    cases, ids = [], []
    for e in entries:
        for row in option_pairs.rows(e):
            if chosen is not None and not chosen(row):
                continue
            rs, st = row["return_sequences"], row["return_state"]
            cases.append((e, rs, st, row))
            ids.append(f"{e.id}-{seq_word(rs)}-{state_word(st)}-{option_pairs.row_id(row)}")
    metafunc.parametrize(("entry", "return_sequences", "return_state", "pair_row"), cases, ids=ids)


def resolve_shapes(args: tuple, full: bool) -> list[catalog.Shape]:
    """Shape objects, or names of catalog.SHAPE_SETS (their --full variant with ``full``)."""
    shapes: list[catalog.Shape] = []
    for arg in args:
        shapes += catalog.SHAPE_SETS[arg][1 if full else 0] if isinstance(arg, str) else [arg]
    return list(dict.fromkeys(shapes))


def _marker_arg(metafunc: pytest.Metafunc, name: str) -> Any:
    marker = metafunc.definition.get_closest_marker(name)
    return marker.args[0] if marker else None


@pytest.hookimpl(trylast=True)  # after -k and -m: the counts it keeps are of this selection
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # an argument a layer does not document is no case of it (GRU has no unit_forget_bias): the
    # product pytest parametrizes is cut to the pairs that exist, before any lane rule
    items[:] = [i for i in items if _is_a_case(_params(i))]
    _select_exports(config, items)
    if not config.getoption("--full"):
        _keep_default_lane(config, items)
    shard = config.getoption("--shard")
    if shard is not None:
        index, count = shard
        keep = [i for i in items if shard_of(i.nodeid, count) == index]
        config.hook.pytest_deselected(items=[i for i in items if shard_of(i.nodeid, count) != index])
        items[:] = keep
    impl = config.stash[IMPL_KEY]
    if not impl.gpus():
        # no GPU visible: the GPU twins are deselected -- one line in the header, the summary and
        # the report says how many and why -- rather than collected, sent and recorded as skips
        # (~1 ms each of harness time, a thousand per family)
        gpu = [i for i in items if _params(i).get("device") == "gpu"]
        if gpu:
            config.hook.pytest_deselected(items=gpu)
            items[:] = [i for i in items if _params(i).get("device") != "gpu"]
        config.stash[GPU_DESELECTED_KEY] = len(gpu)
    cannot_train = (pytest.mark.skip(reason=not_applicable_reason(impl, impl.facts.inference_only))
                    if impl.facts.inference_only else None)
    for item in items:
        if cannot_train is not None and item.get_closest_marker("autodiff") is not None:
            item.add_marker(cannot_train)
        if _params(item).get("device") == "gpu":
            item.add_marker(pytest.mark.gpu)


def _select_exports(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The export family (mode "export") runs with ``--export`` only, on the formats it names;
    without it the family is deselected (the header and the report say which formats ran)."""
    wanted = config.getoption("--export")
    chosen = set(wanted)
    dropped = [i for i in items if mode_of(i) == "export"
               and _params(i).get("export_format", next(iter(chosen), None)) not in chosen]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        drop = set(map(id, dropped))
        items[:] = [i for i in items if id(i) not in drop]


def _params(item: pytest.Item) -> dict:
    """The item's parameters by name ({} for a test without any)."""
    return getattr(getattr(item, "callspec", None), "params", {})


def _is_a_case(params: dict) -> bool:
    setting, entry = params.get("setting"), params.get("entry")
    return setting is None or entry is None or setting.applies(entry)


def _keep_default_lane(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The default lane (without --full), one rule for every test: deselect -- as --shard does,
    never collected as skips -- a case that

    - a ``default_lane(predicate)`` marker leaves out (``predicate(params)``: the case's
      parameters by name, the Entry object under ``entry``), or
    - a shape-sweeping test (entry and shape axes, no ``shapes`` marker) would run on a shape
      its entry does not sweep (catalog.sweeps_every_shape: an entry that adds a code path rather
      than a shape runs on the option shape only)."""
    def keep(item: pytest.Item) -> bool:
        params = _params(item)
        marker = item.get_closest_marker("default_lane")
        if marker is not None and not marker.args[0](params):
            return False
        if "entry" not in params or "shape" not in params or item.get_closest_marker("shapes"):
            return True
        return catalog.in_default_shape_lane(params["entry"], params["shape"])
    dropped = [i for i in items if not keep(i)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [i for i in items if keep(i)]


MODES = ("inference", "training", "compiled", "export")


def mode_of(item: pytest.Item) -> str:
    """The test's mode (its ``mode`` marker; ``inference`` when it has none)."""
    marker = item.get_closest_marker("mode")
    mode = marker.args[0] if marker else "inference"
    if mode not in MODES:
        raise pytest.UsageError(f"{item.nodeid}: mode({mode!r}) is not one of {MODES}")
    return mode


def shard_of(nodeid: str, count: int) -> int:
    """The shard (1-based) of a test: a stable hash of its case group, so every test of one
    case runs in one shard and each shard builds its layers once."""
    return zlib.crc32(parse_case_id(nodeid).group.encode()) % count + 1


# ---- xdist: the cases of one (entry, shape, device) share built layers: one worker each ----
@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With ``-n`` (xdist's default "load" distribution) send every test of one case to the
    same worker, where the layers it needs are already built (see runner.CaseRun). Any other
    --dist choice is left alone."""
    if config.getoption("dist") != "load":
        return None
    return make_case_scheduler(config, log)


def make_case_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class CaseScheduling(LoadScopeScheduling):
        """xdist's scope scheduler, grouped by case, and safe when a worker dies: the test that
        was running is reported as a crash by xdist and is *not* sent again (it would kill its
        next worker too); the rest of its group goes back to the queue."""

        def _split_scope(self, nodeid: str) -> str:
            return parse_case_id(nodeid).group

        def remove_node(self, node: Any) -> str | None:
            workload = self.assigned_work.pop(node)
            if not self._pending_of(workload):
                return None
            # the worker died: its first unfinished test is the one that was running
            crashed = next(nodeid for unit in workload.values()
                           for nodeid, done in unit.items() if not done)
            for scope, unit in workload.items():
                unit.pop(crashed, None)
                if unit and not all(unit.values()):
                    self.workqueue[scope] = unit
            for other in self.assigned_work:
                self._reschedule(other)
            return crashed

    return CaseScheduling(config, log)
