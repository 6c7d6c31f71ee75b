"""Speed settings never cost a lane: a setting the running JAX lacks is skipped and named in the
note the report's header prints (JAX 0.4.23, of Keras 3.3's time, lacks
``jax_persistent_cache_min_entry_size_bytes``; setting it stopped the run before its first case)."""

import itertools
import sys
import types

from rnnconf.impl.backends import jax as jax_backend


class OldJaxConfig:
    """``jax.config`` as an older JAX has it: update() raises AttributeError for an option it
    does not define (JAX's own message: "Unrecognized config option: ...")."""

    def __init__(self, known):
        self.known, self.set = set(known), {}

    def update(self, name, value):
        if name not in self.known:
            raise AttributeError(f"Unrecognized config option: {name}")
        self.set[name] = value


def test_a_setting_the_running_jax_lacks_is_skipped_and_named():
    config = OldJaxConfig({"a", "c"})
    assert jax_backend.apply_settings(config, [("a", 1), ("b", 2), ("c", 3)]) == ["b"]
    assert config.set == {"a": 1, "c": 3}


def test_prepare_on_a_jax_without_the_entry_size_setting(monkeypatch, tmp_path):
    config = OldJaxConfig({"jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs"})
    monkeypatch.setitem(sys.modules, "jax", types.SimpleNamespace(__version__="0.4.23", config=config))
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    note = jax_backend.prepare()
    assert note.endswith("; jax 0.4.23 lacks jax_persistent_cache_min_entry_size_bytes (skipped)"), note
    assert config.set["jax_compilation_cache_dir"] == str(tmp_path / "rnn-conformance" / "jax-0.4.23")
    assert config.set["jax_persistent_cache_min_compile_time_secs"] == 0


def test_prepare_on_a_jax_without_a_persistent_cache(monkeypatch):
    config = OldJaxConfig(set())
    monkeypatch.setitem(sys.modules, "jax", types.SimpleNamespace(__version__="0.4.1", config=config))
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    assert jax_backend.prepare() == "no jax compilation cache (jax 0.4.1 has no jax_compilation_cache_dir)"


def test_the_cache_stays_off_where_it_changes_results(monkeypatch, tmp_path):
    """JAX 0.4.28 and 0.5.0 write donated buffers into the NumPy arrays a layer was set from when
    the train step comes from the persistent cache: there the suite does not switch it on, and
    says why; a user's own cache is kept, with the warning."""
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for version, unsafe in (("0.4.23", False), ("0.4.28", True), ("0.5.0", True), ("0.8.1", False)):
        config = OldJaxConfig({"jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs",
                               "jax_persistent_cache_min_entry_size_bytes"})
        monkeypatch.setitem(sys.modules, "jax", types.SimpleNamespace(__version__=version, config=config))
        note = jax_backend.prepare()
        assert note.startswith("no jax compilation cache") == unsafe, (version, note)
        assert ("jax_compilation_cache_dir" in config.set) != unsafe, (version, config.set)
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path))
    monkeypatch.setitem(sys.modules, "jax", types.SimpleNamespace(__version__="0.5.0", config=config))
    assert jax_backend.CACHE_UNSAFE_BECAUSE in jax_backend.prepare()


def test_jax_releases_its_programs_before_the_mappings_run_out(monkeypatch):
    """Once the process holds more than half of vm.max_map_count mappings, every 25th test
    clears JAX's caches (XLA's next compile would crash at the limit); below it, nothing."""
    cleared = []
    monkeypatch.setitem(sys.modules, "jax", types.SimpleNamespace(clear_caches=lambda: cleared.append(1)))
    monkeypatch.setattr(jax_backend, "_TESTS", itertools.count(1))
    with open("/proc/self/maps", "rb") as f:
        held = sum(1 for _ in f)
    monkeypatch.setattr(jax_backend, "_MAP_LIMIT", 10 * held)  # far from it: nothing happens
    for _ in range(50):
        jax_backend.release_mappings()
    assert cleared == []
    monkeypatch.setattr(jax_backend, "_MAP_LIMIT", held)  # past half of it: every 25th test clears
    for _ in range(50):
        jax_backend.release_mappings()
    assert cleared == [1, 1]
