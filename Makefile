# famchain build. `make test` and `make demo` work from a clean clone: they install what they need first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(CURDIR)/node_modules/.bin
export PATH := $(BIN):$(CURDIR)/$(VENV)/bin:$(PATH)
export FOUNDRY_DISABLE_NIGHTLY_WARNING := 1
# py-solc-x and ape-solidity find the compiler launcher in this checkout's venv, not in a ~/.solcx shared
# with every other checkout on the machine.
export SOLCX_BINARY_PATH := $(CURDIR)/$(VENV)/solcx

NPM_STAMP := node_modules/.famchain-installed
PY_STAMP := $(VENV)/.famchain-installed

.PHONY: help install chromium build artifacts portal-vendor test test-forge test-python test-ape slither lint fmt gas-snapshot i18n demo bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

install: $(NPM_STAMP) $(PY_STAMP) chromium ## npm toolchain into node_modules, Python into .venv, Debian's chromium (idempotent, pinned)

# The portal's browser tests drive Debian's chromium through Python Playwright (no browser download); a CJK
# font lets the Chinese screens (and their screenshots) show their characters.
chromium:
	@command -v chromium >/dev/null && test -d /usr/share/fonts/truetype/wqy || { echo "==> install: Debian's chromium and a CJK font (apt-get)"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei; }

# Each step says what it does before it starts (the whole install takes minutes on a clean clone).
$(NPM_STAMP): package.json package-lock.json
	@echo "==> install 1/4: npm toolchain into node_modules/ (solc-js, forge, anvil, OpenZeppelin 5)"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(PY_STAMP): pyproject.toml constraints.txt
	@echo "==> install 2/4: Python virtual environment $(VENV)/ and pip"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-cache-dir --upgrade "pip==25.3"
	@echo "==> install 3/4: famchain and its pinned Python packages into $(VENV)/ (one line per package)"
	set -o pipefail; $(PY) -m pip install --disable-pip-version-check --no-cache-dir --progress-bar off -c constraints.txt -e ".[dev]" | { grep --line-buffered -E '^(Collecting|Successfully installed)' || true; }
	@echo "==> install 4/4: the solc launcher for py-solc-x and ape"
	$(PY) tools/solc_setup.py
	@touch $@
	@echo "==> installed: $(VENV)/bin/famchain (add $(CURDIR)/$(VENV)/bin to PATH)"

build: install ## compile the contracts with forge
	forge build

artifacts: install ## refresh the packaged ABI/bytecode in python/famchain/chain/artifacts
	$(PY) tools/artifacts.py --write

test: install test-forge slither lint test-python test-ape ## every check: forge, Slither, ruff, mypy, forge fmt, pytest, ape

test-forge: install
	forge test

slither: install
	slither . --config-file slither.config.json

lint: install
	ruff check python tests/python tests/ape
	ruff format --check python tests/python tests/ape
	mypy
	forge fmt --check contracts tests/forge

fmt: install ## format Python and Solidity
	ruff format python tests/python tests/ape
	ruff check --fix python tests/python tests/ape
	forge fmt contracts tests/forge

test-python: install
	$(PY) -m pytest -n 2 -q

test-ape: install
	ape compile
	ape test tests/ape -o addopts="" -q

portal-vendor: install ## rebuild the portal's vendored JS (python/famchain/portal/static/vendor) from the pinned npm packages
	node tools/portal-vendor/vendor.mjs

# The messages people read: _()/N_()/ngettext() calls and every CLI help string -> build/i18n/famchain.pot ->
# the zh_CN catalog (famchain.po, translated by hand) -> its compiled famchain.mo (committed, so a wheel has it;
# a test checks it matches the .po).
LOCALE := python/famchain/locale
i18n: install ## extract the messages, merge them into the zh_CN catalog, compile it
	$(PY) tools/i18n_extract.py build/i18n/famchain.pot
	$(VENV)/bin/pybabel update --domain famchain --input-file build/i18n/famchain.pot --output-dir $(LOCALE) --locale zh_CN --width 110 --no-fuzzy-matching --ignore-obsolete
	$(VENV)/bin/pybabel compile --domain famchain --directory $(LOCALE) --locale zh_CN --statistics

gas-snapshot: install ## rewrite .gas-snapshot
	forge snapshot

demo: install ## start a throwaway devnet + store and run the whole flow
	$(VENV)/bin/famchain demo

bench: install ## benchmarks (gas, throughput, scale)
	$(VENV)/bin/famchain bench

clean:
	rm -rf out cache $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
