import json
import os
import platform
import sys
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import autodiscover_modules

from tongban.core.bench import REGISTRY


def machine_summary():
    return {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(terse=True),
    }


def _import_bench_package():
    """Every module of the ``tongban.bench`` package (benchmarks that are no app's), by name at run time."""
    import importlib
    import pkgutil

    try:
        package = importlib.import_module("tongban.bench")
    except ImportError:
        return
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"tongban.bench.{module.name}")


class Command(BaseCommand):
    help = "Run a benchmark and print its figures; the last line is one JSON object."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # <app>/bench.py registers an app's benchmarks; core's bench.py is the registry itself, so
        # core keeps its own in core/benchmarks.py (any app may use that name too).
        autodiscover_modules("bench", "benchmarks")
        _import_bench_package()
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="benchmark", metavar="NAME")
        subparsers.required = True
        for bench in sorted(REGISTRY.values(), key=lambda b: b.name):
            sub = subparsers.add_parser(bench.name, help=bench.help)
            for flags, kwargs in bench.arguments:
                sub.add_argument(*flags, **kwargs)

    def handle(self, *args, **options):
        name = options["benchmark"]
        if name not in REGISTRY:
            raise CommandError(f"unknown benchmark {name!r}; known: {', '.join(sorted(REGISTRY))}")
        from django.db import connection

        figures = REGISTRY[name].func(stdout=self.stdout, options=options)
        result = {
            "bench": name,
            **figures,
            "database": connection.vendor,
            "date": datetime.now().astimezone().isoformat(timespec="seconds"),
            **machine_summary(),
        }
        self.stdout.flush()
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
