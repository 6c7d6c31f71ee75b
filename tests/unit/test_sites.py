"""The assertion-site finder of the self-tests, in-process, on a small made-up test file."""

import textwrap

from tests.selftest.sites import failing_site, sites_in

SOURCE = textwrap.dedent('''\
    import pytest
    from rnnconf.harness.asserts import assert_close

    def test_a(x):
        assert x, (
            "message")
        y = max(0, assert_close(
            x, 1, "what", "ctx", rtol=1, atol=1))
        with pytest.raises(ValueError):
            f()
        pytest.fail("no")

    def test_b(x):
        assert x
        assert x
    ''')


def test_sites_and_failing_site(tmp_path):
    (tmp_path / "tests").mkdir()
    path = tmp_path / "tests" / "test_made_up.py"
    path.write_text(SOURCE)
    sites = sites_in(path, tmp_path)
    assert [(s.function, s.kind, s.start, s.end) for s in sites] == [
        ("test_a", "assert", 5, 6), ("test_a", "helper", 7, 8), ("test_a", "raises", 9, 9),
        ("test_a", "fail", 11, 11), ("test_b", "assert", 14, 14), ("test_b", "assert", 15, 15)]
    assert sites[5].key == "tests/test_made_up.py::test_b: assert x #2"
    # innermost frame inside a site wins; frames outside the repository are ignored
    frames = [(str(path), 8), ("/elsewhere/asserts.py", 40)]
    assert failing_site(frames, sites, tmp_path) is sites[1]
    assert failing_site([(str(path), 6)], sites, tmp_path) is sites[0]
    assert failing_site([(str(path), 3)], sites, tmp_path) is None
