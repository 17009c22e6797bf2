# Observability (issue 6): docs/observability.md
#   make bench-metrics   in-process overhead of the metrics stage against a local Valkey
#   make test-metrics    the metrics/observability unit and integration tests only

.PHONY: bench-metrics test-metrics

bench-metrics: venv
	$(BIN)/python -m bench.metrics.run

test-metrics: venv
	$(BIN)/python -m pytest -q tests/unit/test_metrics_*.py tests/integration/test_observability_*.py
