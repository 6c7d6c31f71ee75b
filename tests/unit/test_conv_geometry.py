"""The ConvLSTM geometries (rnnconf/spec/conv_geometry.py): every combination the documentation
allows, none twice, each a valid layer with an output, and the default lane's rows cover every
pair of factor values."""

from rnnconf.spec import catalog, conv_geometry, pairwise


def test_every_allowed_combination_once() -> None:
    g = conv_geometry.GEOMETRIES
    assert len(g) == len(set(g)) == 3 * 2 * 3 * 2
    assert not any(x.strides > 1 and x.dilation_rate > 1 for x in g)  # ruled out by the docstrings
    ids = {(x.rank, x.id) for x in g}
    assert len(ids) == len(g)
    assert all("-" not in x.id for x in g)  # a case id splits on "-"


def test_each_geometry_is_a_case_of_its_rank_only() -> None:
    for g in conv_geometry.GEOMETRIES:
        takers = [e.id for e in catalog.ENTRIES if g.applies(e)]
        assert takers == [conv_geometry.BASE[g.rank]]


def test_each_geometry_has_an_output_and_no_square_state() -> None:
    """A state with its channel axis misplaced must show in its shape (the conv fakes rely on it)."""
    shape = catalog.OPTION_SHAPES[0]
    for g in conv_geometry.GEOMETRIES:
        e = g.entry(catalog.BY_ID[conv_geometry.BASE[g.rank]])
        out = e.spatial_out()
        assert len(out) == g.rank and min(out) >= 1
        assert not all(d == shape.units for d in out), g
        assert (e.padding, e.strides, e.dilation_rate, e.data_format) == (g.padding, g.strides, g.dilation_rate,
                                                                          g.data_format)
        first = e.input_shape(shape)
        assert first[2 if g.data_format == "channels_first" else -1] == shape.features


def test_the_default_lane_covers_every_pair() -> None:
    rows = [{"rank": g.rank, "padding": g.padding, "step": (g.strides, g.dilation_rate),
             "data_format": g.data_format} for g in conv_geometry.DEFAULT_LANE]
    assert not pairwise.missing_pairs(rows, conv_geometry.factors())
    assert len(rows) < len(conv_geometry.GEOMETRIES)
