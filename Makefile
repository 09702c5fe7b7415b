# OpenBTAM: `make run` sets up and serves the demo; `make test` runs every check.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python
PIP := .venv/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/openbtam
DEV_ENV := var/dev.env

.PHONY: help venv assets dev-env migrate demo run lint typecheck test test-suites test-sqlite test-sqlite-only test-postgres test-postgres-only messages e2e e2e-only chromium clean

help:
	@echo "make run   - set up (venv, packages, assets, database, demo district) and serve on http://$(HOST):$(PORT)"
	@echo "make test  - lint, type check, tests on SQLite and PostgreSQL, browser tests"

.venv/.installed: requirements.lock pyproject.toml
	@test -d .venv || python3 -m venv .venv
	$(PIP) install --quiet --disable-pip-version-check -r requirements.lock
	@touch $@

venv: .venv/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

assets: node_modules/.installed

# Development secrets, made once per checkout and never committed.
$(DEV_ENV): | venv
	@mkdir -p var
	@echo "SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" > $@
	@echo "BTAM_RECEIPT_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(48))')" >> $@
	@echo "BTAM_ENCRYPTION_KEYS=$$($(PY) -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" >> $@
	@chmod 600 $@

dev-env: $(DEV_ENV)

RUN_ENV = set -a; source $(DEV_ENV); set +a; export DEBUG=1 DEMO_MODE=1;

migrate: venv assets dev-env
	@$(RUN_ENV) $(PY) manage.py migrate --no-input
	@$(RUN_ENV) $(PY) manage.py compilemessages --locale es --ignore=.venv --ignore=node_modules -v0

demo: migrate
	@$(RUN_ENV) $(PY) manage.py load_demo

run: demo
	@echo ""
	@echo "OpenBTAM is starting on http://$(HOST):$(PORT)/  (Ctrl-C stops the web server and the worker)"
	@$(RUN_ENV) trap 'kill 0' INT TERM EXIT; \
	  $(PY) manage.py db_worker --queue-name '*' --interval 1 & \
	  $(PY) manage.py run_scheduler & \
	  $(PY) manage.py runserver --noreload $(HOST):$(PORT)

lint: venv
	.venv/bin/ruff check .
	.venv/bin/ruff format --check btam e2e bench scripts manage.py

typecheck: venv
	DEBUG=1 .venv/bin/mypy btam

messages: venv
	DEBUG=1 $(PY) manage.py compilemessages --locale es --ignore=.venv --ignore=node_modules -v0

test-sqlite: venv assets messages chromium test-sqlite-only

test-sqlite-only:
	@echo "== Test suite on SQLite =="
	env -u DATABASE_URL .venv/bin/pytest -q

test-postgres: venv assets messages chromium test-postgres-only

test-postgres-only:
	@echo "== Test suite on PostgreSQL ($(PG_URL)) =="
	@if DATABASE_URL="$(PG_URL)" $(PY) scripts/db_reachable.py; then \
	  DATABASE_URL="$(PG_URL)" .venv/bin/pytest -q; \
	elif [ "$$CI" = "true" ]; then \
	  echo "FAILED: PostgreSQL is not reachable at $(PG_URL) (required under CI=true)."; exit 1; \
	else \
	  echo "SKIPPED: PostgreSQL is not reachable at $(PG_URL); the PostgreSQL run was skipped."; \
	fi

chromium:
	@bash scripts/ensure_chromium.sh

e2e: venv assets chromium e2e-only

e2e-only:
	@echo "== Browser tests (Playwright, system Chromium) =="
	env -u DATABASE_URL .venv/bin/pytest -q e2e

# Both suites at once, and the browser tests once the SQLite suite is done (scripts/run_suites.sh).
test-suites: venv assets messages chromium
	@bash scripts/run_suites.sh

test: lint typecheck test-suites

clean:
	rm -rf .venv node_modules staticfiles var/test-*
