# Switchboard developer tasks.
#
#   make run     install what is missing, migrate, load demo data, serve on
#                http://127.0.0.1:$(PORT)/ with web + Celery worker + beat
#   make site LOCATION=eu
#                a probe worker for one site: consumes only probes.<LOCATION>,
#                needs only CELERY_BROKER_URL (no database; see docs/probes.md)
#   make test    install what is missing, then run the test suite
#   make fuzz    fuzz the API against its OpenAPI schema with Schemathesis
#                (scripts/api_fuzz.py; FUZZ_ARGS, e.g. --max-examples 50)
#   make venv    create .venv with the runtime requirements
#   make clean   remove .venv, collected static files and caches; keeps the
#                database and demo data in var/ (make clean-all removes them)
#
# Variables: PYTHON (interpreter for the venv), PORT (default 8000),
# PYTEST_ARGS (extra pytest arguments), SWITCHBOARD_VAR_DIR (default var).
# Nothing here needs an activated venv: every tool runs from .venv/bin.

PYTHON ?= python3
PORT ?= 8000
PYTEST_ARGS ?=
# If set, `make test` also writes pytest's exit code to this file.
PYTEST_RC_FILE ?=

VAR_DIR := $(or $(SWITCHBOARD_VAR_DIR),var)
VENV := .venv
VENV_PY := $(VENV)/bin/python
PIP := $(VENV_PY) -m pip --disable-pip-version-check
# Stamps live inside the venv, so deleting .venv also forgets them.
RUNTIME_STAMP := $(VENV)/.installed-requirements
DEV_STAMP := $(VENV)/.installed-requirements-dev

.DEFAULT_GOAL := help
.PHONY: help run site test fuzz venv venv-dev system-deps clean clean-all

# A venv whose interpreter no longer runs (its base Python was removed or
# upgraded) is recreated rather than trusted.
ifneq ($(wildcard $(VENV_PY)),)
ifneq ($(shell $(VENV_PY) -c 'print("ok")' 2>/dev/null),ok)
$(info $(VENV) is broken (its python does not run); recreating it)
$(shell rm -rf $(VENV))
endif
endif

help:
	@sed -n '/^#/!q; s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

system-deps:
	@bash scripts/install-system-deps.sh

$(VENV_PY): | system-deps
	@echo "Creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): requirements.txt | $(VENV_PY)
	@echo "Installing requirements.txt into $(VENV)"
	$(PIP) install -q -r requirements.txt
	@touch $@

# requirements-dev.txt includes requirements.txt, so this satisfies both.
$(DEV_STAMP): requirements.txt requirements-dev.txt | $(VENV_PY)
	@echo "Installing requirements-dev.txt into $(VENV)"
	$(PIP) install -q -r requirements-dev.txt
	@touch $(RUNTIME_STAMP) $@

venv: system-deps $(RUNTIME_STAMP)

venv-dev: system-deps $(DEV_STAMP)

# honcho sets PORT itself (base port + 100 per entry), so it is told the base
# port with -p: the first Procfile entry, web, gets exactly $(PORT).
run: system-deps $(RUNTIME_STAMP)
	@mkdir -p "$(VAR_DIR)"
	$(VENV_PY) manage.py migrate --noinput
	$(VENV_PY) manage.py load_demo --if-empty
	$(VENV_PY) manage.py collectstatic --noinput
	@echo
	@if [ -f "$(VAR_DIR)/demo-credentials.txt" ]; then \
	    echo "Demo credentials ($(VAR_DIR)/demo-credentials.txt):"; \
	    cat "$(VAR_DIR)/demo-credentials.txt"; \
	else \
	    echo "No $(VAR_DIR)/demo-credentials.txt: load_demo writes it when it loads the demo data."; \
	fi
	@echo
	@echo "Switchboard is starting at http://127.0.0.1:$(PORT)/  (Ctrl-C stops everything)"
	@echo
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" exec $(VENV)/bin/honcho start -p $(PORT)

# A probe site: runs the probes of one location from broker messages and sends the results back
# through the broker; it never connects to the database (PROBE_SITE: see webapp/settings.py).
LOCATION ?=
SITE_CONCURRENCY ?= 2
site: system-deps $(RUNTIME_STAMP)
	@if [ -z "$(LOCATION)" ]; then echo "make site: name the location, e.g. make site LOCATION=eu" >&2; exit 2; fi
	@mkdir -p "$(VAR_DIR)"
	PROBE_SITE=$(LOCATION) exec $(VENV)/bin/celery -A webapp worker -l warning --concurrency $(SITE_CONCURRENCY) \
	    -Q probes.$(LOCATION) -n probes-$(LOCATION)@%h

# Exits 0 exactly when pytest does; pytest's own exit code is printed (and
# written to $(PYTEST_RC_FILE) when that is set).
test: system-deps $(DEV_STAMP)
	@rc=0; $(VENV_PY) -m pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ -n "$(PYTEST_RC_FILE)" ]; then echo $$rc > "$(PYTEST_RC_FILE)"; fi; \
	if [ $$rc -ne 0 ]; then echo "make test: pytest exited with code $$rc" >&2; fi; \
	exit $$rc

# A throw-away app (temporary SQLite and var dir) on a free loopback port, the demo and seeded objects,
# every Schemathesis check with a fixed seed; exits non-zero on any failure.
FUZZ_ARGS ?=
fuzz: system-deps $(DEV_STAMP)
	$(VENV_PY) scripts/api_fuzz.py $(FUZZ_ARGS)

clean:
	rm -rf $(VENV) staticfiles "$(VAR_DIR)/staticfiles" .pytest_cache
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

# Also removes var/: the local database, demo credentials, broker files.
clean-all: clean
	rm -rf "$(VAR_DIR)"
