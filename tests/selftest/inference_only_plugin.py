"""An inner-run plugin that makes every backend inference-only (``-p inference_only_plugin``), as
Keras's numpy and OpenVINO backends are: the tests that differentiate or fit must be n/a with
the backend's reason, the training=True forward checks must still run (they need no autodiff)."""

import dataclasses

import rnnconf.impl.backends as backends

for name, facts in list(backends.BACKENDS.items()):
    backends.BACKENDS[name] = dataclasses.replace(
        facts, inference_only="selftest: this backend is inference-only (no gradients, no model.fit)")
