"""Hypothesis strategies shared by the property tests, and the profiles CI uses."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from rnnconf.spec import catalog

# Bounded and derandomized in CI (the same examples every run); no deadline: the first call of
# a backend compiles, which says nothing about conformance.
settings.register_profile("ci", max_examples=30, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=30, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])

settings.load_profile("ci" if os.environ.get("CI") else "dev")

# The property test runs once per catalog entry (a case axis), drawing flags and shapes.
EXAMPLES_PER_ENTRY = 2
# Always tried first: both flags on, batch > 1, T > 1 and T != 4, units != features.
EVERY_AXIS_MATTERS = catalog.Shape(batch=2, timesteps=3, features=2, units=2)
flags = st.tuples(st.booleans(), st.booleans())
shapes = st.builds(catalog.Shape, batch=st.integers(1, 4), timesteps=st.integers(1, 8),
                   features=st.integers(1, 6), units=st.integers(1, 5))
