# Prompt compression (issue 5), included by the top-level Makefile:
#   make ml-venv        .venv-ml: torch (CPU) + llmlingua + transformers, with pip (not uv)
#   make test-model     tiny random BERT token classifier for tests (PLUMBING ONLY, seconds)
#   make bench-model    bert-base-sized random model for latency benches (PLUMBING ONLY)
#   make model          fetch microsoft/llmlingua-2-bert-base-multilingual-cased-meetingbank
#                       (needs the internet: a deployment build step; fails clearly offline)
#   make engine         the compression engine server from .venv-ml on 127.0.0.1:$(ENGINE_PORT)
#   make bench-compression   latency/ratio per prompt size + break-even -> bench/compression/results
#   make ml-image       docker build of functions/ml (skipped, with the reason, without a Docker engine)
#
# Why a second venv: torch is ~750 MB and the CPU wheel of torch 2.13.0 lies in /opt/wheels on
# these machines, where pip finds it and uv does not (uv would fetch PyPI's multi-GB CUDA build).
# requirements/ml.txt is hashed and pins torch==2.13.0+cpu; elsewhere pip finds that wheel on
# PyTorch's CPU index (ML_PIP_ARGS="--extra-index-url https://download.pytorch.org/whl/cpu").

ML_VENV ?= .venv-ml
ML_PY := $(ML_VENV)/bin/python
ML_PYTHON ?= $(or $(shell command -v python3.11 2>/dev/null),$(PYTHON))
ML_PIP_ARGS ?= $(if $(wildcard /opt/wheels/torch-*.whl),--find-links /opt/wheels,)
MODELS_DIR ?= build/models
TEST_MODEL := $(MODELS_DIR)/test-tiny-random-bert-base-multilingual-cased
BENCH_MODEL := $(MODELS_DIR)/bench-random-bert-base-multilingual-cased
REAL_MODEL_ID := microsoft/llmlingua-2-bert-base-multilingual-cased-meetingbank
REAL_MODEL := $(MODELS_DIR)/llmlingua-2-bert-base-multilingual-cased-meetingbank
ENGINE_PORT ?= 4100
export LLMLINGUA_TEST_MODEL_DIR := $(CURDIR)/$(TEST_MODEL)
export COMPRESSION_ML_PYTHON := $(CURDIR)/$(ML_PY)
ML_OFFLINE_ENV := HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONPATH=$(CURDIR)/layers/llmlingua:$(CURDIR)/functions/ml:$(CURDIR)

# A Docker engine (not just the client) answers `docker info`.
DOCKER_ENGINE := $(shell docker info >/dev/null 2>&1 && echo yes)
ML_IMAGE ?= llm-gateway-ml:local
# Without a Docker engine `sam build` cannot build the ML function's image: build the zip
# artifacts and leave the image to a machine with Docker (see `make ml-image`).
SAM_BUILD_EXCLUDE := $(if $(DOCKER_ENGINE),,--exclude MlFunction)

.PHONY: ml-venv test-model bench-model model engine bench-compression ml-image ml-build-note

ml-venv: $(ML_VENV)/.synced

$(ML_VENV)/.synced: requirements/ml.txt
	@test -x $(ML_VENV)/bin/pip || $(ML_PYTHON) -m venv --clear $(ML_VENV)
	$(ML_VENV)/bin/python -m pip install -q --disable-pip-version-check --no-deps \
		--require-hashes $(ML_PIP_ARGS) -r requirements/ml.txt
	@touch $@

test-model: $(TEST_MODEL)/config.json

$(TEST_MODEL)/config.json: scripts/build_test_compression_model.py | $(ML_VENV)/.synced
	$(ML_OFFLINE_ENV) $(ML_PY) scripts/build_test_compression_model.py --size tiny --out $(TEST_MODEL)

bench-model: $(BENCH_MODEL)/config.json

$(BENCH_MODEL)/config.json: scripts/build_test_compression_model.py | $(ML_VENV)/.synced
	$(ML_OFFLINE_ENV) $(ML_PY) scripts/build_test_compression_model.py --size base --out $(BENCH_MODEL)

model: $(ML_VENV)/.synced
	PYTHONPATH=$(CURDIR) $(ML_PY) scripts/fetch_compression_model.py \
		--model $(REAL_MODEL_ID) --out $(REAL_MODEL)

engine: test-model
	$(ML_OFFLINE_ENV) LLMLINGUA_MODEL_DIR=$${LLMLINGUA_MODEL_DIR:-$(CURDIR)/$(TEST_MODEL)} \
		$(ML_PY) -m ml_api --port $(ENGINE_PORT)

bench-compression: bench-model
	$(ML_OFFLINE_ENV) $(ML_PY) -m bench.compression --model $(BENCH_MODEL) \
		--out bench/compression/results

ml-image: embedding-model
ifeq ($(DOCKER_ENGINE),yes)
	@test -f $(REAL_MODEL)/config.json || { echo "run 'make model' first (the image bakes the real model in)" >&2; exit 1; }
	docker build --platform linux/arm64 -f functions/ml/Dockerfile -t $(ML_IMAGE) .
else
	@echo "ml-image: skipped: no Docker engine answers 'docker info' here. The ML function is a"
	@echo "  container image (torch does not fit a 250 MB zip); build it where Docker runs:"
	@echo "  'make model ml-image' or 'sam build' (which builds MlFunction from functions/ml/Dockerfile)."
endif

ml-build-note:
ifneq ($(DOCKER_ENGINE),yes)
	@echo "build: no Docker engine: MlFunction (container image) excluded from 'sam build'; 'make ml-image' explains." >&2
endif

# `make test` (CI) needs the engine's venv and the tiny test model for the compression
# integration tests: ~40-55 s for .venv-ml with a warm pip cache (torch's CPU wheel is local),
# ~4 s for the model. Extra prerequisites of the top-level `test` target (no recipe here).
test: ml-venv test-model
