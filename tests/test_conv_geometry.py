"""ConvLSTM's geometry arguments together: every ``padding`` x ``strides``/``dilation_rate`` x
``data_format`` the documentation allows, for each rank (rnnconf/spec/conv_geometry.py).

The docstrings promise the shapes -- "``rows`` and ``cols`` values might have changed due to
padding", states ``(samples, filters, new_rows, new_cols)`` with ``channels_first`` and
``(samples, new_rows, new_cols, filters)`` with ``channels_last`` -- and the oracle computes both
(the same weights; the channel axis moves). One call with ``return_sequences=True,
return_state=True`` returns every tensor; three claims each read it: the eager shapes, the shapes
``compute_output_shape`` gives, and the values. The default lane runs a covering array of the
four factors (9 of the 36 geometries: every pair meets); ``--full`` all of them.
"""

import pytest

from rnnconf.spec import contract, conv_geometry
from rnnconf.harness.asserts import assert_structure
from rnnconf.harness.checks import check_against_oracle
from rnnconf.harness.fixtures import case_run
from rnnconf.harness.outcomes import skip_without_gpu

pytestmark = [
    pytest.mark.shapes("options"),
    pytest.mark.default_lane(lambda p: conv_geometry.in_default_lane(p["geometry"])),
]


@pytest.fixture
def geo_run(impl, entry, geometry, shape, device):
    """The memoised case of ``entry`` (its rank's catalog entry) with this geometry."""
    skip_without_gpu(impl, device)
    return case_run(impl, geometry.entry(entry), shape, device)


def test_conv_geometry_shapes(geo_run, entry, shape, device, geometry, record):
    """The shape of the output sequence and of h and c, in the geometry's data_format."""
    got = geo_run.call(True, True)
    expected = contract.expected_tree(geo_run.entry, shape, True, True)
    record.returned(expected, got.tree, view="eager", containers=got.containers, dtypes=got.dtypes,
                    placements=got.placements)
    assert_structure(contract.flatten(expected), contract.flatten(got.tree), geo_run.describe(True, True))


def test_conv_geometry_compute_output_shape(geo_run, entry, shape, device, geometry, record):
    """compute_output_shape on the concrete input shape agrees with the documented shapes."""
    got = geo_run.compute_output_shape(True, True)
    expected = contract.expected_tree(geo_run.entry, shape, True, True)
    record.returned(expected, got, view="compute_output_shape")
    assert_structure(contract.flatten(expected), contract.flatten(got),
                     "compute_output_shape of " + geo_run.describe(True, True))


def test_conv_geometry_values(geo_run, entry, shape, device, geometry, record):
    """The output sequence and both states against the oracle."""
    check_against_oracle(geo_run, True, True, record)
