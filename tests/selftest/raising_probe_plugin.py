"""An inner-run plugin that makes the backend's GPU probe raise, as a broken CUDA install can
(``-p raising_probe_plugin``): the suite must report the exception, not "no GPU"."""

import dataclasses

import rnnconf.impl.backends as backends


def _raising_probe():
    raise RuntimeError("selftest: CUDA driver initialization failed")


for name, facts in list(backends.BACKENDS.items()):
    backends.BACKENDS[name] = dataclasses.replace(facts, gpus=_raising_probe)
