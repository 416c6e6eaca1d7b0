# Message Log Service: make run | make test | make invoke FUNCTION=<LogicalId> EVENT=<file> | make bench
SHELL := /bin/bash
PYTHON_VERSION := 3.13
PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/$(PYTHON_VERSION)*/bin/python$(PYTHON_VERSION)) $(wildcard /usr/local/bin/python$(PYTHON_VERSION) /usr/bin/python$(PYTHON_VERSION)))
VENV := .venv
SAM_VENV := .venvs/sam
PORT ?= 3000
export PORT
export PYTHONPATH := $(CURDIR)/layers/msglog:$(CURDIR)
export PYTHONDONTWRITEBYTECODE := 1
export SAM_CLI_TELEMETRY := 0

.PHONY: run test template invoke replay bench clean

$(VENV)/.installed: requirements-dev.txt layers/msglog/requirements.txt
	@test -n "$(PYTHON)" || { echo "python$(PYTHON_VERSION) is needed (pyenv install $(PYTHON_VERSION))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
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

## test: every test — unit, API through the local stack, template checks, sam validate/build
test: $(VENV)/.installed $(SAM_VENV)/.installed
	$(VENV)/bin/python -m pytest -q tests
	$(MAKE) --no-print-directory template

## template: sam validate --lint, cfn-lint and sam build (no Docker)
template: $(SAM_VENV)/.installed
	$(SAM_VENV)/bin/sam validate --lint --template template.yaml
	$(SAM_VENV)/bin/cfn-lint template.yaml
	PATH="$(dir $(PYTHON)):$$PATH" $(SAM_VENV)/bin/sam build --template template.yaml --build-dir .aws-sam/build --cached --parallel
	@echo "template: validate, lint and build passed"

## invoke: run one function of template.yaml in-process against the running local stack
invoke: $(VENV)/.installed
	@test -n "$(FUNCTION)" || { echo "usage: make invoke FUNCTION=<LogicalId> EVENT=<file>"; exit 2; }
	$(VENV)/bin/python -m local.invoke "$(FUNCTION)" "$(EVENT)"

## replay: store the webhook requests parked while DynamoDB could not take them (local stack)
replay: $(VENV)/.installed
	$(VENV)/bin/python -m local.invoke ReplayFunction events/replay.json

## bench: the benchmarks and their figures
bench: $(VENV)/.installed
	$(VENV)/bin/python -m bench

clean:
	rm -rf $(VENV) .venvs .aws-sam .local .pytest_cache
