"""Values against the independent NumPy oracle (float64), in all four flag combinations.

Weights are the suite's own seeded arrays set with ``set_weights`` in the documented layout
(which is itself asserted first); the oracle computes from the published equations.
Tolerances: ``rnnconf.spec.reference.TOLERANCES`` (README, "Tolerances").
"""


from rnnconf.spec import reference
from rnnconf.harness.checks import check_against_oracle


def test_weight_layout(run, entry, shape, device):
    layer = run.layer(False, False)
    got = [tuple(w.shape) for w in layer.get_weights()]
    want = reference.weight_shapes(entry, shape)
    assert got == want, (f"get_weights() shapes of {entry.label} with input {entry.input_shape(shape)}: "
                         f"{got}, documented layout {want}")


def test_values_match_oracle(run, entry, return_sequences, return_state, shape, device, record):
    check_against_oracle(run, return_sequences, return_state, record)
