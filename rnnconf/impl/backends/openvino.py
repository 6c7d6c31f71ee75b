"""Keras 3's OpenVINO backend: its tensors carry no device; inference only; it compiles a
model's graph inside ``model.predict`` and offers no compiled function of its own."""

from rnnconf.impl.backend import Backend

BACKEND = Backend("openvino", tensors_have_device=False,
                  inference_only="the openvino backend is inference-only (Keras 3.8.0 release notes: "
                                 "no gradients, no model.fit)",
                  no_compile="the openvino backend offers no compiled function to call a layer in; "
                             "it compiles a model's graph inside model.predict")
