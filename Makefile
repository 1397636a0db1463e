# `make demo`, `make test` (slow cases left out) and `make test-all` set up
# .venv first (once). `make setup` always reruns tools/setup_env.sh, which is
# idempotent and picks up a changed TORCH_INDEX_URL (e.g. a CUDA torch).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mmseg_fdacl-setup
PYTEST_ARGS ?= -q

.PHONY: setup demo test test-all bench

$(STAMP): setup.py requirements/*.txt tools/setup_env.sh
	VENV=$(VENV) bash tools/setup_env.sh
	touch $@

setup:
	VENV=$(VENV) bash tools/setup_env.sh
	touch $(STAMP)

demo: $(STAMP)
	$(PY) tools/run_pipeline.py --demo

test: $(STAMP)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} $(PY) -m pytest tests -m "not slow" $(PYTEST_ARGS)

test-all: $(STAMP)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} $(PY) -m pytest tests $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) tools/benchmarks/run_all.py
