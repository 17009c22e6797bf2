"""Benchmarks (`make bench`): results go to bench/results/ as JSON and Markdown."""
