"""The operator commands that wrap others: ``tongban demo`` and ``tongban bench``."""

import io
import json
import sys

import pytest
from django.core.management import call_command

from tongban.identity.models import Person


@pytest.mark.django_db
def test_demo_without_serving_migrates_and_seeds_an_empty_city_once():
    out = io.StringIO()
    call_command("demo", "--no-serve", "--people", "30", stdout=out)
    seeded = Person.objects.count()
    assert seeded >= 30
    assert "Database migrated." in out.getvalue()

    again = io.StringIO()
    call_command("demo", "--no-serve", "--people", "30", stdout=again)
    assert Person.objects.count() == seeded, "a second run keeps the city it seeded"


@pytest.mark.django_db
def test_bench_prints_one_json_object_with_machine_and_date_as_its_last_line(capsys):
    call_command("bench", "seed", "--people", "200", stdout=io.StringIO())
    last = capsys.readouterr().out.strip().splitlines()[-1]
    figures = json.loads(last)
    assert figures["bench"] == "seed"
    assert figures["persons"] == 200
    assert {"date", "machine", "cpus", "database"} <= figures.keys()


def test_bench_lists_its_benchmarks_in_help():
    from django.core.management import get_commands, load_command_class

    command = load_command_class(get_commands()["bench"], "bench")
    parser = command.create_parser("tongban", "bench")
    usage = parser.format_help()
    assert "audit" in usage and "seed" in usage
    assert sys.modules.get("tongban.core.benchmarks") is not None
