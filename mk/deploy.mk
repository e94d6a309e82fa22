# Deploying Murmur to AWS. Included from the root Makefile; also runs alone: make -f mk/deploy.mk TARGET
# Order on a fresh account: secrets -> deploy GUIDED=1 -> publish-site -> setup-bot (docs/deploy.md).
#
# aws-sam-cli and checkov pin conflicting dependency trees, so each gets its own venv, kept out of
# the project's .venv (and out of git: each venv carries a `*` .gitignore).
#
# The region: one rule for every step, `infra/stack_ops.py region` (AWS_REGION, else AWS_DEFAULT_REGION, else
# the AWS profile's; it must agree with the region samconfig.toml saved). Its answer is handed to every SAM
# command as --region, since SAM and boto3 on their own never read AWS_REGION.

BIN ?= .venv/bin
PY ?= python3.11
SAM_VERSION := 1.170.0
CHECKOV_VERSION := 3.3.30
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
OPS := $(SAM_VENV)/bin/python infra/stack_ops.py
TEMPLATE := infra/template.yaml
BUILD_DIR := .aws-sam/build
# The repository's samconfig.toml, by absolute path, for every SAM command. SAM looks for its config beside
# --template-file otherwise: `sam deploy --template-file .aws-sam/build/template.yaml` would read (and a
# guided deploy would save its answers to) .aws-sam/build/samconfig.toml, which the next `sam build` deletes.
SAM_CONFIG := $(CURDIR)/samconfig.toml
# pip for the layer's wheels (infra/layer/Makefile): the SAM CLI's own Python, which is 3.11+ with pip.
HOST_PYTHON ?= $(abspath $(SAM_VENV))/bin/python
STACK ?= murmur
BOT_TOKEN_PARAM ?= /murmur/bot-token
WEBHOOK_SECRET_PARAM ?= /murmur/webhook-secret
PSEUDONYM_SECRET_PARAM ?= /murmur/pseudonym-secret

.PHONY: secrets build build-check deploy publish-site setup-bot teardown cfn-lint checkov

$(SAM_VENV)/.installed:
	test -x $(SAM_VENV)/bin/python || $(PY) -m venv $(SAM_VENV)
	echo '*' > $(SAM_VENV)/.gitignore
	$(SAM_VENV)/bin/pip install -q --disable-pip-version-check aws-sam-cli==$(SAM_VERSION)
	touch $@

$(CHECKOV_VENV)/.installed:
	test -x $(CHECKOV_VENV)/bin/python || $(PY) -m venv $(CHECKOV_VENV)
	echo '*' > $(CHECKOV_VENV)/.gitignore
	$(CHECKOV_VENV)/bin/pip install -q --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	touch $@

# The project venv runs `python -m murmur.telegram.setup`; the root Makefile knows how to build it.
ifeq ($(origin STAMP),undefined)
STAMP := .venv/.installed
$(STAMP):
	$(MAKE) -f Makefile venv
endif

# The bot token comes from BOT_TOKEN in the environment and is never echoed. The webhook secret and
# the pseudonym secret are generated once and kept; ROTATE=1 replaces the webhook secret only (then run
# setup-bot again). The pseudonym secret is never rotated: blocks and nicknames are keyed by it.
secrets: $(SAM_VENV)/.installed
	@$(OPS) put-secrets --stack $(STACK) --token-param $(BOT_TOKEN_PARAM) --secret-param $(WEBHOOK_SECRET_PARAM) \
		--pseudonym-param $(PSEUDONYM_SECRET_PARAM)

# No Docker: infra/layer/Makefile fetches arm64 / CPython 3.13 wheels and byte-compiles them.
build: $(SAM_VENV)/.installed
	HOST_PYTHON="$(HOST_PYTHON)" $(SAM) build --config-file $(SAM_CONFIG) --template-file $(TEMPLATE) \
		--build-dir $(BUILD_DIR)

build-check: build
	$(SAM_VENV)/bin/python infra/check_build.py $(BUILD_DIR)

# First time: make deploy GUIDED=1 (asks the parameters once and saves them in samconfig.toml; every prompt
# and its answer are in docs/deploy.md). Later: make deploy.
deploy: build-check $(SAM_VENV)/.installed
	@region="$$($(OPS) region)" && echo "deploying stack $(STACK) to $$region" && \
	$(SAM) deploy --config-file $(SAM_CONFIG) --template-file $(BUILD_DIR)/template.yaml --stack-name $(STACK) \
		--region "$$region" $(if $(GUIDED),--guided)

publish-site: $(SAM_VENV)/.installed
	$(OPS) publish-site --stack $(STACK)

# Webhook, menu button, commands and description, from the stack's outputs and the SSM secrets; checks that
# the token is the stack's BotUsername's and that BotFather has the main Mini App (it says how, if not).
# DROP_PENDING=1 discards the updates Telegram queued while no webhook answered.
setup-bot: $(SAM_VENV)/.installed $(STAMP)
	@region="$$($(OPS) region)" && \
	site="$$($(OPS) output SiteUrl --stack $(STACK))" && \
	webhook="$$($(OPS) output WebhookUrl --stack $(STACK))" && \
	bot="$$($(OPS) parameter BotUsername --stack $(STACK))" && \
	MURMUR_STACK=$(STACK) MURMUR_SITE_URL="$$site" MURMUR_WEBHOOK_URL="$$webhook" MURMUR_BOT_USERNAME="$$bot" \
	AWS_REGION="$$region" TELEGRAM_BOT_TOKEN_PARAM=$(BOT_TOKEN_PARAM) TELEGRAM_WEBHOOK_SECRET_PARAM=$(WEBHOOK_SECRET_PARAM) \
		$(BIN)/python -m murmur.telegram.setup $(if $(DROP_PENDING),--drop-pending-updates)

teardown: $(SAM_VENV)/.installed
	$(OPS) empty-bucket --stack $(STACK)
	@region="$$($(OPS) region)" && \
	$(SAM) delete --config-file $(SAM_CONFIG) --stack-name $(STACK) --region "$$region"
	@echo "Kept on purpose: the Payments table (DeletionPolicy Retain + deletion protection; the ledger"
	@echo "must outlive the app) and the SSM parameters $(BOT_TOKEN_PARAM), $(WEBHOOK_SECRET_PARAM),"
	@echo "$(PSEUDONYM_SECRET_PARAM)."
	@echo "See docs/deploy.md, 'Teardown', to remove them by hand."

cfn-lint: $(SAM_VENV)/.installed
	$(SAM_VENV)/bin/cfn-lint $(TEMPLATE)

# Twice: the SAM template as written, and its offline translation (the roles, permissions, stage and
# schedule SAM generates). Every skip is in the template with its reason (Metadata: checkov: skip).
checkov: $(CHECKOV_VENV)/.installed $(SAM_VENV)/.installed
	mkdir -p .aws-sam
	$(SAM_VENV)/bin/python infra/translate.py $(TEMPLATE) > .aws-sam/translated.json
	$(CHECKOV_VENV)/bin/checkov --file $(TEMPLATE) --framework cloudformation --compact --quiet --skip-download
	$(CHECKOV_VENV)/bin/checkov --file .aws-sam/translated.json --framework cloudformation --compact --quiet \
		--skip-download
