"""Benchmarks (``tongban bench NAME``): each module registers its own with ``tongban.core.bench.benchmark``."""
