# Two commands do everything on a fresh machine (Python 3.11, pip and make):
#   make report   the conformance suite on one implementation; writes reports/shapes.{html,json}, reports/junit.xml
#   make test     everything CI runs: the conformance suite, the oracle's own tests, a slice of the
#                 export family and the self-tests
#   make export   the export family on every backend that exports, one merged page (reports/export/)
#   make export-releases   the same on every Keras release since 3.0 (reports/export-releases/)
#
# Pick what is tested with variables (see README):
#   make report IMPL=keras KERAS_BACKEND=jax EXTRAS=jax
#   make report IMPL=tf_keras EXTRAS=tf-keras
#   make report IMPL=fixtures.broken.wrong_arity        (a deliberately broken fake)
#   make report DEVICE=gpu REQUIRE_GPU=1                 (a GPU CI job)
#   make report FULL=1                                   (option tests on every shape and merge mode)

PYTHON  ?= python3
VENV    ?= .venv
EXTRAS  ?= tensorflow
IMPL    ?= keras
N       ?= auto
DEVICE  ?= all
REPORTS ?= reports
REQUIRE_GPU ?=
FULL    ?=

comma   := ,
BIN     := $(VENV)/bin
PYTEST  := $(BIN)/python -m pytest
STAMP   := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
GPU_OPT := $(if $(REQUIRE_GPU),--require-gpu,)
FULL_OPT := $(if $(FULL),--full,)

.PHONY: venv lane-deps oracle-deps export-deps report test unit selftest export export-slice export-releases matrix releases nightly merge diff test-gpu bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	touch $@

# The conformance suite alone. Exits non-zero when any case failed; the reports are written either way.
report: venv
	@mkdir -p $(REPORTS)
	$(PYTEST) -n $(N) tests --ignore=tests/selftest --ignore=tests/unit $(ORACLE_TESTS:%=--ignore=%) --impl $(IMPL) --device $(DEVICE) $(GPU_OPT) $(FULL_OPT) \
	  --report-dir $(REPORTS) --junitxml=$(REPORTS)/junit.xml; \
	status=$$?; \
	echo "reports: $(REPORTS)/shapes.html  $(REPORTS)/shapes.json  $(REPORTS)/junit.xml (pytest exit $$status)"; \
	exit $$status

# Everything CI runs: the conformance suite (which writes the reports), the harness's own unit
# tests, and the self-tests that prove each family of checks fails on a broken fake.
test: oracle-deps export-deps report unit export-slice selftest

# PyTorch (the 2.13.0 CPU build) pins the NumPy oracle in tests/test_oracle_torch.py; without it
# those tests skip with a reason. `make test` installs it; `make report` does not need it.
oracle-deps: venv
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q torch==2.13.0

# The export family's exporters and runtimes on TensorFlow (pyproject's [export] extra): the
# export slice and the export fakes' self-tests need them; `make report` does not.
export-deps: venv
	$(BIN)/python -c "import tf2onnx, onnxruntime, ai_edge_litert, openvino, scipy" 2>/dev/null || $(BIN)/python -m pip install -q -e ".[$(EXTRAS),export]"

# A slice of the export family (tests/test_export.py) on TensorFlow: LSTM, every format and
# variant in float32, so CI proves the family works (the export self-tests run LSTM's dtype-policy
# tests on tf_saved_model; each policy is three more exports per format); `make export` runs all
# of it on every backend.
EXPORT_SLICE ?= [LSTM- and not policy
export-slice: export-deps
	@mkdir -p $(REPORTS)/export-slice
	$(PYTEST) -n $(N) tests/test_export.py --export all -k "$(EXPORT_SLICE)" --impl $(IMPL) --device $(DEVICE) \
	  --report-dir $(REPORTS)/export-slice --junitxml=$(REPORTS)/export-slice/junit.xml

# The harness's own tests: the oracle (against published numbers, by hand, and against PyTorch)
# and in-process unit tests of the case id, expectations, report view and assertion-site finder.
# One process: its ~8 s of tests do not need two xdist workers (no difference to claim either way:
# docs/figures.md).
ORACLE_TESTS := tests/test_oracle.py tests/test_oracle_torch.py
unit: venv
	$(PYTEST) -p no:xdist -p no:randomly tests/unit $(ORACLE_TESTS) --no-report

# The self-tests: the suite run on every broken fake (each logs the assertion site its failures
# came from), then the check that every assertion site of the suite failed on some fake.
selftest: venv
	rm -rf $(REPORTS)/selftest-sites
	$(PYTEST) -n $(N) tests/selftest -m "selftest and not sites" --no-report
	$(PYTEST) -p no:randomly tests/selftest -m sites --no-report

# The conformance matrix: every lane in its own uv environment under .lanes/ (never .venv), one
# report folder each (reports/lanes/<lane>/), then one page side by side (reports/matrix/).
#   make matrix                                  every backend Keras ships, tf-keras, keras-nightly
#   make matrix LANES="keras-jax keras-torch"    a subset (python -m rnnconf lanes list)
#   make releases                                Keras 3.0 -> latest (TensorFlow, JAX of its time, PyTorch),
#                                                keras-nightly, tf-keras 2.15 -> latest
#   make releases RELEASES="keras@3.4.1 keras@3.5.0/jax"
# Not part of `make test`: each lane installs its backend (README, "The matrix").
LANES    ?= matrix
RELEASES ?= releases
LANE_N   ?= auto
# uv fills each lane's environment (seconds per lane once its wheels are cached)
lane-deps: venv
	$(BIN)/python -c "import uv" 2>/dev/null || $(BIN)/python -m pip install -q uv

matrix: lane-deps
	$(BIN)/python -m rnnconf lanes run $(LANES) -n $(LANE_N) --reports $(REPORTS)/lanes --merge $(REPORTS)/matrix

releases: lane-deps
	$(BIN)/python -m rnnconf lanes run $(RELEASES) -n $(LANE_N) --reports $(REPORTS)/lanes --merge $(REPORTS)/releases

# The export family: every entry, every Model.export format, run in each format's own runtime, on
# each backend that exports (TensorFlow, JAX, PyTorch), each lane in its own environment with its
# exporters and runtimes (rnnconf/tools/lanes.py, EXPORT_REQUIRES); one merged page.
EXPORT_LANES ?= export
export: lane-deps
	$(BIN)/python -m rnnconf lanes run $(EXPORT_LANES) -n $(LANE_N) --reports $(REPORTS)/lanes --merge $(REPORTS)/export

# The export family over the releases: every Keras release of `make releases` (TensorFlow, the JAX
# of its time, PyTorch) with its exporters and runtimes, from 3.0 (tf_saved_model; a later format
# from the first release that documents it), and the latest; one merged page. Hours on 2 cores
# (docs/export.md: a release's lane takes 1 to 35 minutes); pass a subset as for make releases:
#   make export-releases EXPORT_RELEASES="keras@3.13.2+export keras@3.13.2/jax@0.8.1+export"
EXPORT_RELEASES ?= export-releases
export-releases: lane-deps
	$(BIN)/python -m rnnconf lanes run $(EXPORT_RELEASES) -n $(LANE_N) --reports $(REPORTS)/lanes --merge $(REPORTS)/export-releases

# The pre-release alone (kept as its own target: a one-word check before a Keras upgrade).
nightly: lane-deps
	$(BIN)/python -m rnnconf lanes run keras-nightly -n $(LANE_N) --reports $(REPORTS)/lanes

# Runs side by side, and what changed between two (exit 1 on a regression):
#   make merge RUNS="reports/lanes/keras-3.4.1/shapes.json reports/lanes/keras-3.5.0/shapes.json"
#   make diff OLD=reports/lanes/keras-3.4.1/shapes.json NEW=reports/lanes/keras-3.5.0/shapes.json
merge: venv
	$(BIN)/python -m rnnconf merge $(REPORTS)/matrix $(RUNS)

diff: venv
	$(BIN)/python -m rnnconf diff $(OLD) $(NEW)

# The GPU lane: the GPU cases (and the CPU/GPU comparisons) of every backend that sees a GPU;
# --require-gpu makes a missing GPU an error, never a green run of skips.
GPU_LANES ?= keras-tensorflow+gpu keras-jax+gpu keras-torch+gpu
test-gpu: lane-deps
	$(BIN)/python -m rnnconf lanes run $(GPU_LANES) -n $(LANE_N) --reports $(REPORTS)/gpu --merge $(REPORTS)/gpu -- --device gpu --require-gpu

bench: venv
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .lanes $(REPORTS)/lanes $(REPORTS)/matrix $(REPORTS)/releases $(REPORTS)/export $(REPORTS)/export-releases $(REPORTS)/export-slice $(REPORTS)/shapes.* $(REPORTS)/junit.xml $(REPORTS)/selftest-sites .hypothesis
