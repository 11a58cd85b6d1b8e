# Two commands set everything up on a fresh machine: `make synth` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
CHECKOV_VENV := .venv-checkov
# Node 22 and the pinned CDK CLI come from package.json; the venv's python is the one cdk.json runs.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
CDK := cdk --no-notices
APP ?=
STACK ?=
# One app (APP=storefront|all|ingest|edge|catalog|breaker) or the default app of cdk.json (the
# storefront); STACK picks stacks in it.
CDK_APP = $(if $(APP),--app "python3 -m apps.$(APP)")
CDK_STACKS = $(or $(STACK),--all)

.PHONY: setup setup-synth synth test test-fast lint docs bench dist diff deploy clean local cost cost-docs

# What synth needs (the venv, Node 22 and the CDK CLI; the JDK is the machine's), and what only the tests
# add (checkov's venv and Chromium for the browser test).
setup-synth: $(VENV)/.installed-synth node_modules/.installed
setup: setup-synth $(VENV)/.installed $(CHECKOV_VENV)/.installed /usr/bin/chromium

# The browser test drives Debian's Chromium (Playwright's own browser download cannot be used here).
/usr/bin/chromium:
	if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi

# uv installs into the venv (pip byte-compiles all 400 MB of aws-cdk-lib, which takes a minute); the
# system's CA store is used, as pip's is. The library and what it needs at synth come first; the tests'
# tools (moto, mypy, Playwright...) come with `[dev]`.
UV := $(VENV)/bin/uv
export UV_NATIVE_TLS := 1
$(UV):
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check 'uv>=0.9'

# Byte-compiled once here, in parallel: this machine sets PYTHONDONTWRITEBYTECODE, so a module left
# uncompiled is compiled again by every process that imports it (5 s of each synth for aws-cdk-lib's
# bindings alone).
SITE_PACKAGES = $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
COMPILE := $(PY) -m compileall -q -j 0

$(VENV)/.installed-synth: pyproject.toml $(UV)
	$(UV) pip install --quiet --python $(PY) -e .
	$(COMPILE) $(SITE_PACKAGES)/{aws_cdk,jsii,cdk_nag,constructs,typeguard} > /dev/null
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.installed-synth
	$(UV) pip install --quiet --python $(PY) -e '.[dev]'
	$(COMPILE) $(SITE_PACKAGES) > /dev/null || true
	touch $@

# checkov's pinned dependencies clash with the project's, so it has a venv of its own.
$(CHECKOV_VENV)/.installed: requirements-checkov.txt $(UV)
	test -x $(CHECKOV_VENV)/bin/python || python3 -m venv $(CHECKOV_VENV)
	$(UV) pip install --quiet --python $(CHECKOV_VENV)/bin/python -r requirements-checkov.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: setup-synth
	$(CDK) synth --quiet $(CDK_APP) --output cdk.out

# Test modules are spread over the cores (a module stays on one worker, so its shared fixtures run once).
test: setup
	$(PY) -m pytest -n auto --dist loadfile

# The inner loop: every test but the slow ones (a process, a JVM, a browser or the outage run).
# make test stays complete.
test-fast: setup
	$(PY) -m pytest -n auto --dist loadfile -m "not slow"

lint: $(VENV)/.installed
	$(PY) -m ruff check constructs_lib apps tests benchmarks docs/hooks.py
	$(PY) -m ruff format --check constructs_lib apps tests benchmarks docs/hooks.py
	$(PY) -m mypy

# The documentation site (MkDocs Material, API reference from the docstrings) into site/; strict, so a
# broken link or a public name without a docstring fails. make test builds it too (tests/test_docs.py).
docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --quiet

# The storefront on a local edge (moto, the real handlers, the template's behaviors) at a printed address.
local: setup-synth $(VENV)/.installed
	$(PY) -m tests.localedge

# What the storefront costs a month at the traffic in apps/storefront/usage.toml (see docs/cost.md).
COST := $(PY) -m constructs_lib.cost cdk.out --usage apps/storefront/usage.toml
cost: synth
	$(COST)

# Redraws docs/storefront-cost.svg and prints the table of docs/cost.md; the tests fail while either is stale.
cost-docs: synth
	$(COST) --levels 1e5,1e7,1e9 --chart docs/storefront-cost.svg

bench: setup-synth
	$(PY) benchmarks/run.py

# The sdist and wheel a team installs (offline: the venv's setuptools builds them).
dist: $(VENV)/.installed
	$(PY) -m build --no-isolation --outdir dist .

# Need AWS credentials; never run by the tests.
diff: setup-synth
	$(CDK) diff $(CDK_APP) $(CDK_STACKS)

deploy: setup-synth
	$(CDK) deploy $(CDK_APP) $(CDK_STACKS)

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache build dist .cache
