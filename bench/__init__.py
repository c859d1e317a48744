"""Benchmarks: scripts that print JSON and write bench/results/*.json. Run all with `make bench`."""
