# Workroom — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app workroom
HOST ?= 127.0.0.1
PORT ?= 5000
POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
CATALOGS := $(wildcard workroom/translations/*/LC_MESSAGES/*.po)

.PHONY: run test install install-test translations browser-deps lint extract-messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Compiled catalogs are built here, never committed.
translations: $(CATALOGS:.po=.mo)

%.mo: %.po | $(BIN)/python
	$(BIN)/pybabel compile -i $< -o $@

run: install translations
	$(FLASK) db upgrade
	$(FLASK) seed-demo-if-empty
	$(FLASK) serve --host $(HOST) --port $(PORT)

# Debian's chromium and a CJK font for the browser tests (installed when root).
browser-deps:
	@if [ "$$(id -u)" = 0 ] && { [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; }; then \
		echo "Installing chromium and fonts-noto-cjk"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

lint: install-test
	$(BIN)/ruff check .

# One pytest worker per core (pytest-xdist); each worker has its own databases.
PYTEST := $(BIN)/pytest -n auto
# The last pass runs with the clock about 18 months ahead: a test must pass on any date.
CLOCK_AHEAD_DAYS ?= 548

test: install-test translations browser-deps lint
	@if [ "$$CI" = "true" ] && [ ! -x /usr/bin/chromium ]; then echo "CI: /usr/bin/chromium is missing" >&2; exit 1; fi
	env -u WORKROOM_TEST_POSTGRES_URL $(PYTEST)
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(POSTGRES_URL)'.replace('postgresql+psycopg','postgresql'), connect_timeout=3).close()" 2>/dev/null; then \
		echo "PostgreSQL pass"; \
		WORKROOM_TEST_POSTGRES_URL='$(POSTGRES_URL)' $(PYTEST) -m "not browser"; \
	elif [ "$$CI" = "true" ]; then \
		echo "CI: PostgreSQL at $(POSTGRES_URL) does not answer" >&2; exit 1; \
	else \
		echo "PostgreSQL does not answer at $(POSTGRES_URL): skipping the PostgreSQL pass"; \
	fi
	@echo "Clock moved $(CLOCK_AHEAD_DAYS) days ahead (SQLite, no browser)"
	env -u WORKROOM_TEST_POSTGRES_URL $(PYTEST) -m "not browser" --clock-ahead=$(CLOCK_AHEAD_DAYS)

# Maintainers: refresh the catalogs after changing strings.
extract-messages: install-test
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 --project Workroom -o workroom/translations/messages.pot .
	$(BIN)/pybabel update -i workroom/translations/messages.pot -d workroom/translations -l zh_Hans_CN --no-fuzzy-matching

clean:
	rm -rf $(VENV)
