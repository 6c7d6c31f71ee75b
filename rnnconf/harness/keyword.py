"""``-k`` at parametrization: a parameter set that ``-k`` would deselect is never made into an item.

pytest applies ``-k`` after collection: it makes every item of a module (``tests/test_export.py``
has 8,489 of them, ``tests/test_structure.py`` 2,315), then deselects all but the few a selection
names. Making an item costs about 0.15 ms, so a narrow selection of a large module spent most of
its collection on items it then threw away (a self-test's inner run: 0.3-1.5 s of collection for
4-20 cases).

Every name ``-k`` matches an item against is known once a test function's parametrization is
complete: the item's name (``test[<ids>]``), its parents' names, the parents' extra keywords, the
function's own attributes, the markers of the function and its parents, and the parameter set's
own marks. A last ``pytest_generate_tests`` (:func:`pytest_generate_tests`, ``trylast``) matches
each parameter set with those names exactly as ``-k`` will match its item
(:func:`item_names`, pytest's own expression parser) and drops the ones it would deselect. They
are reported to the expectations' bookkeeping as deselected (:func:`rnnconf.harness.report.hooks.
record_not_run`), as pytest's ``-k`` reports its own, so an entry whose cases ``-k`` left out is
"not run in this lane", never stale.

pytest's ``-k`` still runs afterwards on what is left. A marker a hook adds to an item after
collection is not seen here; no hook of the suite adds one before ``-k`` runs (the case axes add
theirs after it, ``trylast``). The self-test ``tests/selftest/test_keyword.py`` collects selections
with and without this plugin (``-p no:rnnconf.harness.keyword``) and requires the same items.
"""

from __future__ import annotations

import functools
from typing import Any, Iterable

import pytest


_EXPRESSION = pytest.StashKey[Any]()


def _expression(config: pytest.Config) -> Any:
    """The ``-k`` expression as pytest parses it, once per run; None without ``-k`` or for one
    pytest will refuse (its usage error, in its words, comes later)."""
    if _EXPRESSION not in config.stash:
        expr = None
        text = (getattr(config.option, "keyword", "") or "").lstrip()
        if text:
            try:
                from _pytest.mark.expression import Expression
                expr = Expression.compile(text)
            except Exception:
                expr = None
        config.stash[_EXPRESSION] = expr
    return config.stash[_EXPRESSION]


def item_names(metafunc: pytest.Metafunc, callspec: Any) -> frozenset[str]:
    """The names ``-k`` will match the item of ``callspec`` against (pytest's
    ``KeywordMatcher.from_item``): the function's own (:func:`_function_names`), the item's name
    and the parameter set's marks."""
    definition = metafunc.definition
    name = f"{definition.name}[{callspec.id}]" if getattr(callspec, "_idlist", callspec.id) else definition.name
    return _function_names(definition) | {name} | {mark.name for mark in callspec.marks}


@functools.lru_cache(maxsize=1)  # a function's parameter sets come one after another
def _function_names(definition: Any) -> frozenset[str]:
    """What every item of one test function shares: node names along the chain without the
    session and the root directory, the chain's extra keywords, the function's matchable
    attributes, the markers of the function and its parents."""
    parents = definition.listchain()[:-1]
    names = {node.name for node in parents
             if not isinstance(node, pytest.Session)
             and not (isinstance(node, pytest.Directory) and isinstance(node.parent, pytest.Session))}
    for node in parents:
        names.update(node.extra_keyword_matches)
    names.update(name for name in definition.obj.__dict__ if _matchable(name))
    names.update(mark.name for mark in definition.iter_markers())
    return frozenset(names)


try:  # which attributes of the function -k reads, as the running pytest decides (9.x: not its own)
    from _pytest.mark import _is_matchable_function_attribute as _matchable
except ImportError:  # pytest 8: every attribute
    def _matchable(name: str) -> bool:
        return True


class _Matcher:
    """``-k``'s matcher: a word matches when it is a case-insensitive substring of a name."""

    __slots__ = ("names",)

    def __init__(self, names: Iterable[str]) -> None:
        self.names = [n.lower() for n in names]

    def __call__(self, subname: str, /, **kwargs: Any) -> bool:
        subname = subname.lower()
        return any(subname in n for n in self.names)


@pytest.hookimpl(trylast=True)  # after every other parametrization of the function
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    calls = getattr(metafunc, "_calls", None)
    if not calls:
        return
    expr = _expression(metafunc.config)
    if expr is None:
        return
    try:
        keep = [c for c in calls if expr.evaluate(_Matcher(item_names(metafunc, c)))]
    except Exception:  # pytest's -k decides (and reports) whatever this cannot evaluate
        return
    if len(keep) == len(calls):
        return
    kept = set(map(id, keep))
    dropped = [c for c in calls if id(c) not in kept]
    # an empty list would make pytest collect the function unparametrized: keep one for -k to drop
    if not keep:
        keep, dropped = dropped[:1], dropped[1:]
    calls[:] = keep
    from rnnconf.harness.report.hooks import record_not_run

    record_not_run(metafunc.config, (f"{metafunc.definition.nodeid}[{c.id}]" for c in dropped))
