"""An inner-run plugin that loosens the suite's tolerances tenfold (``-p loosen_plugin``):
``$RNNCONF_LOOSEN`` names which part -- ``rtol``, ``atol`` or ``rtol,atol`` (the default) -- of
every tolerance in rnnconf.spec.reference (per dtype, and the self-comparison's) is multiplied by 10.
tests/selftest/test_tolerances.py shows that each tolerance-pinning fake then passes, so loosening
that part of any tolerance by 10x would turn the fake's self-test red."""

import os

from rnnconf.spec import reference

FACTOR = 10.0
KEYS = [k.strip() for k in os.environ.get("RNNCONF_LOOSEN", "rtol,atol").split(",") if k.strip()]

for tol in (*reference.TOLERANCES.values(), reference.SELF_TOLERANCE):
    for key in KEYS:
        tol[key] *= FACTOR
