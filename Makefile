# Two commands do everything on a fresh machine (Python 3.11, pip and make):
#   make report   the conformance suite on one implementation; writes reports/shapes.{html,json}, reports/junit.xml
#   make test     everything CI runs: the conformance suite, the oracle's own tests and the self-tests
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

.PHONY: venv oracle-deps report test unit selftest matrix nightly bench clean

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
test: oracle-deps report unit selftest

# PyTorch (the 2.13.0 CPU build) pins the NumPy oracle in tests/test_oracle_torch.py; without it
# those tests skip with a reason. `make test` installs it; `make report` does not need it.
oracle-deps: venv
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q torch==2.13.0

# The harness's own tests: the oracle (against published numbers, by hand, and against PyTorch)
# and in-process unit tests of the case id, expectations, report view and assertion-site finder.
ORACLE_TESTS := tests/test_oracle.py tests/test_oracle_torch.py
unit: venv
	$(PYTEST) -n $(N) -p no:randomly tests/unit $(ORACLE_TESTS) --no-report

# The self-tests: the suite run on every broken fake (each logs the assertion site its failures
# came from), then the check that every assertion site of the suite failed on some fake.
selftest: venv
	rm -rf $(REPORTS)/selftest-sites
	$(PYTEST) -n $(N) tests/selftest -m "selftest and not sites" --no-report
	$(PYTEST) -p no:randomly tests/selftest -m sites --no-report

# Every implementation this project tracks, one report folder each (reports/<impl>-<backend>/).
# Not part of `make test`: it installs JAX, PyTorch and tf-keras and takes far longer (README).
LANES := keras:tensorflow:tensorflow keras:jax:jax keras:torch:torch tf_keras:tensorflow:tf-keras
matrix:
	@status=0; for lane in $(LANES); do \
	  impl=$${lane%%:*}; rest=$${lane#*:}; backend=$${rest%%:*}; extras=$${rest#*:}; \
	  $(MAKE) --no-print-directory report IMPL=$$impl KERAS_BACKEND=$$backend EXTRAS=$$extras \
	    REPORTS=$(REPORTS)/$$impl-$$backend || status=1; \
	done; exit $$status

# The conformance suite on the Keras pre-release that PyPI serves as keras-nightly (TensorFlow
# backend), in its own environment: TensorFlow pulls in keras, which is swapped for keras-nightly.
# Expectation entries bounded by version (versions = "<3.16") do not apply there.
NIGHTLY_VENV ?= .venv-nightly
nightly:
	test -x $(NIGHTLY_VENV)/bin/python || $(PYTHON) -m venv $(NIGHTLY_VENV)
	$(NIGHTLY_VENV)/bin/python -m pip install -q --upgrade pip
	$(NIGHTLY_VENV)/bin/python -m pip install -q -e ".[tensorflow]"
	$(NIGHTLY_VENV)/bin/python -m pip uninstall -q -y keras
	$(NIGHTLY_VENV)/bin/python -m pip install -q --no-deps --upgrade --force-reinstall keras-nightly
	@mkdir -p $(REPORTS)/keras-nightly
	$(NIGHTLY_VENV)/bin/python -m pytest -n $(N) tests --ignore=tests/selftest --ignore=tests/unit $(ORACLE_TESTS:%=--ignore=%) --impl keras \
	  --report-dir $(REPORTS)/keras-nightly --junitxml=$(REPORTS)/keras-nightly/junit.xml; \
	status=$$?; echo "reports: $(REPORTS)/keras-nightly/shapes.html (pytest exit $$status)"; exit $$status

bench: venv
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(NIGHTLY_VENV) $(REPORTS)/shapes.* $(REPORTS)/junit.xml $(REPORTS)/selftest-sites .hypothesis
