"""A broken -k pruning for tests/selftest/test_keyword.py: the names it matches a parameter set
against leave out the markers (as a pruning that read only the ids would), so it drops cases that
-k selects by a marker's name. The self-test must see the difference."""

import sys


def pytest_configure(config):
    keyword = sys.modules["rnnconf.harness.keyword"]
    whole = keyword.item_names

    def without_markers(metafunc, callspec):
        marks = {m.name for m in metafunc.definition.iter_markers()} | {m.name for m in callspec.marks}
        return frozenset(n for n in whole(metafunc, callspec) if n not in marks)

    keyword.item_names = without_markers
