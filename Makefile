# aircop — every set-up step lives here, so that a fresh clone needs only `make run` / `make test`.
#
# Python: Django 6 needs 3.12 or newer. We take, in order: $(PYTHON) if you set it, the newest
# python3.1x on PATH that runs, then pyenv's versions, then python3 if it is new enough.

SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
TLS_PORT ?= 8443
# The integration tier's services (the defaults match a developer machine and CI).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

define FIND_PYTHON
ok() { "$$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }; \
for c in python3.14 python3.13 python3.12; do \
  p=$$(command -v $$c 2>/dev/null) && ok "$$p" && { echo "$$p"; exit 0; }; \
done; \
root=$$(pyenv root 2>/dev/null || echo "$$HOME/.pyenv"); \
for p in $$(ls -d "$$root"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
  ok "$$p" && { echo "$$p"; exit 0; }; \
done; \
p=$$(command -v python3 2>/dev/null) && ok "$$p" && { echo "$$p"; exit 0; }; \
exit 1
endef

PYTHON ?= $(shell $(FIND_PYTHON))

.PHONY: help run run-tls test test-fast test-integration test-browser check-deploy lint format browser-deps \
	bench worker \
	clean gettext-tools compile-messages messages

help:
	@echo "make run      serve the app with demo data on http://$(HOST):$(PORT) (SQLite, no services)"
	@echo "make run-tls  the same over HTTPS and wss on https://localhost:$(TLS_PORT) (self-signed)"
	@echo "make test     every test tier (fast, integration on PostgreSQL+Redis, browser) and ruff"
	@echo "make check-deploy  Django's deployment checks on the production settings (part of test)"
	@echo "make bench    the websocket fan-out benchmark (PostgreSQL + Redis)"
	@echo "make worker   a Celery worker with beat: reminders, digests, hygiene, exports (needs REDIS_URL)"
	@echo "make messages refresh the gettext catalogues in locale/ after changing strings"

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "aircop needs Python 3.12 or newer and none was found." >&2; \
	  echo "Install one (e.g. 'pyenv install 3.13' or your system's python3.13 package)," >&2; \
	  echo "or point to it: make PYTHON=/path/to/python3.13 ..." >&2; exit 1; fi
	@echo "Creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version))"
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

# gettext's msgfmt compiles the catalogues in locale/ (the .mo files are built, not committed).
gettext-tools:
	@command -v msgfmt >/dev/null && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's gettext to compile the translations"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; \
	else \
	  echo "gettext is missing: install it (sudo apt-get install gettext) for the translations." >&2; \
	  exit 1; \
	fi

compile-messages: $(VENV)/.installed gettext-tools
	$(BIN)/python manage.py compilemessages --ignore .venv -v0

# After changing user-visible strings: refresh the catalogues, then translate the new entries.
messages: $(VENV)/.installed gettext-tools
	$(BIN)/python manage.py makemessages -a --ignore .venv --ignore 'static/vendor/*' \
	  --ignore 'tests/*' --ignore 'bench/*'

run: $(VENV)/.installed compile-messages
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "aircop is serving on http://$(HOST):$(PORT)/ (HTTP and websockets). Stop with Ctrl-C."
	$(BIN)/daphne -b $(HOST) -p $(PORT) aircop.asgi:application

# HTTPS and wss on this machine: a self-signed certificate made once into .local/tls/ (trust
# .local/tls/cert.pem in the client, or accept the browser's warning).
run-tls: $(VENV)/.installed compile-messages
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@endpoint=$$($(BIN)/python -m aircop.dev_tls --directory .local/tls --host $(HOST) --port $(TLS_PORT)) || exit 1; \
	echo; \
	echo "aircop is serving on https://localhost:$(TLS_PORT)/ (HTTPS and wss), certificate .local/tls/cert.pem. Stop with Ctrl-C."; \
	exec $(BIN)/daphne -e "$$endpoint" aircop.asgi:application

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Debian's Chromium for the browser tier (Playwright drives it; it downloads no browser).
browser-deps:
	@if [ -x /usr/bin/chromium ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "Chromium is missing: install it (sudo apt-get install chromium) to run the browser tier."; \
	fi

test: lint check-deploy test-fast test-integration test-browser

# Production settings (with made-up secrets) must pass `check --deploy` without a warning.
check-deploy: $(VENV)/.installed
	PYTHON=$(BIN)/python .ci/check-deploy

test-fast: $(VENV)/.installed compile-messages
	env -u DATABASE_URL -u REDIS_URL $(BIN)/pytest -m "not integration and not browser"

test-integration: $(VENV)/.installed compile-messages
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest -m integration

test-browser: $(VENV)/.installed compile-messages browser-deps
	env -u DATABASE_URL -u REDIS_URL $(BIN)/pytest -m browser

bench: $(VENV)/.installed
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/python bench/fanout.py

# The worker runs the tasks and, with --beat, the periodic scans of CELERY_BEAT_SCHEDULE. It
# needs Redis (REDIS_URL) as its broker; the database is DATABASE_URL, or the SQLite file of
# `make run` without it. Without REDIS_URL the web process runs tasks at once (eager) and
# nothing periodic runs.
worker: $(VENV)/.installed compile-messages
	@if [ -z "$$REDIS_URL" ]; then \
	  echo "make worker needs a Redis broker: REDIS_URL=redis://127.0.0.1:6379/0 make worker" >&2; \
	  echo "(set it for the web process too, e.g. REDIS_URL=... make run, so that both share it;" >&2; \
	  echo " without it tasks run inside the web process and the periodic ones never run)" >&2; \
	  exit 1; fi
	@mkdir -p .local
	$(BIN)/celery -A aircop worker --beat --schedule .local/celerybeat-schedule --loglevel INFO

clean:
	rm -rf $(VENV) .local .pytest_cache .ruff_cache
