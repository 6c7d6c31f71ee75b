"""The self-test session's order: the long self-tests first.

xdist's scheduler (rnnconf.harness.axes: one self-test per scope) hands the first tests out in
turn to each worker, then one more to whichever worker finishes; a 30-s control that comes out of
pytest-randomly's shuffle last leaves the other worker idle for its whole run. Moving the tests
marked ``long`` to the front, after the shuffle and in the shuffled order, splits them between the
workers and leaves the short ones to even out the end. The order within each part stays random.
"""

from __future__ import annotations

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("long") is None)
