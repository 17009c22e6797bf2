# Serverless LLM gateway: the verbs people expect.
# `make run` and `make test` work on a fresh machine: they create .venv from the hashed locks.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 4000
export LITELLM_LOCAL_MODEL_COST_MAP := True
export LITELLM_OFFLINE_MODE := true
export HF_HUB_OFFLINE := 1
# The functions' packages and the shared layer, as Lambda lays them out (/var/task + /opt/python).
export PYTHONPATH := $(CURDIR)/layers/llmlingua:$(CURDIR)/functions/completion:$(CURDIR)/functions/keys:$(CURDIR)

.PHONY: venv run demo test test-unit lint format bench clean

venv: $(VENV)/.synced

$(VENV)/.synced: requirements/bootstrap.txt requirements/runtime.txt requirements/dev.txt
	@test -x $(BIN)/uv || { $(PYTHON) -m venv --clear $(VENV) && \
		$(BIN)/python -m pip install -q --require-hashes -r requirements/bootstrap.txt; }
	$(BIN)/uv pip sync -q --python $(BIN)/python --require-hashes \
		requirements/bootstrap.txt requirements/runtime.txt requirements/dev.txt
	@# The packages as Lambda lays them out, for `python -m devstack ...` run by hand too.
	@printf '%s\n' $(subst :, ,$(PYTHONPATH)) > "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/gateway-dev.pth"
	@touch $@

run: venv ## the gateway on http://127.0.0.1:$(PORT) with embedded Valkey + DynamoDB
	$(BIN)/python -m devstack run --port $(PORT)

demo: venv ## the same stack with every provider pointed at the bundled fake servers
	$(BIN)/python -m devstack run --port $(PORT) --demo

test: venv ## the whole suite: unit, contract and integration (starts its own servers)
	$(BIN)/python -m pytest -n 2 --dist loadfile

test-unit: venv
	$(BIN)/python -m pytest tests/unit tests/contract

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/llmlingua/gateway functions devstack

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache

include mk/infra.mk
include mk/compression.mk
include mk/cache.mk
include mk/observability.mk
include mk/bench.mk
