# Byline: the few commands a person needs. `make help` lists them.
VENV ?= .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
# What running needs (`make run`), and that plus the test and lint tools (`make test`, `make lint`).
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
PG_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

MO := $(patsubst %.po,%.mo,$(wildcard app/locale/*/LC_MESSAGES/messages.po))

.PHONY: help install run test test-deep test-sqlite test-postgres lint bench clean messages

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(PY):
	python3 -m venv $(VENV)

# uv installs the pinned dependencies in seconds; pip is the fallback when uv cannot be had.
$(UV): | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt uv || true

# uv reads neither pip.conf nor PIP_*: a local wheel folder and the system's CA bundle are passed on. Packages
# are compiled to bytecode as they are installed (as pip does), and Byline's own modules before each run and
# test: where PYTHONDONTWRITEBYTECODE is set, every process would otherwise compile every module it imports.
UV_ENV := $(if $(wildcard $(PIP_FIND_LINKS)),UV_FIND_LINKS=$(PIP_FIND_LINKS)) \
	$(if $(wildcard /etc/ssl/certs/ca-certificates.crt),SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt)
define install_pinned
	if [ -x $(UV) ]; then $(UV_ENV) $(UV) pip install --quiet --compile-bytecode --python $(PY) -c constraints.txt $(1); \
	else $(PY) -m pip install --quiet -c constraints.txt $(1); fi
endef

$(RUN_STAMP): pyproject.toml constraints.txt | $(UV)
	$(call install_pinned,-e .)
	touch $@

$(DEV_STAMP): pyproject.toml constraints.txt | $(UV)
	$(call install_pinned,-e '.[dev]')
	touch $@ $(RUN_STAMP)

# A catalog is compiled again whenever its translations change.
app/locale/%/LC_MESSAGES/messages.mo: app/locale/%/LC_MESSAGES/messages.po $(RUN_STAMP)
	$(VENV)/bin/pybabel compile -d app/locale -l $*

install: $(DEV_STAMP) $(MO)  ## create the venv and install Byline with its pinned dependencies and the test tools

messages: $(DEV_STAMP)  ## extract the texts to translate into app/locale/messages.pot and update every catalog
	$(VENV)/bin/pybabel extract -F babel.cfg -k lazy_gettext -k _l -k N_ --no-location --sort-output \
		--project=Byline -o app/locale/messages.pot app templates
	$(VENV)/bin/pybabel update -i app/locale/messages.pot -d app/locale --no-fuzzy-matching

run: $(RUN_STAMP) $(MO)  ## migrate, load demo data, print the demo admin and serve http://127.0.0.1:8000 (BYLINE_PORT=8101 for another port)
	$(PY) -m compileall -q app >/dev/null
	$(VENV)/bin/byline run

test: $(DEV_STAMP) $(MO)  ## the layers check, then the whole suite on SQLite and on PostgreSQL, side by side (one core each)
	$(PY) -m compileall -q app >/dev/null
	$(VENV)/bin/lint-imports
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

test-sqlite: $(DEV_STAMP) $(MO)  ## the suite on a SQLite file (with the browser journeys)
	BYLINE_TEST_DATABASE=sqlite $(PY) -m pytest -q -W error::DeprecationWarning

test-postgres: $(DEV_STAMP) $(MO)  ## the suite on PostgreSQL at 127.0.0.1:5432 (browser journeys skipped)
	BYLINE_TEST_DATABASE=postgres BYLINE_TEST_POSTGRES_URL=$(PG_URL) $(PY) -m pytest -q -W error::DeprecationWarning -m "not browser"

test-deep: $(DEV_STAMP) $(MO)  ## `make test` with the property-based tests' full budget (hypothesis state machine, schemathesis)
	BYLINE_TEST_DEEP=1 $(MAKE) --no-print-directory test

lint: $(DEV_STAMP)  ## ruff, mypy and the import layers (import-linter)
	$(VENV)/bin/ruff check app tests migrations bench
	$(VENV)/bin/ruff format --check app tests migrations bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(DEV_STAMP)  ## the benchmarks (README, Performance): seeds 10k and 1M applications once, then prints one table
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(PY) -m bench.run $(BENCH_ARGS)

clean:  ## remove the venv and local data (var/)
	rm -rf $(VENV) var test-artifacts
