# The two commands from the README: `make demo` and `make test`. Each sets up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test
# A second virtualenv with plain RQ 2.12 + rq-scheduler 0.14: the tests run real RQ 2 processes from it.
VENV_RQ2 := .venv-rq2
STAMP_RQ2 := $(VENV_RQ2)/.installed-rq-2.12.0
RQ2_PINS := rq==2.12.0 rq-scheduler==0.14.0 'redis!=8.2.0'

.PHONY: demo attach test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

$(STAMP_RQ2):
	$(PYTHON) -m venv $(VENV_RQ2)
	$(VENV_RQ2)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_RQ2)/bin/python -m pip install --quiet $(RQ2_PINS)
	touch $@

demo: $(VENV)/.installed
	$(BIN)/rqtop demo

# A second dashboard on the running demo's Redis (the demo leaves its URL in a file while it runs).
attach: $(VENV)/.installed
	@url="$$($(BIN)/python -c 'from tui.demo import demo_url_file as f; p = f(); print(p.read_text().strip() if p.exists() else "")')"; \
	if [ -z "$$url" ]; then echo "make attach: no rqtop demo is running (start one with: make demo)" >&2; exit 2; fi; \
	$(BIN)/rqtop --url "$$url"

test: $(STAMP) $(STAMP_RQ2)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	RQTOP_RQ2_VENV=$(abspath $(VENV_RQ2)) $(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) $(VENV_RQ2) .pytest_cache
