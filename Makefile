# The few commands a newcomer needs. Everything runs from a local virtualenv (.venv).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS ?= dev,ultralytics

.PHONY: demo test lint typecheck setup system-deps bench clean

$(BIN)/brightwatch: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[$(EXTRAS)]'
	@touch $@

setup: system-deps $(BIN)/brightwatch  ## install system packages and the project
	bash scripts/fetch-face-model.sh

system-deps:
	bash scripts/system-deps.sh

demo: $(BIN)/brightwatch  ## run the one-command demo (embedded database and broker)
	$(BIN)/brightwatch demo

test: setup  ## the test suite against real PostgreSQL, mosquitto and Chromium
	$(BIN)/python -m pytest

lint: $(BIN)/brightwatch
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/brightwatch
	$(BIN)/mypy contract alerts elevators vision ingest registry db mqttlink edge api brightwatch dashboards

bench: $(BIN)/brightwatch  ## benchmarks; figures go to bench/out and bench/RESULTS.md
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.vision

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
