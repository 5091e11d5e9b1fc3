# Concord: `make run` serves the app with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON := $(BIN)/python

.PHONY: run install install-dev migrate demo test lint format serve worker clean bench

$(BIN)/uv:
	@$(PYTHON) -c 'import sys; sys.exit("Concord needs Python 3.11+, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# --frozen: install exactly what uv.lock says; --inexact: keep uv itself in the venv.
install: $(BIN)/uv
	$(BIN)/uv sync --frozen --inexact --no-dev

install-dev: $(BIN)/uv
	$(BIN)/uv sync --frozen --inexact

var/secret_key:
	@mkdir -p var
	@$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret_key
	@chmod 600 var/secret_key
	@echo "Generated a local SECRET_KEY in var/secret_key (ignored by git)."

migrate: install var/secret_key
	SECRET_KEY="$$(cat var/secret_key)" $(BIN)/python manage.py migrate --noinput

demo: migrate
	SECRET_KEY="$$(cat var/secret_key)" $(BIN)/python manage.py demo

run: demo
	@echo "Concord on http://127.0.0.1:8000 (SQLite in var/, tasks in-process). Ctrl-C stops it."
	SECRET_KEY="$$(cat var/secret_key)" $(BIN)/python manage.py runserver 127.0.0.1:8000

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

worker: install
	DJANGO_SETTINGS_MODULE=config.settings.local $(BIN)/celery -A config worker --loglevel=INFO

clean:
	rm -rf $(VENV) var/staticfiles var/test-media
