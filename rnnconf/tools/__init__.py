"""The tools that read finished runs and drive lanes: ``python -m rnnconf`` (:mod:`.cli`), the
lanes (:mod:`.lanes`) and merge/diff/shards (:mod:`.matrix`).

They never import an implementation or a backend: a lane runs the suite in a subprocess of its
own environment, and everything else reads shapes.json documents.
"""
