# iotsite: `make run` serves a demo on http://127.0.0.1:8000; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PG_URL := postgres://postgres@127.0.0.1:5432/test
export DJANGO_SETTINGS_MODULE := iotsite.settings

.PHONY: install static run test test-fast test-sqlite test-postgres lint format services browser broker-plugin nginx cluster-deps serve clean

$(INSTALLED): requirements/base.txt requirements/dev.txt requirements/edge.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/dev.txt
	touch $@

install: $(INSTALLED)

# uPlot from the npm registry; npm ci copies it into the dashboard's static files.
UPLOT := dashboard/static/vendor/uplot/uPlot.iife.min.js
$(UPLOT): package.json package-lock.json
	npm ci --no-audit --no-fund

static: $(UPLOT)

run: install static
	DEBUG=true $(BIN)/python manage.py migrate --noinput
	DEBUG=true $(BIN)/python manage.py seed_demo
	@echo "Serving http://127.0.0.1:8000 — log in as demo / watch-the-gauges"
	@trap 'kill $$(jobs -p) 2>/dev/null' EXIT; \
	DEBUG=true $(BIN)/python manage.py simulate_device --device-name "Boiler pressure" --interval 2 & \
	DEBUG=true $(BIN)/python manage.py simulate_device --device-name "Weather station" --interval 5 \
		--signals temperature=sine,humidity=noisy_cosine & \
	DEBUG=true $(BIN)/python manage.py sendalerts & \
	DEBUG=true $(BIN)/uvicorn iotsite.asgi:application --host 127.0.0.1 --port 8000

# Production layout on this machine (docs/operations.md): DEBUG off, PostgreSQL and
# Redis, WSGI workers for HTTP and ASGI for /ws/ behind Debian's nginx running
# deploy/nginx.conf.
serve: install static services nginx
	$(BIN)/python deploy/serve.py

nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx)

# Start the machine's services when they are down (the commands of this machine kind).
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
	@for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && exit 0; sleep 1; done; echo "services did not come up"; exit 1

# Browser tests drive Debian's Chromium; MQTT tests use Debian's mosquitto clients, and
# the broker plugin below builds against Debian's mosquitto-dev and libssl-dev.
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	@command -v mosquitto_pub >/dev/null && test -x /usr/sbin/mosquitto && test -f /usr/include/mosquitto_broker.h && test -f /usr/include/mosquitto.h || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto mosquitto-clients mosquitto-dev libmosquitto-dev libssl-dev)
	$(MAKE) broker-plugin

# The broker's plugin for ThingsBoard's v1/devices/me topics (docs/device-communication.md).
# Install it where deploy/mosquitto/mosquitto.conf loads it from:
#   install -D -m 644 deploy/mosquitto/iotsite_me.so /usr/local/lib/mosquitto/iotsite_me.so
BROKER_PLUGIN := deploy/mosquitto/iotsite_me.so
$(BROKER_PLUGIN): deploy/mosquitto/iotsite_me.c
	$(CC) -O2 -Wall -Wextra -Werror -fPIC -shared -o $@ $< -lcrypto

broker-plugin: $(BROKER_PLUGIN)

# The replica, failover and cluster tests and bench/cluster.py: PostgreSQL nodes under
# pg_auto_failover, HAProxy in front of the app hosts (docs/scaling.md).
cluster-deps:
	@command -v pg_autoctl >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15-auto-failover pg-auto-failover-cli)
	@command -v haproxy >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy)

# ruff (format and lint) and mypy; DEBUG only so settings load without a SECRET_KEY.
lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	DEBUG=true $(BIN)/mypy .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install services browser nginx cluster-deps static
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

test-sqlite:
	$(BIN)/pytest -q

# The quick loop while coding: SQLite, no browser, no processes besides pytest's own
# (markers in pytest.ini, docs/testing.md); `make test` runs everything. Two xdist
# workers, each with its own in-memory database, cache and channel layer: hence no
# DATABASE_URL or REDIS_URL from the environment (a shared Redis cache would be cleared
# by one worker under the other's rate-limit tests).
test-fast: install
	env -u DATABASE_URL -u REDIS_URL $(BIN)/pytest -q -n 2 -m "not browser and not processes"

test-postgres:
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -q

clean:
	rm -rf $(VENV) static_build node_modules db.sqlite3 $(BROKER_PLUGIN)
