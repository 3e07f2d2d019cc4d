# The course's commands. `make lab` to teach or learn, `make test` to check everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb)) $(sort $(wildcard notebooks/solutions/*.ipynb))
DEBIAN_DATA := /usr/share/datasets/fashion-mnist
LAB_PORT ?= 8888

.PHONY: setup data lab test unit browser browser-install figures lint html clean

setup: $(STAMP) data

# Reinstall only when the project's dependencies change.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Fashion-MNIST: Debian's package when we are root with apt-get, else a torchvision download.
data: $(STAMP)
	@$(PY) -m course_utils.data 2>/dev/null || { \
	  if [ ! -d $(DEBIAN_DATA) ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; \
	  fi; \
	  $(PY) -m course_utils.data --download; }

lab: setup
	$(PY) tools/start_lab.py --port $(LAB_PORT) --notebook notebooks/00_start_here.ipynb

# A browser for the browser tests, the way `data` gets the data: Debian's chromium when we are
# root with apt-get, else Playwright's own Chromium. Never fails: without a browser the browser
# tests skip with the command to run (and fail under CI).
browser-install: $(STAMP)
	@$(PY) tests/browser/browsers.py 2>/dev/null || { \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else $(PY) -m playwright install chromium; fi; \
	  $(PY) tests/browser/browsers.py || true; }

# Unit, panel and browser tests, then strict nbval on every notebook (conftest.py adds its options).
test: setup browser-install
	$(PY) -m pytest tests notebooks

unit: setup
	$(PY) -m pytest tests --ignore=tests/browser

browser: setup browser-install
	$(PY) -m pytest tests/browser -s

figures: setup
	$(PY) tools/regenerate.py $(NOTEBOOKS)

lint: setup
	$(VENV)/bin/ruff check .

html: setup
	$(PY) tools/build_html.py

clean:
	rm -rf site .cache .pytest_cache .ruff_cache
