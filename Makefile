# Two commands on a fresh machine: `make run` and `make test`. Each builds .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= feeds.yaml

.PHONY: run test lint demo check fetch publish clean bench-peer

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed  ## the service on the bundled feeds.yaml (SQLite store)
	$(BIN)/aggregator -c $(CONFIG) run

test: $(VENV)/.installed  ## lint, types, then the whole test suite
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src/aggregator
	$(BIN)/python -m pytest -q

demo: $(VENV)/.installed  ## bundled sample feeds served on 127.0.0.1, one pass, no internet
	$(BIN)/aggregator demo

bench-peer: $(VENV)/.installed  ## fetch --all beside the reader library on a local corpus
	$(PYTHON) benchmarks/peer/run.py

check fetch publish: $(VENV)/.installed
	$(BIN)/aggregator -c $(CONFIG) $@

clean:
	rm -rf $(VENV) data public _posts .pytest_cache .ruff_cache .mypy_cache
