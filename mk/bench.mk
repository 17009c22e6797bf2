# Performance suite (issue 7), included by the top-level Makefile: docs/performance.md
#   make bench                the whole suite (top-level Makefile; bench/__main__.py)
#   make bench-quick          every bench of this suite in quick (smoke) mode, then the report
#   make bench-overhead       gateway vs upstream vs LiteLLM proxy at concurrency 1, 8, 32
#   make bench-report         bench/results/*.json -> bench/results/SUMMARY.md + PNG charts
#   make litellm-proxy-venv   the LiteLLM proxy in its own venv (.venv-litellm-proxy), hashed lock
#   make litellm-proxy-lock   recompile requirements/litellm-proxy.txt

BENCH_PREVIOUS_DEFAULT_GOAL := $(.DEFAULT_GOAL)

LITELLM_PROXY_VENV ?= .venv-litellm-proxy
BENCH_UV ?= $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.venv/bin/uv)
BENCH_PYTHON ?= $(or $(wildcard $(CURDIR)/.venv/bin/python),python3)

.PHONY: litellm-proxy-venv litellm-proxy-lock bench-quick bench-overhead bench-report

litellm-proxy-venv: $(LITELLM_PROXY_VENV)/.synced

$(LITELLM_PROXY_VENV)/.synced: requirements/litellm-proxy.txt | $(VENV)/.synced
	$(BENCH_UV) venv --quiet --allow-existing --python $(BENCH_PYTHON) $(LITELLM_PROXY_VENV)
	VIRTUAL_ENV=$(CURDIR)/$(LITELLM_PROXY_VENV) $(BENCH_UV) pip sync --quiet --require-hashes \
		requirements/litellm-proxy.txt
	@touch $@

litellm-proxy-lock:
	cd requirements && $(BENCH_UV) pip compile --quiet --generate-hashes --python-version 3.11 \
		litellm-proxy.in -o litellm-proxy.txt

# `make bench` (top-level) needs the proxy's venv for the side-by-side overhead run.
bench: litellm-proxy-venv

bench-quick: venv litellm-proxy-venv
	$(BIN)/python -m bench.cold_start --quick
	$(BIN)/python -m bench.overhead.run --quick
	$(BIN)/python -m bench.handler_time.run --quick
	$(BIN)/python -m bench.report

bench-overhead: venv litellm-proxy-venv
	$(BIN)/python -m bench.overhead.run

bench-report: venv
	$(BIN)/python -m bench.report

.DEFAULT_GOAL := $(BENCH_PREVIOUS_DEFAULT_GOAL)
