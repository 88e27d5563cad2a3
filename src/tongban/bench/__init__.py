"""Benchmarks behind ``tongban bench NAME``: one module a benchmark, none in the domain apps.

The package sits at the top of the layers (docs/architecture.md): a benchmark may drive any app and seed the
demo city, and no app imports it. To add one, put a module here that registers its function with
``tongban.core.bench.benchmark`` (also importable as ``tongban.bench.benchmark``)::

    from tongban.bench import benchmark

    @benchmark("lists", help="...", arguments=[(("--users",), {"type": int, "default": 16})])
    def bench_lists(*, stdout, options):
        ...
        return {"list_p50_ms": 12.0}

``tongban bench`` imports every module of this package (``benchmarks_load``), so a new module needs no other
edit. The command prints the benchmark's own summary, then, as its last line, one JSON object with the figures
it returned plus the machine, database and date.
"""

import pkgutil
from importlib import import_module

from tongban.core.bench import REGISTRY, Benchmark, benchmark

__all__ = ["REGISTRY", "Benchmark", "benchmark", "benchmarks_load"]

_SKIP = {"apps", "management", "tests"}


def benchmarks_load() -> dict[str, Benchmark]:
    """Import every benchmark module of this package (each registers itself) and return the registry."""
    for module in pkgutil.iter_modules(__path__):
        if module.name not in _SKIP and not module.name.startswith("_"):
            import_module(f"{__name__}.{module.name}")
    return REGISTRY
