"""``tongban bench NAME``: every benchmark of the package is listed, and the last line is one JSON object."""

import io
import json
import sys

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_bench_prints_one_json_object_with_machine_and_date_as_its_last_line(capsys):
    call_command("bench", "seed", "--people", "200", stdout=io.StringIO())
    last = capsys.readouterr().out.strip().splitlines()[-1]
    figures = json.loads(last)
    assert figures["bench"] == "seed"
    assert figures["persons"] == 200
    assert {"date", "machine", "cpus", "database"} <= figures.keys()


def test_bench_lists_every_benchmark_of_the_package_in_help():
    from django.core.management import get_commands, load_command_class

    command = load_command_class(get_commands()["bench"], "bench")
    parser = command.create_parser("tongban", "bench")
    usage = parser.format_help()
    for name in ("audit", "cases", "exchange", "hotline", "licences", "proactive", "seed"):
        assert name in usage
    assert sys.modules.get("tongban.bench.audit") is not None
