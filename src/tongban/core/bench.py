"""Benchmark registry behind ``tongban bench NAME``.

A module of the ``tongban.bench`` package registers a benchmark (the registry stays in core so that it
depends on nothing; the benchmarks and the command live in ``tongban.bench``)::

    @benchmark("audit", help="audit entries appended and verified per second")
    def bench_audit(*, stdout, options):
        ...
        return {"append_per_s": 12345.0}

The command prints the benchmark's own human summary, then, as its last line, one JSON object
with the figures the function returned plus the machine and the date.
"""

from dataclasses import dataclass, field


@dataclass
class Benchmark:
    name: str
    func: object
    help: str = ""
    arguments: list = field(default_factory=list)


REGISTRY: dict[str, Benchmark] = {}


def benchmark(name, *, help="", arguments=()):
    """Register ``func`` as ``tongban bench NAME``; ``arguments`` are ``(flags, kwargs)`` for argparse."""

    def register(func):
        REGISTRY[name] = Benchmark(name=name, func=func, help=help, arguments=list(arguments))
        return func

    return register
