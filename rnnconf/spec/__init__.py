"""The specification: what a Keras recurrent layer must return, and the values it must compute.

Imports no Keras, no backend and no pytest -- NumPy (and Hypothesis for the strategies) only:
the catalog of layer variants (:mod:`.catalog`), the documented return contract
(:mod:`.contract`), the float64 NumPy oracle with the user-defined cells' twins (:mod:`.oracle`),
the bridge from catalog entries to oracle calls and the tolerances (:mod:`.reference`), the
oracle's gradients (:mod:`.gradients`), the suite's seeded data (:mod:`.seeds`) and the
Hypothesis strategies (:mod:`.strategies`).
"""
