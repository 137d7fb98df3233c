# TradeDesk: every command a user needs. `make run` and `make test` set everything up first.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
# Production-style processes (make web/worker/beat) read DATABASE_URL and REDIS_URL from the env.
WEB_WORKERS ?= 2
PROMETHEUS_MULTIPROC_DIR ?= var/prometheus
# Each test pass runs in this many pytest processes (pytest-xdist; a module stays in one).
TEST_PROCESSES ?= 2

.PHONY: help install migrate demo demo-reset run strategy test lint format web worker browser-worker beat follow-watch healthcheck services-test bench-intake bench-orders bench-live bench-follow screenshots clean

help:
	@echo "make run    - set up and run the whole desk (embedded: SQLite, no external services)"
	@echo "make run STRATEGY=1 - the same, with the example strategy posting live signals (make strategy: on its own)"
	@echo "make demo-reset - new demo credentials (revokes the old strategy key); make run keeps them otherwise"
	@echo "make test   - set up and run lint and the tests"
	@echo "make web | worker | browser-worker | beat | follow-watch - production processes (need DATABASE_URL and REDIS_URL)"
	@echo "make healthcheck [CHECKS='worker beat'] [ALERT=1] - readiness checks; exit 1 on failure"

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

# New demo credentials: a new admin password, strategy key (the old one is revoked) and paper account.
demo-reset: migrate
	DEBUG=$${DEBUG:-true} $(MANAGE) setup_demo --reset

# `make run STRATEGY=1` also runs the example strategy (examples/strategy.py) with the demo key.
run: demo
	DEBUG=$${DEBUG:-true} $(MANAGE) rundesk --host $(HOST) --port $(PORT) $(if $(STRATEGY),--strategy)

# The example strategy against a desk that is already running (API_BASE_URL, API_KEY; default:
# this machine's desk and the demo strategy key).
strategy: install
	API_BASE_URL=$${API_BASE_URL:-http://$(HOST):$(PORT)} \
	  API_KEY=$${API_KEY:-$$(sed -n 's/^api_key=//p' $${VAR_DIR:-var}/demo-credentials.txt)} \
	  TRADEDESK_OUTBOX=$${TRADEDESK_OUTBOX:-$${VAR_DIR:-var}/strategy-outbox.jsonl} $(PY) -m examples.strategy

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Two passes: the embedded default (SQLite, in-memory broker and layer), then the suites
# that need PostgreSQL and Redis (skipped with a note when absent; with CI=true they fail).
test: lint
	DEBUG=true $(PY) -m pytest -m "not services" -n $(TEST_PROCESSES) --dist loadscope --durations=15
	$(MAKE) services-test

services-test: install
	DEBUG=true DATABASE_URL=$${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tradedesk} \
	  REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/15} CONN_MAX_AGE=0 \
	  $(PY) -m pytest -m services -n $(TEST_PROCESSES) --dist loadscope --durations=15

# Production shape: WEB_WORKERS uvicorn processes, each answering HTTP through Django's WSGI
# handler in WEB_THREADS threads and the /ws/ sockets through Channels, on one port (README,
# "Serving"; bench/README.md has the figures that chose it).
# The uvicorn workers share their request and socket counters for /metrics in this folder,
# emptied at every start. --no-proxy-headers: uvicorn would otherwise take the client's address
# from X-Forwarded-For on any request from 127.0.0.1; the desk reads that header itself, only
# with TRUSTED_PROXY_COUNT set (desk/client_ip.py), so a forged one cannot dodge the login lockout.
web: migrate
	rm -rf "$(PROMETHEUS_MULTIPROC_DIR)" && mkdir -p "$(PROMETHEUS_MULTIPROC_DIR)"
	PROMETHEUS_MULTIPROC_DIR=$(PROMETHEUS_MULTIPROC_DIR) $(VENV)/bin/uvicorn tradedesk.asgi:application \
	  --host $(HOST) --port $(PORT) --workers $(WEB_WORKERS) --no-access-log --no-proxy-headers

worker: install
	$(VENV)/bin/celery -A tradedesk worker --loglevel INFO --concurrency 2 --queues celery

# The one process that owns the browsers: a single worker, one task at a time.
browser-worker: install
	$(VENV)/bin/celery -A tradedesk worker --loglevel INFO --queues browser --pool solo --concurrency 1 \
	  --prefetch-multiplier 1 --hostname browser@%h

beat: install
	$(VENV)/bin/celery -A tradedesk beat --loglevel INFO

# Masters whose venue pushes their trades: their followers' sync is queued the moment they trade.
follow-watch: install
	$(VENV)/bin/python manage.py follow_watch

# Exit 1 when a readiness check fails; with ALERT=1 also send the alerts (for cron).
healthcheck: install
	$(MANAGE) healthcheck $(if $(ALERT),--alert) $(CHECKS)

# wrk drives the load: installed first when missing and apt-get can, else bench/loadgen.py (said so).
bench-intake: install
	@sh bench/ensure_wrk.sh
	$(PY) bench/signal_intake.py

bench-orders: install
	$(PY) bench/order_placement.py

# 1,000 followers of one master on the paper exchange API: master change -> all follower orders placed.
bench-follow: install
	$(PY) bench/follower_sync.py

# Signal POST -> row visible on the signals page in Chromium, p50/p95 over 200 signals.
bench-live: install
	$(PY) bench/live_updates.py

# The README's screenshots of the desk pages (docs/screenshots/), from a real run in Chromium.
screenshots: install
	$(PY) scripts/screenshots.py
	$(PY) scripts/screenshots_desk_day.py
	$(PY) scripts/screenshots_follow.py
	$(PY) scripts/portfolio_screenshots.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
