# Message Log Service: make run | make test | make invoke FUNCTION=<LogicalId> EVENT=<file> | make bench | make help
SHELL := /bin/bash
PYTHON_VERSION := 3.13
PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/$(PYTHON_VERSION)*/bin/python$(PYTHON_VERSION)) $(wildcard /usr/local/bin/python$(PYTHON_VERSION) /usr/bin/python$(PYTHON_VERSION)))
VENV := .venv
SAM_VENV := .venvs/sam
FUZZ_VENV := .venvs/schemathesis
CHECKOV_VENV := .venvs/checkov
BROWSER_MODULES := tests/browser/node_modules/.installed
PORT ?= 3000
export PORT
# `make test`'s pytest processes (pytest-xdist: one a core), each with its own in-process moto
PYTEST_WORKERS ?= auto
export PYTHONPATH := $(CURDIR)/layers/msglog:$(CURDIR)
export PYTHONDONTWRITEBYTECODE := 1
export SAM_CLI_TELEMETRY := 0
comma := ,

.PHONY: run test fuzz fuzz-long template openapi invoke replay onboard recover link-customers unlink-customers purge-dry-run health-check bench clean

$(VENV)/.installed: requirements-dev.txt layers/msglog/requirements.txt
	@test -n "$(PYTHON)" || { echo "python$(PYTHON_VERSION) is needed (pyenv install $(PYTHON_VERSION))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

$(FUZZ_VENV)/.installed: requirements-fuzz.txt
	@test -n "$(PYTHON)" || { echo "python$(PYTHON_VERSION) is needed (pyenv install $(PYTHON_VERSION))"; exit 1; }
	$(PYTHON) -m venv $(FUZZ_VENV)
	$(FUZZ_VENV)/bin/pip install --quiet --upgrade pip
	$(FUZZ_VENV)/bin/pip install --quiet -r requirements-fuzz.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	@test -n "$(PYTHON)" || { echo "python$(PYTHON_VERSION) is needed (pyenv install $(PYTHON_VERSION))"; exit 1; }
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	@test -n "$(PYTHON)" || { echo "python$(PYTHON_VERSION) is needed (pyenv install $(PYTHON_VERSION))"; exit 1; }
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet -r requirements-sam.txt
	touch $@

## run: the whole stack on this machine (API on 127.0.0.1:$(PORT), embedded moto, demo data)
run: $(VENV)/.installed
	$(VENV)/bin/python -m local.stack

## test: every test — lint first (fast failure), template checks (sam validate/build, deploy-check), schemathesis, then pytest on every core; ends with each step's time
test: $(VENV)/.installed $(SAM_VENV)/.installed $(FUZZ_VENV)/.installed $(CHECKOV_VENV)/.installed browser
	$(VENV)/bin/python -m local.steps "lint=$(MAKE) --no-print-directory lint" \
		"deploy-check=$(MAKE) --no-print-directory deploy-check" \
		"fuzz=$(MAKE) --no-print-directory fuzz" \
		"pytest=$(VENV)/bin/python -m pytest tests --ignore=tests/deploy -p tests.deploy.aws_calls -n $(PYTEST_WORKERS) --durations=15"

## browser: what the browser tests need: Debian's chromium, node and npm (apt, each only when missing) and axe-core (npm ci)
browser: $(BROWSER_MODULES)
	@test -x /usr/bin/chromium || $(call APT_INSTALL,chromium)

# apt-get install, updating the package lists first only when the install cannot find a package
APT_INSTALL = DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(1) \
	|| { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(1); }

# axe-core, pinned in tests/browser/package-lock.json; the tests read its axe.min.js from there
# (node also runs the console's date arithmetic in tests/unit/test_console_dates.py)
$(BROWSER_MODULES): tests/browser/package.json tests/browser/package-lock.json
	@{ command -v node >/dev/null && command -v npm >/dev/null; } || $(call APT_INSTALL,nodejs npm)
	cd tests/browser && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

.PHONY: browser

## lint: ruff (rules in pyproject.toml), mypy (layer, functions, local) and the complexity gate (xenon: no block above C)
lint: $(VENV)/.installed
	@status=0; \
	$(VENV)/bin/ruff check . || status=1; \
	$(VENV)/bin/mypy || status=1; \
	$(VENV)/bin/xenon --max-absolute C --max-modules C --max-average A layers/msglog/msglog functions local || status=1; \
	if [ $$status = 0 ]; then echo "lint: ruff, mypy and the complexity gate passed"; fi; exit $$status

.PHONY: lint

## fuzz: schemathesis against the local stack, from /v1/openapi.json (no 5xx, no answer outside the document)
fuzz: $(VENV)/.installed $(FUZZ_VENV)/.installed
	$(VENV)/bin/python -m local.fuzz $(FUZZ_VENV)/bin/st

## fuzz-long: the same, outside `make test`: 10,000+ requests, as several rights sets (FUZZ_EXAMPLES per operation, 100)
fuzz-long: $(VENV)/.installed $(FUZZ_VENV)/.installed
	$(VENV)/bin/python -m local.fuzz $(FUZZ_VENV)/bin/st --long

## template: sam validate --lint (cfn-lint's rules) and sam build (no Docker)
template: $(SAM_VENV)/.installed
	$(SAM_VENV)/bin/sam validate --lint --template template.yaml
	PATH="$(dir $(PYTHON)):$$PATH" $(SAM_VENV)/bin/sam build --template template.yaml --build-dir .aws-sam/build --cached --parallel
	@echo "template: validate, lint and build passed"

## deploy-check: builds (make template), then what fails only in AWS: checkov, and tests/deploy on the built template
deploy-check: $(VENV)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed
	$(MAKE) --no-print-directory template
	$(SAM_VENV)/bin/python tests/deploy/transform.py .aws-sam/build/template.yaml .aws-sam/build/cloudformation.json
	@# checkov leaves out resources whose condition is false with the defaults: the console's too, so a copy deploys it
	sed "/^  DeployConsole:/,/Default:/s/Default: 'false'/Default: 'true'/" .aws-sam/build/template.yaml > .aws-sam/build/template-console.yaml
	! cmp -s .aws-sam/build/template.yaml .aws-sam/build/template-console.yaml
	$(CHECKOV_VENV)/bin/checkov --file .aws-sam/build/template.yaml --file .aws-sam/build/template-console.yaml \
		--framework cloudformation --compact --quiet --skip-download
	$(VENV)/bin/python -m pytest tests/deploy -q

## console-deploy: the console to AWS (a stack deployed with DeployConsole=true; STACK=message-log-dev): config.json from its outputs, s3 sync, CloudFront invalidation
console-deploy:
	@command -v aws >/dev/null || { echo "console-deploy uses the AWS CLI (aws s3 sync, aws cloudfront create-invalidation)"; exit 2; }
	@set -euo pipefail; stack="$${STACK:-message-log-dev}"; \
	output() { aws cloudformation describe-stacks --stack-name "$$stack" --output text \
		--query "Stacks[0].Outputs[?OutputKey=='$$1'].OutputValue"; }; \
	bucket=$$(output ConsoleBucketName); distribution=$$(output ConsoleDistributionId); \
	if [ -z "$$bucket" ] || [ "$$bucket" = None ]; then echo "$$stack has no console: deploy it with DeployConsole=true"; exit 2; fi; \
	rm -rf .aws-sam/console && mkdir -p .aws-sam && cp -R console .aws-sam/console; \
	output ConsoleConfig > .aws-sam/console/config.json; \
	aws s3 sync .aws-sam/console "s3://$$bucket/" --delete --exclude "*.md" --cache-control no-cache; \
	aws cloudfront create-invalidation --distribution-id "$$distribution" --paths "/*" --output text --query Invalidation.Id; \
	echo "console: $$(output ConsoleUrl)"

.PHONY: console-deploy

## help: every target, one line each
help:
	@sed -n 's/^## \([^:]*\): \(.*\)/\1\t\2/p' $(firstword $(MAKEFILE_LIST)) | awk -F'\t' '{printf "  make %-34s %s\n", $$1, $$2}'

.PHONY: deploy-check help

## openapi: regenerate the OpenAPI document from the handlers (served at /v1/openapi.json)
openapi: $(VENV)/.installed
	$(VENV)/bin/python -m local.openapi

## invoke: run one function of template.yaml in-process against the running local stack
invoke: $(VENV)/.installed
	@test -n "$(FUNCTION)" || { echo "usage: make invoke FUNCTION=<LogicalId> EVENT=<file>"; exit 2; }
	$(VENV)/bin/python -m local.invoke "$(FUNCTION)" "$(EVENT)"

## replay: store the webhook requests parked while DynamoDB could not take them (local stack)
replay: $(VENV)/.installed
	$(VENV)/bin/python -m local.invoke ReplayFunction events/replay.json

## onboard: register a tenant (TENANT=…, optional TIME_ZONE=, ALERT_EMAIL=, RETENTION_MONTHS=, FEED_SHARDS=)
onboard: $(VENV)/.installed
	@test -n "$(TENANT)" || { echo "usage: make onboard TENANT=<id> [TIME_ZONE=…]"; exit 2; }
	$(VENV)/bin/python -m local.ops onboard-tenant tenant=$(TENANT) time_zone=$(TIME_ZONE) alert_email=$(ALERT_EMAIL) \
		retention_months=$(RETENTION_MONTHS) feed_shards=$(FEED_SHARDS)

## recover: fetch a provider's events of a window from its API and ingest them (TENANT= PROVIDER= FROM= TO=, ISO 8601;
## AGAIN=true refetches a finished window); run again to resume
recover: $(VENV)/.installed
	@test -n "$(TENANT)" -a -n "$(PROVIDER)" -a -n "$(FROM)" -a -n "$(TO)" || \
		{ echo "usage: make recover TENANT=<id> PROVIDER=mailgun|sendgrid|postmark|twilio FROM=<ISO> TO=<ISO>"; exit 2; }
	$(VENV)/bin/python -m local.ops recover tenant=$(TENANT) provider=$(PROVIDER) from=$(FROM) to=$(TO) again=$(AGAIN)

## link-customers / unlink-customers: an enterprise's roll-up (ENTERPRISE=<id> CUSTOMERS=a,b)
link-customers unlink-customers: $(VENV)/.installed
	@test -n "$(ENTERPRISE)" -a -n "$(CUSTOMERS)" || { echo "usage: make $@ ENTERPRISE=<id> CUSTOMERS=a,b"; exit 2; }
	$(VENV)/bin/python -m local.ops $@ enterprise=$(ENTERPRISE) customers=$(CUSTOMERS)

## purge-dry-run: what the retention purge would delete now (local stack; TENANT=… for one tenant)
purge-dry-run: $(VENV)/.installed
	$(VENV)/bin/python -m local.invoke PurgeFunction '{"dry_run": true$(if $(TENANT),$(comma) "tenant": "$(TENANT)")}'

## health-check: which tenant/provider webhooks stopped arriving (ingestion health, dry run: nothing published; TENANT=…)
health-check: $(VENV)/.installed
	$(VENV)/bin/python -m local.invoke IngestionHealthFunction '{"dry_run": true$(if $(TENANT),$(comma) "tenant": "$(TENANT)")}'

## bench: the benchmarks and their figures
bench: $(VENV)/.installed browser
	$(VENV)/bin/python -m bench

## clean: remove the virtualenvs, the build and the local stack's state
clean:
	rm -rf $(VENV) .venvs .aws-sam .local .pytest_cache tests/browser/node_modules screenshots
