"""An inner-run plugin that makes the backend's GPU probe raise, as a broken CUDA install can
(``-p raising_probe_plugin``): the suite must report the exception, not "no GPU"."""

import rnnconf.adapter as adapter


def _raising_probe():
    raise RuntimeError("selftest: CUDA driver initialization failed")


for backend in list(adapter.GPU_PROBES):
    adapter.GPU_PROBES[backend] = _raising_probe
