# The commands people and CI run. `make dev` and `make test` work on a fresh machine.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The botocore that an older python3.13 Lambda runtime bundles (the layer ships no SDK: the runtime's is used),
# kept beside the venv for tests/functional/test_runtime_botocore.py. Its deps (jmespath, dateutil, urllib3)
# come from the project's venv.
RUNTIME_BOTOCORE := 1.34.145
RUNTIME_BOTOCORE_DIR := .venv-runtime-botocore

.PHONY: dev test test-fast e2e-deps lint bench clean runtime-botocore

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

$(RUNTIME_BOTOCORE_DIR)/.installed-$(RUNTIME_BOTOCORE): | $(STAMP)
	rm -rf $(RUNTIME_BOTOCORE_DIR)
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --target $(RUNTIME_BOTOCORE_DIR) \
		botocore==$(RUNTIME_BOTOCORE)
	touch $@

runtime-botocore: $(RUNTIME_BOTOCORE_DIR)/.installed-$(RUNTIME_BOTOCORE)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

# Debian's chromium for the browser tests, and an emoji font for its screenshots (root on CI and here).
e2e-deps: node_modules/.installed
	@{ command -v /usr/bin/chromium && test -d /usr/share/fonts/truetype/noto; } >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; }

dev: $(STAMP) node_modules/.installed
	$(BIN)/python -m sandbox.dev

test: $(STAMP) e2e-deps runtime-botocore
	$(BIN)/python -m pytest

test-fast: $(STAMP) runtime-botocore
	$(BIN)/python -m pytest tests/unit tests/functional

lint: $(STAMP)
	$(BIN)/ruff check src functions sandbox tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) node_modules .pytest_cache $(RUNTIME_BOTOCORE_DIR)

# Deploying to AWS: sam build (no Docker), secrets, deploy, bot setup, site publishing, teardown.
include mk/deploy.mk

# The deploy rehearsal (tests/functional/test_deploy_rehearsal.py) runs `make deploy` with the pinned SAM CLI.
test test-fast: $(SAM_VENV)/.installed
