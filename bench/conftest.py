"""Benchmarks run only on request: ``python -m pytest bench --benchmark-enable``."""
