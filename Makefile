# meshstack's interface. Everything installs itself: only Python >= 3.11 and make are assumed.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV   ?= .venv
PY     := $(VENV)/bin/python
STACK  ?= dev
OUT    ?= out/$(STACK)
PROJECT ?= .
export PYTHONPATH := $(CURDIR)

.PHONY: help preflight venv engine test lint typecheck unit render diff up down docs fuzz bench clean promotion-commit

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

preflight: ## Enough free disk for the test suite, or a clear error now (scripts/preflight.sh)
	@bash scripts/preflight.sh

venv: ## Create/refresh the virtualenv in .venv from requirements.txt
	@scripts/venv.sh

lint: venv ## ruff (lint + format check) and the import-layer contract (.importlinter)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

typecheck: venv ## mypy (strict for the model, render and stacks code)
	$(VENV)/bin/mypy

unit: venv ## pytest
	$(PY) -m pytest

engine: ## Build or reuse the engine, the local control plane and Istio's charts (cached outside the repo)
	bash scripts/bootstrap.sh
	bash scripts/istio_charts.sh --with-helm > /dev/null

test: preflight venv lint typecheck engine unit ## Install what is missing, then lint, types and the whole test suite (unit + e2e)

render: venv ## Offline render of a stack, charts' objects included: make render STACK=dev OUT=out/dev [PROJECT=dir]
	bash scripts/istio_charts.sh --with-helm > /dev/null
	$(VENV)/bin/meshstack render --root $(PROJECT) --stack $(STACK) --out $(OUT)

diff: venv ## Object-level diff of two renders or stacks: make diff A=out/dev B=out/prod [PROJECT=dir]
	bash scripts/istio_charts.sh --with-helm > /dev/null
	$(VENV)/bin/meshstack diff --root $(PROJECT) $(A) $(B)

up: venv ## The main job: build the engine, start the embedded cluster, real `pulumi up` of the dev stack
	scripts/up.sh

down: ## Stop the embedded cluster of `make up` and forget its stack state
	python3 scripts/cluster.py stop --dir .meshstack/cluster || true
	rm -rf .meshstack/backend .meshstack/project

promotion-commit: ## After `meshstack promote`: commit (and push) the target's stack file, STACK=prod, in $$MESHSTACK_PROJECT or here
	cd "$${MESHSTACK_PROJECT:-$(CURDIR)}" && git add Pulumi.$(STACK).yaml && \
	if git diff --cached --quiet; then echo "promotion-commit: Pulumi.$(STACK).yaml unchanged"; exit 0; fi && \
	git commit -q -m "promote to $(STACK): $$($(CURDIR)/$(VENV)/bin/meshstack promotion-summary Pulumi.$(STACK).yaml)" && \
	git log -1 --format='promotion-commit: %h %s' && \
	if [ -n "$$(git remote)" ]; then git push; fi

docs: venv ## Regenerate docs/config.md from the typed model and docs/bookinfo-dev.svg (meshstack graph)
	$(VENV)/bin/meshstack config-reference > docs/config.md
	$(VENV)/bin/meshstack graph --stack dev --out docs/bookinfo-dev.svg

bench: venv engine ## Benchmarks: N-service stacks vs a minimal program and kubectl -> docs/benchmarks.md (BENCH_SIZES=10,100,500,1000 for N=1000)
	$(PY) -m benchmarks

clean: ## Remove the virtualenv and render output
	rm -rf $(VENV) out .mypy_cache .ruff_cache .pytest_cache .hypothesis
