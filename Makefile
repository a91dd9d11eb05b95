# klug – the README's commands. `make run` serves the demo city; `make test` is CI.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed
VENDOR_DIR := src/klug/web/vendor
VENDOR_STAMP := $(VENDOR_DIR)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck imports pytest bench lock messages clean help

help:
	@echo "make run    – install, migrate, seed the demo city, serve http://$(HOST):$(PORT)/"
	@echo "make test   – lint, type checks, import rules and the test suite (CI runs this)"
	@echo "make lint   – ruff, mypy and import-linter only"
	@echo "make bench  – benchmarks; one JSON line per figure"
	@echo "make lock   – re-pin Python dependencies (requirements/*.txt)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("klug needs Python >= 3.11" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the lock files change: second runs are fast.
$(RUN_STAMP): requirements/main.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/main.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(DEV_STAMP): requirements/dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@ $(RUN_STAMP)

# Front-end libraries from the npm registry (package-lock.json), never from a CDN.
$(VENDOR_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR_DIR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR_DIR)/htmx.min.js
	cp node_modules/uplot/dist/uPlot.iife.min.js $(VENDOR_DIR)/uPlot.iife.min.js
	cp node_modules/uplot/dist/uPlot.min.css $(VENDOR_DIR)/uPlot.min.css
	mkdir -p $(VENDOR_DIR)/leaflet/images
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css $(VENDOR_DIR)/leaflet/
	cp node_modules/leaflet/dist/images/*.png $(VENDOR_DIR)/leaflet/images/
	touch $@

run: $(RUN_STAMP) $(VENDOR_STAMP)
	$(BIN)/klug demo --host $(HOST) --port $(PORT)

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations
	$(BIN)/mypy
	$(BIN)/lint-imports

# The PostgreSQL pass runs beside the SQLite pass when it has a Redis and a Mosquitto of
# its own (KLUG_TEST_PG_REDIS_URL, KLUG_TEST_PG_MQTT_URL – .ci/run starts them): the two
# passes would otherwise hear each other's events and device messages. Without them the
# passes run one after the other.
pytest: $(DEV_STAMP) $(VENDOR_STAMP)
	@if [ -z "$$KLUG_TEST_POSTGRES_URL" ]; then \
		$(BIN)/pytest -q; \
	elif [ -z "$$KLUG_TEST_PG_REDIS_URL" ] || [ -z "$$KLUG_TEST_PG_MQTT_URL" ]; then \
		$(BIN)/pytest -q && \
		echo "== the whole suite again on PostgreSQL ($$KLUG_TEST_POSTGRES_URL)" && \
		KLUG_TEST_DATABASE=postgres $(BIN)/pytest -q -p no:cacheprovider; \
	else \
		mkdir -p var; \
		echo "== the whole suite on SQLite and, beside it, on PostgreSQL ($$KLUG_TEST_POSTGRES_URL)"; \
		KLUG_TEST_DATABASE=postgres KLUG_TEST_REDIS_URL="$$KLUG_TEST_PG_REDIS_URL" \
			KLUG_TEST_MQTT_URL="$$KLUG_TEST_PG_MQTT_URL" \
			$(BIN)/pytest -q -p no:cacheprovider > var/test-postgres.log 2>&1 & pg=$$!; \
		$(BIN)/pytest -q; sqlite=$$?; \
		wait $$pg; postgres=$$?; \
		echo "== PostgreSQL pass (var/test-postgres.log)"; cat var/test-postgres.log; \
		echo "== SQLite pass: exit $$sqlite; PostgreSQL pass: exit $$postgres"; \
		[ $$sqlite -eq 0 ] && [ $$postgres -eq 0 ]; \
	fi

test: lint pytest

bench: $(DEV_STAMP) $(VENDOR_STAMP)
	$(BIN)/python -m bench

lock: $(BIN)/python
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links -o requirements/main.txt pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --extra dev --no-emit-index-url --no-emit-find-links -o requirements/dev.txt pyproject.toml

messages: $(DEV_STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output -w 100 -o var/messages.pot .
	$(BIN)/pybabel update -i var/messages.pot -d src/klug/locale -D messages --no-fuzzy-matching --ignore-obsolete -w 100

clean:
	rm -rf $(VENV) node_modules $(VENDOR_DIR) .mypy_cache .ruff_cache .pytest_cache
