# jupyter-flows developer tasks.
#
#   make run     set up .venv if needed, then JupyterLab on notebooks/ with the Flows panel, the
#                embedded worker and an example deployment that runs every minute (examples/lab.py)
#   make quickstart  the script example instead: examples/quickstart.py (embedded SQLite, no server)
#   make test    set up, install PostgreSQL if missing (root + apt-get), then
#                ruff check, ruff format --check, mypy, jlpm lint:check, the extensions of a
#                `pip install .` wheel (.ci/check-wheel), pytest (the whole suite)
#   make lint    ruff check + ruff format --check + mypy
#   make format  ruff format + ruff check --fix
#   make bench   benchmarks/run.py --quick
#   make clean   caches and build output (keeps .venv); `make distclean` also removes .venv
#
# Set-up is idempotent: it reruns only when .venv is missing or pyproject.toml is newer than
# the stamp file in .venv. Variables: PYTHON (default python3, 3.10+), PYTEST_ARGS.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
PIP := $(VPY) -m pip --disable-pip-version-check
STAMP := $(VENV)/.jupyter-flows-installed
PYTEST_ARGS ?=

# A shell function: apt-get install, running `apt-get update` first only when the package
# lists do not know the package (and once more if the lists turn out stale).
APT_INSTALL := export DEBIAN_FRONTEND=noninteractive; \
  apt_install() { \
    apt-cache show "$$@" >/dev/null 2>&1 || apt-get update -q; \
    apt-get install -y -q --no-install-recommends "$$@" \
      || { apt-get update -q && apt-get install -y -q --no-install-recommends "$$@"; }; \
  }

LINT_STEPS := "$(VENV)/bin/ruff check ." "$(VENV)/bin/ruff format --check ." "$(VENV)/bin/mypy" \
  "(cd labextension && PATH=$(CURDIR)/$(VENV)/bin:$$PATH jlpm lint:check)" \
  "$(VENV)/bin/jupyter labextension list 2>&1 | grep 'jupyter-flows.*enabled.*OK' >/dev/null" \
  "$(VENV)/bin/jupyter server extension list 2>&1 | grep 'jupyter_flows.*OK' >/dev/null"
TEST_STEPS := $(LINT_STEPS) ".ci/check-wheel $(PYTHON)" "$(VPY) -m pytest $(PYTEST_ARGS)"

# Runs every step even after a failure (CI shows all problems at once); fails if any failed.
define RUN_STEPS
failed=()
for step in $(1); do
  echo "+ $$step"
  eval "$$step" || failed+=("$$step")
done
if (( $${#failed[@]} )); then
  printf 'FAILED: %s\n' "$${failed[@]}" >&2
  exit 1
fi
echo "all steps passed"
endef

.PHONY: help setup system-deps run quickstart test lint format bench clean distclean

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

# ---------------------------------------------------------------- set-up

setup: $(STAMP)

$(VPY):
	@if ! $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
	  echo "error: $(PYTHON) must be Python 3.10 or newer" >&2
	  exit 1
	fi
	echo "creating $(VENV) with $$($(PYTHON) -V)"
	if ! $(PYTHON) -m venv $(VENV); then
	  rm -rf $(VENV)   # a half-made venv (no pip) would look done to make
	  ver=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	    echo "venv support missing (Debian/Ubuntu): installing python$$ver-venv"
	    $(APT_INSTALL)
	    apt_install "python$$ver-venv" || apt_install python3-venv
	    $(PYTHON) -m venv $(VENV)
	  else
	    echo "error: '$(PYTHON) -m venv' failed; install python$$ver-venv and retry" >&2
	    exit 1
	  fi
	fi

$(STAMP): pyproject.toml labextension/package.json labextension/yarn.lock | $(VPY)
	@echo "installing jupyter-flows (editable, with test extras) into $(VENV)"
	$(PIP) install -q -U pip
	command -v node >/dev/null || { echo "error: Node.js is needed to build labextension/" >&2; exit 1; }
	# the build hook runs jlpm (from jupyterlab) in labextension/: build the side panel
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PIP) install -q -e '.[test]'
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/jupyter labextension develop --overwrite .
	touch $@

# System packages the tests need: a PostgreSQL server (initdb/pg_ctl), Chromium, and `ip`
# (iproute2) for the network namespaces of tests/e2e/test_multihost.py. The tests skip their
# cases when one is missing, except under CI=true, where they fail.
system-deps:
	@missing=()
	compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
	command -v chromium >/dev/null 2>&1 || missing+=(chromium)
	command -v ip >/dev/null 2>&1 || missing+=(iproute2)  # the multi-host test's namespaces
	if (( $${#missing[@]} == 0 )); then
	  exit 0
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	  echo "installing with apt-get: $${missing[*]}"
	  $(APT_INSTALL)
	  for package in "$${missing[@]}"; do
	    if [ "$$package" = chromium ]; then  # with its recommends (fonts)
	      apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }
	    else
	      apt_install "$$package"
	    fi
	  done
	else
	  echo "warning: missing $${missing[*]} and no root to apt-get them:" \
	       "PostgreSQL/browser/multi-host tests skip locally and FAIL under CI=true" >&2
	fi

# ---------------------------------------------------------------- tasks

run: setup
	$(VPY) examples/lab.py

quickstart: setup
	$(VPY) examples/quickstart.py

test: setup system-deps
	@$(call RUN_STEPS,$(TEST_STEPS))

lint: setup
	@$(call RUN_STEPS,$(LINT_STEPS))

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup
	$(VPY) benchmarks/run.py --quick

clean:
	rm -rf build dist ./*.egg-info .pytest_cache .mypy_cache .ruff_cache \
	  tests/artifacts benchmarks/results jupyter_flows/labextension
	find . \( -path ./.venv -o -path ./.git -o -name node_modules \) -prune \
	  -o -type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) labextension/node_modules
