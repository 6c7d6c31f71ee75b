"""An inner-run plugin that makes every backend's GPU probe see one device
(``-p simulated_gpu_plugin``), so the GPU cases run -- on the CPU -- for a fake whose own
``device()`` scope tells a GPU call from a CPU call (fixtures/broken/gpu_differs.py). It proves
the CPU/GPU comparisons can fail on a machine with no GPU."""

import dataclasses

import rnnconf.impl.backends as backends

for name, facts in list(backends.BACKENDS.items()):
    backends.BACKENDS[name] = dataclasses.replace(
        facts, gpus=lambda: ["simulated GPU (selftest: the CPU)"], tf32_off=lambda: None)
