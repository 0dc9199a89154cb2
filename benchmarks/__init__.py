"""Benchmarks: standalone scripts, run as ``python -m benchmarks.NAME`` (not tests)."""
