"""Compression benchmarks (issue 5): latency, achieved ratio, cold start, break-even."""
