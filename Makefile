# TradeDesk: every command a user needs. `make run` and `make test` set everything up first.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
# Production-style processes (make web/worker/beat) read DATABASE_URL and REDIS_URL from the env.
WEB_WORKERS ?= 2

.PHONY: help install migrate demo run test lint format web worker browser-worker beat services-test bench-intake bench-orders clean

help:
	@echo "make run    - set up and run the whole desk (embedded: SQLite, no external services)"
	@echo "make test   - set up and run lint and the tests"
	@echo "make web | worker | browser-worker | beat - production processes (need DATABASE_URL and REDIS_URL)"

$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found); set PYTHON=..."; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	DEBUG=$${DEBUG:-true} $(MANAGE) migrate --noinput

demo: migrate
	DEBUG=$${DEBUG:-true} $(MANAGE) setup_demo

run: demo
	DEBUG=$${DEBUG:-true} $(MANAGE) rundesk --host $(HOST) --port $(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Two passes: the embedded default (SQLite, in-memory broker and layer), then the suites
# that need PostgreSQL and Redis (skipped with a note when absent; with CI=true they fail).
test: lint
	DEBUG=true $(PY) -m pytest -m "not services"
	$(MAKE) services-test

services-test: install
	DEBUG=true DATABASE_URL=$${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tradedesk} \
	  REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/15} CONN_MAX_AGE=0 \
	  $(PY) -m pytest -m services

web: migrate
	$(VENV)/bin/uvicorn tradedesk.asgi:application --host $(HOST) --port $(PORT) --workers $(WEB_WORKERS) --no-access-log

worker: install
	$(VENV)/bin/celery -A tradedesk worker --loglevel INFO --concurrency 2 --queues celery

# The one process that owns the browsers: a single worker, one task at a time.
browser-worker: install
	$(VENV)/bin/celery -A tradedesk worker --loglevel INFO --queues browser --pool solo --concurrency 1 \
	  --prefetch-multiplier 1 --hostname browser@%h

beat: install
	$(VENV)/bin/celery -A tradedesk beat --loglevel INFO

bench-intake: install
	$(PY) bench/signal_intake.py

bench-orders: install
	$(PY) bench/order_placement.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
