# The README's two commands live here: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.coach-setup

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

# torch 2.13.0 (CPU build) goes in first so that nothing later pulls a multi-GB CUDA build.
# The embedded model's llama-cpp-python compiles from source the first time (about 7 min on
# 2 cores); pip caches the wheel after that.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev,embedded]'
	touch $(STAMP)

# The main job on the embedded defaults: a labelled demo programme, its report, a search of the
# knowledge base (built with a progress bar on first use), and a plan for a pair's next session
# written with the embedded model. The terminal app (`.venv/bin/coach`) opens on the same data.
demo: setup
	$(BIN)/coach demo-data --replace
	$(BIN)/coach report
	$(BIN)/coach knowledge search "My director gets defensive when I point out problems. How do I raise them without it backfiring?" --top-k 3
	$(BIN)/coach prepare --pair 2 --topic async-meetings --refresh
	@echo "Open the terminal app on this programme with: $(BIN)/coach"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache build dist
