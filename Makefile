# Two commands on a fresh machine: `make run` and `make test`. Each builds .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= feeds.yaml

.PHONY: run test lint demo check fetch publish clean bench-peer system-deps fuzz

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

$(VENV)/.fuzz: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[fuzz]'
	touch $@

fuzz: $(VENV)/.fuzz  ## coverage-guided fuzzing of parsing, posts and links (FUZZ_SECONDS, default 60)
	$(BIN)/python benchmarks/fuzz/run.py

bench-peer: $(VENV)/.installed  ## fetch --all beside the reader library on a local corpus
	$(PYTHON) benchmarks/peer/run.py

# Debian packages the browser, feed reader, Jekyll and compose tests drive (as root, with
# apt-get): the tests skip, saying which is missing, without them. `.ci/run` runs this.
SYSTEM_DEPS := chromium newsboat fonts-nanum jekyll jekyll-theme-minima
system-deps:  ## install the Debian packages some tests need (root)
	@missing=""; \
	for package in $(SYSTEM_DEPS); do \
	  dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; \
	done; \
	command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 \
	  || missing="$$missing docker-compose"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1 || [ "$$(id -u)" != 0 ]; then \
	  echo "system-deps: not root or no apt-get; the tests needing$$missing will skip" >&2; \
	  exit 0; \
	fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	{ apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; } \
	  || echo "system-deps: could not install$$missing; the tests needing them will skip" >&2

check fetch publish: $(VENV)/.installed
	$(BIN)/aggregator -c $(CONFIG) $@

clean:
	rm -rf $(VENV) data public _posts .pytest_cache .ruff_cache .mypy_cache
