# The whole harness lives in the importable package `rnnconf`; this file only loads it.
pytest_plugins = ["rnnconf.harness.plugin"]
