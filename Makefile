# The README's two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app erp
PYBABEL := $(VENV)/bin/pybabel
# Every folder that keeps a message catalog: the host (shared templates in erp/templates) and each module
# (the Notes example's too: examples/notes, a package of its own).
CATALOGS := erp $(wildcard modules/*) examples/notes/mosaic_notes

.PHONY: run dev test lint audit bench bench-scale install install-test translations extract-messages update-messages clean

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=23.1"
	$(PY) -m pip install --quiet -e .
	touch $@

# The Notes example module is installed with pip, as an outside author's module would be,
# but into a folder of its own that only the tests put on the path ($(TEST_SITE)): the
# host's suite loads it by its entry point, its own tests run from its folder, and
# `make run` serves the product without an example in it.
TEST_SITE := $(abspath $(VENV))/test-site
NOTES_FILES := $(shell find examples/notes/pyproject.toml examples/notes/mosaic_notes -type f -not -name '*.mo' -not -path '*__pycache__*')
$(VENV)/.installed-test: $(VENV)/.installed $(NOTES_FILES)
	$(PY) -m pip install --quiet -e ".[test]"
	$(PYBABEL) compile --domain messages -d examples/notes/mosaic_notes/translations
	rm -rf $(TEST_SITE)
	$(PY) -m pip install --quiet --no-deps --target $(TEST_SITE) ./examples/notes
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## Compile the .po catalogs into the .mo files Flask-Babel reads (not committed), each only
## when its .po is newer: a test run never rewrites a catalog another run is reading.
PO_FILES := $(wildcard $(addsuffix /translations/*/LC_MESSAGES/*.po,$(CATALOGS)))
MO_FILES := $(PO_FILES:.po=.mo)
translations: install $(MO_FILES)

%.mo: %.po | $(VENV)/.installed
	$(PYBABEL) compile --statistics -i $< -o $@

HOST ?= 127.0.0.1
PORT ?= 5000

## Create or upgrade the SQLite database in instance/, load demo data if empty, then serve
## with gunicorn and the background worker (Ctrl+C stops both): `make run PORT=8000`.
run: translations
	$(FLASK) setup
	$(FLASK) serve --host $(HOST) --port $(PORT)

## The same with Flask's development server (reloader, debugger) instead of gunicorn.
dev: translations
	$(FLASK) setup
	$(FLASK) serve --dev --host $(HOST) --port $(PORT)

## The whole suite (on PostgreSQL too when ERP_TEST_DATABASE_URL is set), then the Notes
## example's own tests and the module contract, from its folder, on the test kit (the
## plugin of erp.testing) alone: as an outside author runs them.
test: install-test translations
	PYTHONPATH=$(TEST_SITE) $(PY) -m pytest $(PYTEST_ARGS)
	cd examples/notes && PYTHONPATH=$(TEST_SITE) $(abspath $(PY)) -m pytest --erp-contract $(NOTES_PYTEST_ARGS)

## Benchmarks on generated data (numbers, not pass/fail); BENCH_ARGS e.g. "20000".
## import_concurrent: the import through the worker while 4 clients save, on SQLite, and
## on PostgreSQL too if ERP_BENCH_DATABASE_URL names a server (a scratch database is made).
bench: install
	$(PY) bench/atomic_search.py $(BENCH_ARGS)
	$(PY) bench/timeline.py $(BENCH_ARGS)
	$(PY) bench/import_accounts.py $(BENCH_ARGS)
	$(PY) bench/import_concurrent.py $(BENCH_ARGS)

## Issue 15's benchmark: generate the dataset (only into an empty database), then time every
## page and API list over HTTP against gunicorn (2 workers) as admin, manager and rep, and a
## bounded throughput run. Default: 200,000 accounts, 1,000,000 events, a whale of 100,000;
## `make bench-scale ACCOUNTS=20000` for a quick one (events and whale scale with it).
## A tenth of it is generated too and timed side by side (--compare-url): the growth ratio.
## BENCH_SCALE_DATABASE_URL / BENCH_SCALE_SMALL_URL pick the databases (default a file per
## size in instance/); BENCH_SCALE_ARGS go to the timing client, e.g. "--runs 50".
ACCOUNTS ?= 200000
EVENTS ?= $(shell expr $(ACCOUNTS) \* 5)
WHALE ?= $(shell expr $(EVENTS) / 10)
BENCH_SCALE_DATABASE_URL ?= sqlite:///$(CURDIR)/instance/bench-scale-$(ACCOUNTS).sqlite3
BENCH_SCALE_SMALL_URL ?= sqlite:///$(CURDIR)/instance/bench-scale-$(shell expr $(ACCOUNTS) / 10).sqlite3
BENCH_SCALE_ARGS ?= --json instance/bench-scale-$(ACCOUNTS).json
bench-scale: translations
	mkdir -p instance
	$(PY) bench/scale_data.py --if-empty --accounts $(ACCOUNTS) --events $(EVENTS) \
	  --whale $(WHALE) --database-url "$(BENCH_SCALE_DATABASE_URL)"
	$(PY) bench/scale_data.py --if-empty --accounts $(shell expr $(ACCOUNTS) / 10) \
	  --events $(shell expr $(EVENTS) / 10) --whale $(shell expr $(WHALE) / 10) \
	  --database-url "$(BENCH_SCALE_SMALL_URL)"
	$(PY) bench/scale_pages.py --database-url "$(BENCH_SCALE_DATABASE_URL)" \
	  --compare-url "$(BENCH_SCALE_SMALL_URL)" $(BENCH_SCALE_ARGS)

lint: install-test
	$(VENV)/bin/ruff check .

## Supply chain: bandit against its reviewed baseline (a new medium or high finding fails),
## then pip-audit of the installed packages (skipped, saying so, without advisory data).
audit: install-test
	$(VENV)/bin/bandit -r erp modules -c pyproject.toml --baseline .bandit-baseline.json \
	  --severity-level medium --quiet
	$(PY) .ci/audit_dependencies.py $(VENV)/bin/pip-audit

## Re-extract the translatable strings into each catalog's .pot and merge them into the .po files.
extract-messages: install
	@for dir in $(CATALOGS); do \
	  [ -f $$dir/__init__.py ] || continue; \
	  mkdir -p $$dir/translations; \
	  $(PYBABEL) extract --no-location --sort-output -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 -o $$dir/translations/messages.pot $$dir || exit 1; \
	  if [ -f $$dir/translations/pt_BR/LC_MESSAGES/messages.po ]; then \
	    $(PYBABEL) update --no-fuzzy-matching -d $$dir/translations -i $$dir/translations/messages.pot -l pt_BR; \
	  else \
	    $(PYBABEL) init -d $$dir/translations -i $$dir/translations/messages.pot -l pt_BR; \
	  fi; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
