"""rnnconf.harness.caseid in-process: what case_id builds, parse_case_id reads back."""

import pytest

from rnnconf.spec import catalog
from rnnconf.harness.caseid import case_id, parse_case_id

NB = catalog.NOTEBOOK_SHAPE


def test_build_in_canonical_order():
    assert case_id("tests/test_structure.py", "test_shapes", entry="LSTM", return_sequences=True,
                   return_state=False, shape=NB, device="cpu") == \
        "tests/test_structure.py::test_shapes[LSTM-seq-nostate-B1T4F5U3-cpu]"
    assert case_id("m.py", "t", entry="GRU", shape="B3T4F5U3", device="gpu", extra=("float64",)) == \
        "m.py::t[GRU-B3T4F5U3-gpu-float64]"
    assert case_id("m.py", "t") == "m.py::t"


@pytest.mark.parametrize("rs", [False, True])
@pytest.mark.parametrize("st", [False, True, None])
def test_round_trip(rs, st):
    nodeid = case_id("tests/test_masking.py", "test_mask_matches_oracle", entry="Bi_GRU_None",
                     return_sequences=rs, return_state=st, shape=NB, device="cpu", extra=("right_padded",))
    cid = parse_case_id(nodeid)
    assert (cid.module, cid.test, cid.entry, cid.return_sequences, cid.return_state, cid.shape,
            cid.device, cid.extra) == ("tests/test_masking.py", "test_mask_matches_oracle", "Bi_GRU_None",
                                       rs, st, NB.id, "cpu", ("right_padded",))
    assert cid.group == f"Bi_GRU_None-{NB.id}-cpu"


def test_parse_reads_ids_whose_own_params_come_first():
    cid = parse_case_id("tests/test_notebook.py::test_printed_shapes[last-state-gpu-RNN_SimpleRNNCell]")
    assert (cid.entry, cid.return_sequences, cid.return_state, cid.device, cid.shape) == \
        ("RNN_SimpleRNNCell", False, True, "gpu", None)


def test_non_case_ids_group_alone():
    for nodeid in ("tests/test_oracle.py::test_x", "tests/test_oracle.py::test_y[simple-3]"):
        cid = parse_case_id(nodeid)
        assert cid.entry is None and cid.group == nodeid
