"""The pytest plugin, one module per concern (loaded by the repository's ``conftest.py``):

- :mod:`rnnconf.harness.options`: command-line options, the implementation under test, the header;
- :mod:`rnnconf.harness.axes`: the case axes (parametrization, shape sets, GPU deselection, xdist scheduling);
- :mod:`rnnconf.harness.keyword`: ``-k`` applied to each parameter set before its item is made;
- :mod:`rnnconf.harness.fixtures`: ``impl``, ``run``/``make_run``, ``record``, the global-state guard, the backend's between-test hygiene;
- :mod:`rnnconf.harness.expectations`: known nonconformances and their verdicts;
- :mod:`rnnconf.harness.report.hooks`: every outcome gathered on the controller, the report writers.

Nothing heavy happens at import; the implementation is imported in ``pytest_configure``.
"""

# In import order: a plugin module must be registered before another plugin imports it.
pytest_plugins = [
    "rnnconf.harness.expectations",
    "rnnconf.harness.options",
    "rnnconf.harness.axes",
    "rnnconf.harness.keyword",
    "rnnconf.harness.fixtures",
    "rnnconf.harness.report.hooks",
]
