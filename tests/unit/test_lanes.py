"""Lane names: each form resolves to one environment's requirements, and a wrong name is a
usage error that says what to pass (in-process; nothing is installed)."""

import json
import subprocess
import sys

import pytest

from rnnconf.tools import lanes


def test_every_matrix_and_release_lane_resolves():
    for name in (*lanes.MATRIX, *lanes.RELEASES):
        spec = lanes.lane(name)
        assert spec.impl in ("keras", "tf_keras") and spec.requires, name


def test_a_release_overrides_what_tensorflow_asks_for():
    spec = lanes.lane("keras@3.4.1")
    assert spec.backend == "tensorflow" and "keras==3.4.1" in spec.requires
    assert spec.overrides == ("keras==3.4.1",)
    assert lanes.lane("keras@3.4.1/jax").backend == "jax"
    old_jax = lanes.lane("keras@3.3.3/jax@0.4.23")
    assert old_jax.requires == ("keras==3.3.3", "jax==0.4.23", "jaxlib==0.4.23", "numpy<2")
    # the NumPy of the JAX's time (lanes.NUMPY_OF_JAX): JAX 0.4.28 and 0.5.0 fail under NumPy >= 2.3
    assert lanes.lane("keras@3.6.0/jax@0.4.28").requires[-1] == "numpy<2.1"
    assert lanes.lane("keras@3.9.2/jax@0.5.0").requires == ("keras==3.9.2", "jax==0.5.0", "jaxlib==0.5.0", "numpy<2.3")
    assert lanes.lane("keras@3.13.2/jax@0.8.1").requires == ("keras==3.13.2", "jax==0.8.1", "jaxlib==0.8.1")


def test_the_pre_release_takes_the_place_of_keras():
    spec = lanes.lane("keras-nightly")
    assert "keras-nightly" in spec.requires and spec.excludes == ("keras",)


def test_a_gpu_lane_swaps_the_cpu_build_for_the_cuda_build():
    spec = lanes.lane("keras-jax+gpu")
    assert "jax[cuda13]==" + lanes.JAX in spec.requires and not any(r.startswith("jaxlib") for r in spec.requires)
    assert not lanes.lane("keras-torch+gpu").local_wheels  # PyPI's torch is the CUDA build
    with pytest.raises(lanes.LaneError, match="GPU builds exist for keras on"):
        lanes.lane("tf_keras-tensorflow+gpu")


def test_an_export_lane_adds_the_exporters_and_runs_the_export_family_alone():
    tf = lanes.lane("keras-tensorflow+export")
    assert {"tf2onnx==1.17.0", "ai-edge-litert==2.3.0", "onnxruntime==1.32.0"} <= set(tf.requires)
    assert tf.tests == ("tests/test_export.py",) and tf.pytest_args == ("--export", "all", "--full")
    jax = lanes.lane("keras-jax+export")  # jax2tf (tf_saved_model, openvino) needs TensorFlow
    assert "jax2onnx==0.17.1" in jax.requires and f"tensorflow=={lanes.TENSORFLOW}" in jax.requires
    assert "onnxscript" in lanes.lane("keras-torch+export").requires
    assert lanes.lane("keras-tensorflow").tests == ("tests",) and lanes.lane("keras-tensorflow").pytest_args == ()
    with pytest.raises(lanes.LaneError, match="export lanes exist for keras on"):
        lanes.lane("tf_keras-tensorflow+export")
    assert [lanes.lane(n).name for n in lanes.EXPORT_LANES] == list(lanes.EXPORT_LANES)


def test_make_export_releases_exports_on_every_keras_release_lane_and_the_latest():
    keras_releases = [n for n in lanes.RELEASES if n.startswith("keras@")]
    assert list(lanes.EXPORT_RELEASES) == [f"{n}+export" for n in keras_releases] + list(lanes.EXPORT_LANES)
    assert {lanes.lane(n).backend for n in lanes.EXPORT_RELEASES} == {"tensorflow", "jax", "torch"}
    assert all(lanes.lane(n).tests == ("tests/test_export.py",) for n in lanes.EXPORT_RELEASES)
    assert "keras@3.0.5+export" in lanes.EXPORT_RELEASES  # tf_saved_model is a format from 3.0


def test_a_jax_export_lane_before_3_14_gets_the_exporter_of_its_release():
    # Keras 3.13 exports ONNX on JAX with jax2tf and tf2onnx; jax2onnx 0.17.1 needs JAX >= 0.8.1
    old = lanes.lane("keras@3.13.2/jax@0.8.1+export")
    assert "tf2onnx==1.17.0" in old.requires and not any(r.startswith("jax2onnx") for r in old.requires)
    assert "jax2onnx==0.17.1" in lanes.lane("keras@3.14.1/jax+export").requires


@pytest.mark.parametrize("name", ["keras-mxnet", "keras@2.15.0", "tf-keras", "jax", "keras@3.4.1/torch@2.1.0"])
def test_an_unknown_lane_says_what_to_pass(name):
    with pytest.raises(lanes.LaneError, match="keras"):
        lanes.lane(name)


def test_the_command_line_refuses_an_unknown_lane():
    done = subprocess.run([sys.executable, "-m", "rnnconf", "lanes", "run", "keras-mxnet"],
                          capture_output=True, text=True, cwd=lanes.ROOT)
    assert done.returncode == 2
    assert "unknown backend 'mxnet'" in done.stderr and "Keras ships" in done.stderr


def test_options_after_the_lanes_and_pytest_arguments_after_the_separator(monkeypatch, tmp_path):
    """`run LANES -n N --reports DIR --merge DIR -- <pytest args>`: the driver's own options may
    follow the lane names, and only what follows -- reaches pytest."""
    seen = []

    def fake_run(spec, reports, workers, extra):
        seen.append((spec.name, reports, workers, extra))
        (reports / spec.folder).mkdir(parents=True)
        (reports / spec.folder / "lane.json").write_text('{"exit": 3, "status": "install failed"}')
        return 3

    monkeypatch.setattr(lanes, "run_lane", fake_run)
    code = lanes.main(["run", "keras-jax", "keras@3.4.1", "-n", "1", "--reports", str(tmp_path),
                       "--merge", str(tmp_path / "m"), "--", "--device", "gpu", "--require-gpu"])
    assert code == 3
    assert seen == [(n, tmp_path, "1", ["--device", "gpu", "--require-gpu"]) for n in ("keras-jax", "keras@3.4.1")]


def test_make_releases_runs_every_release_on_tensorflow_jax_and_torch():
    """A break on one backend (JAX 0.4.23 lacking a speed setting stopped early Keras 3 releases
    before their first case) shows only if the release lanes run that backend."""
    for version in lanes.KERAS_RELEASES:
        minor = ".".join(version.split(".")[:2])
        assert {f"keras@{version}", f"keras@{version}/jax@{lanes.JAX_OF_ITS_TIME[minor]}",
                f"keras@{version}/torch"} <= set(lanes.RELEASES)
    assert {lanes.lane(n).backend for n in lanes.RELEASES} == {"tensorflow", "jax", "torch"}
    assert all(lanes.lane(n) for n in lanes.RELEASES)  # every name parses


def test_record_takes_what_was_run_from_its_command_option(monkeypatch, tmp_path):
    """``lanes record OUT --command "make matrix ..."`` records, not runs: the option must not
    take the place of the subcommand's name."""
    monkeypatch.setattr(lanes, "lane_rows", lambda reports, names: [{"lane": "keras-jax"}])
    monkeypatch.setattr(lanes, "run_lane", lambda *a, **k: pytest.fail("record ran a lane"))
    out = tmp_path / "runs" / "matrix.json"
    assert lanes.main(["record", str(out), "--reports", str(tmp_path), "--command", "make matrix (x)",
                       "--note", "n"]) == 0
    doc = json.loads(out.read_text())
    assert (doc["command"], doc["note"], doc["lanes"]) == ("make matrix (x)", "n", [{"lane": "keras-jax"}])
