"""use_cudnn (Keras 3; where a release's layers take no such argument, its cases are not
applicable, see outcomes.not_applicable): "auto" and False must give the same values (on PyTorch and JAX they are
different code even on a CPU), and True must raise a clear ValueError where no fast path
applies (TensorFlow without a GPU)."""

import pytest

from rnnconf.spec import catalog
from rnnconf.harness.checks import check_against_oracle

FAST_PATH_ENTRIES = lambda e: e.form == "layer" and e.cells[0].kind in ("lstm", "gru") or (  # noqa: E731
    e.bidirectional and not e.asymmetric and e.cells[0].kind in ("lstm", "gru") and e.merge_mode == "concat")


@pytest.mark.parametrize("use_cudnn", ["auto", False], ids=["auto", "false"])
@pytest.mark.entries(FAST_PATH_ENTRIES)
@pytest.mark.shapes("options")
def test_use_cudnn_matches_oracle(impl, make_run, entry, return_sequences, return_state, shape, device,
                                  use_cudnn, record):
    check_against_oracle(make_run(use_cudnn=use_cudnn), return_sequences, return_state, record)


@pytest.mark.entries(lambda e: e.form == "layer" and e.cells[0].kind in ("lstm", "gru"))
@pytest.mark.shapes(catalog.NOTEBOOK_SHAPE)
def test_use_cudnn_true_without_fast_path_raises(impl, make_run, entry, shape, device):
    if not (impl.backend == "tensorflow" and device == "cpu"):
        pytest.skip(f"a fast path may apply on {impl.backend} {device}; the documented refusal is "
                    "TensorFlow's on a CPU")
    run = make_run(use_cudnn=True)
    with pytest.raises(ValueError, match="use_cudnn"):
        run.call(True, True)
