# Byline: the few commands a person needs. `make help` lists them.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PG_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

MO := $(patsubst %.po,%.mo,$(wildcard app/locale/*/LC_MESSAGES/messages.po))

.PHONY: help install run test test-sqlite test-postgres lint bench clean messages

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(VENV)/bin/pybabel compile -d app/locale
	touch $(STAMP)

# A catalog is compiled again whenever its translations change.
app/locale/%/LC_MESSAGES/messages.mo: app/locale/%/LC_MESSAGES/messages.po $(STAMP)
	$(VENV)/bin/pybabel compile -d app/locale -l $*

install: $(STAMP) $(MO)  ## create the venv and install Byline with its pinned dependencies

messages: $(STAMP)  ## extract the texts to translate into app/locale/messages.pot and update every catalog
	$(VENV)/bin/pybabel extract -F babel.cfg -k lazy_gettext -k _l -k N_ --no-location --sort-output \
		--project=Byline -o app/locale/messages.pot app templates
	$(VENV)/bin/pybabel update -i app/locale/messages.pot -d app/locale --no-fuzzy-matching

run: $(STAMP) $(MO)  ## migrate, load demo data, print the demo admin and serve http://127.0.0.1:8000 (BYLINE_PORT=8101 for another port)
	$(VENV)/bin/byline migrate
	$(VENV)/bin/byline demo
	BYLINE_MAIL_CATCHER=$${BYLINE_MAIL_CATCHER:-true} $(VENV)/bin/byline serve

test: $(STAMP) $(MO)  ## the layers check, then the whole suite on SQLite and on PostgreSQL, side by side (one core each)
	$(VENV)/bin/lint-imports
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

test-sqlite: $(STAMP) $(MO)  ## the suite on a SQLite file (with the browser journeys)
	BYLINE_TEST_DATABASE=sqlite $(PY) -m pytest -q -W error::DeprecationWarning

test-postgres: $(STAMP) $(MO)  ## the suite on PostgreSQL at 127.0.0.1:5432 (browser journeys skipped)
	BYLINE_TEST_DATABASE=postgres BYLINE_TEST_POSTGRES_URL=$(PG_URL) $(PY) -m pytest -q -W error::DeprecationWarning -m "not browser"

lint: $(STAMP)  ## ruff, mypy and the import layers (import-linter)
	$(VENV)/bin/ruff check app tests migrations bench
	$(VENV)/bin/ruff format --check app tests migrations bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)  ## the benchmarks (README, Performance): seeds 10k and 1M applications once, then prints one table
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(PY) -m bench.run $(BENCH_ARGS)

clean:  ## remove the venv and local data (var/)
	rm -rf $(VENV) var test-artifacts
