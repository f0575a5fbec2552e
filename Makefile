# CrisisDesk: the two commands are `make run` (laptop demo) and `make test` (the whole suite).
# Both create .venv on a fresh machine and reinstall only when a requirements file changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
MANAGE := $(PY) manage.py
PORT ?= 8000
# Two cores on our machines; override with `make test PYTEST_WORKERS=auto`.
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
# The shared benchmark data lives beside the checkout, never inside it.
BENCH_DATA ?= ../shared/data

RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
STATIC_STAMP := staticfiles/.collected

.DEFAULT_GOAL := help
.PHONY: help venv dev run seed demo-reset migrate test lint bench clean

help:
	@echo "make run         start the laptop demo (SQLite, filesystem broker) on http://127.0.0.1:$(PORT)/"
	@echo "make test        run the whole test suite (pytest, $(PYTEST_WORKERS) workers)"
	@echo "make demo-reset  restart the Acme Air drill (resolves the open drill incident)"
	@echo "make migrate     apply migrations"
	@echo "make lint        ruff check and mypy"
	@echo "make bench       run the benchmarks under bench/ (needs ../shared/data and PostgreSQL)"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(RUNTIME_STAMP) $@

venv: $(RUNTIME_STAMP)
dev: $(DEV_STAMP)

# Collect again only when a static file changed (gunicorn serves them through whitenoise).
$(STATIC_STAMP): $(RUNTIME_STAMP) $(shell find static -type f 2>/dev/null)
	$(MANAGE) collectstatic --noinput --verbosity 0
	@touch $@

migrate: $(RUNTIME_STAMP)
	$(MANAGE) migrate --noinput

seed: migrate
	$(MANAGE) seed_demo

run: seed $(STATIC_STAMP)
	@echo ""
	@echo "  CrisisDesk is starting on http://127.0.0.1:$(PORT)/  (Ctrl-C stops web, worker and beat)"
	@echo "  Log in as responder / crisisdesk-responder; the Acme Air drill opens an incident within ~90 s."
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile -p $(PORT)

demo-reset: migrate
	$(MANAGE) seed_demo --reset-drill

test: $(DEV_STAMP)
	$(PY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(DEV_STAMP)
	@set -e; ran=0; for script in bench/*.py; do \
		[ -e "$$script" ] || continue; ran=1; \
		echo "== $$script"; \
		case "$$script" in \
			*/scoring_accuracy.py) $(PY) "$$script" $(BENCH_DATA) ;; \
			*/detection_replay.py) $(PY) "$$script" $(BENCH_DATA)/crisislex ;; \
			*) $(PY) "$$script" ;; \
		esac; \
	done; [ $$ran -eq 1 ] || echo "no benchmarks under bench/ yet"

clean:
	rm -rf $(VENV) staticfiles
