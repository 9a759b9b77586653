# Every target bootstraps itself on a fresh machine (scripts/bootstrap.sh), then runs.
SHELL := /bin/bash
export DO_NOT_TRACK := 1
VENV := .venv/bin

.PHONY: bootstrap test demo ui up down status contracts

bootstrap:
	@bash scripts/bootstrap.sh

## The whole test suite; pytest starts (and afterwards stops) its own PostgreSQL and Redis.
test: bootstrap
	$(VENV)/python -m pytest

## The main job on local defaults (services are stopped again unless they were already up).
demo: bootstrap
	$(VENV)/copytrade demo

## The Dagster UI on http://127.0.0.1:3000 (services stay up afterwards: `make down`).
ui: bootstrap
	$(VENV)/copytrade ui

up: bootstrap
	$(VENV)/copytrade services up

down:
	$(VENV)/copytrade services down

status:
	$(VENV)/copytrade services status

## Rebuild the committed venue emulator artifacts from src/copytrade/devchain/contracts/*.sol.
contracts: bootstrap
	$(VENV)/python -m copytrade.devchain.solidity
