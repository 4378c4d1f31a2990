# Two commands a newcomer needs: `make demo` (train PPO on CartPole and plot it) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-slow test-all docs lint clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned to the CPU build on disk; the package itself only asks for a range.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev,docs,tb,video,ray,jax]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m spinup.examples.demo

# The default suite runs on every core: each test file on one worker (see tests/conftest.py)
test: $(STAMP)
	$(BIN)/ruff check spinup tests benchmarks
	$(BIN)/python -m pytest -q -n auto --dist loadgroup

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -m "slow or not slow"

docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

lint: $(STAMP)
	$(BIN)/ruff check spinup tests benchmarks

clean:
	rm -rf $(VENV) docs/_build
