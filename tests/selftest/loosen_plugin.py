"""An inner-run plugin that loosens every tolerance of the suite tenfold (``-p loosen_plugin``):
tests/selftest/test_tolerances.py shows that the tolerance-pinning fakes then pass, so a
tenfold looser tolerance in rnnconf.reference would turn their self-tests red."""

from rnnconf import reference

FACTOR = 10.0

for tol in (*reference.TOLERANCES.values(), reference.SELF_TOLERANCE):
    for key in tol:
        tol[key] *= FACTOR
