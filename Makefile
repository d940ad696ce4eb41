# Two set-up commands: `make run` and `make test`. Each bootstraps its own virtualenv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test bench lint typecheck clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/dmcare serve

test: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/understanding.py
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/x_ingest.py
	$(BIN)/python bench/lookups.py
	$(BIN)/python bench/anger.py

lint: $(STAMP)
	$(BIN)/ruff check bot flows integrations tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache
