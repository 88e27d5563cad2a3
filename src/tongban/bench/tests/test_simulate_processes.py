"""``tongban simulate --processes N``: the day's arrivals are partitioned by applicant, mother and district, so N
processes take the actions one process would take, and the figures they merge are those of one process."""

import datetime as dt
import json
import random
from collections import Counter
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from tongban.bench.simulate import DISTRICT_CODES, TEST_MIX, Simulation, cast_size, day_volume
from tongban.bench.tests.test_simulate import OPTIONS, RolledBack, _start
from tongban.cases.models import Case
from tongban.core.audit import audit_verify
from tongban.core.refcache import reference_caches_clear
from tongban.hotline.models import Ticket


def _simulation(index: int, processes: int) -> Simulation:
    """A simulation whose set-up is faked (a cast of 7 applicants, 3 mothers and 5 enterprises, three services, a
    small corpus): enough to draw arrivals."""
    simulation = Simulation(
        days=1,
        volume={"cases": 0, "tickets": 0, "births": 0},
        seed=11,
        start=dt.date(2026, 12, 8),
        mix=TEST_MIX,
    )
    simulation.processes, simulation.index = processes, index
    simulation.cast = SimpleNamespace(
        applicants=[("user", n) for n in range(7)],
        mothers=[("mother", n) for n in range(3)],
        enterprises=[("agent", n) for n in range(5)],
    )
    simulation._service_range = range(3)
    simulation._service_weights = [2, 6, 2]
    simulation._service_pools = ["applicants", "mothers", "enterprises"]
    simulation.corpus = [(f"问题{n}", "dept", "topic") for n in range(30)]
    simulation.spike_rows = simulation.corpus[:3]
    return simulation


def _hours(simulation: Simulation) -> list:
    start = dt.datetime(2026, 12, 8, 9, tzinfo=dt.UTC)
    return [
        arrival
        for hour in range(4)
        for arrival in simulation._arrivals(
            start + dt.timedelta(hours=hour), cases=40, tickets=30, spike=5 if hour == 0 else 0, births=2
        )
    ]


def test_every_process_draws_the_same_arrivals_and_each_person_and_district_belongs_to_one_process():
    first, second = _hours(_simulation(0, 2)), _hours(_simulation(1, 2))
    assert first == second  # the same draws in every process, whatever its index
    assert [a[0] for a in first] == sorted(a[0] for a in first)  # in time order within each hour
    owners: dict = {}
    for _stamp, owner, what, args in first:
        if what == "case_arrive":
            _service, pool, person, _token, _draw = args
            key = (pool, person)
        elif what == "birth_arrive":
            key = ("mothers", args[0])
        else:
            key = ("district", args[6])
        owners.setdefault(key, set()).add(owner % 2)
    assert all(len(processes) == 1 for processes in owners.values())
    assert {processes.pop() for processes in owners.values()} == {0, 1}  # both processes have a share
    kinds = Counter(what for _s, _o, what, _a in first)
    assert kinds == {"case_arrive": 160, "ticket_arrive": 125, "birth_arrive": 8}
    # A district's tickets, repeats and the spike included, go to the process of that district.
    assert all(o == DISTRICT_CODES.index(a[6]) for _s, o, w, a in first if w == "ticket_arrive")


def test_a_seed_draws_the_same_arrivals_again_and_another_seed_others():
    assert _hours(_simulation(0, 2)) == _hours(_simulation(0, 1))
    other = _simulation(0, 2)
    other.rng = random.Random(12)
    assert _hours(other) != _hours(_simulation(0, 2))


def test_the_cast_grows_with_the_volume():
    assert cast_size(day_volume("district")) == (300, 80)  # the district day keeps the cast it always had
    assert cast_size(day_volume("shanghai")) == (
        4_600,
        1_080,
    )  # 40 applications an applicant, 4 mothers a birth
    assert cast_size(day_volume("city")) == (1_150, 272)
    assert cast_size(day_volume("test")) == (300, 80)


@pytest.mark.django_db
def test_more_processes_than_one_are_refused_inside_a_transaction():
    with pytest.raises(CommandError, match="committed"):
        call_command("simulate", "--quiet", "--scale", "test", "--processes", "2")
    with pytest.raises(CommandError, match="--processes"):
        call_command("simulate", "--quiet", "--processes", "0")
    assert not Case.objects.exists()


def _simulate(capsys, processes: int) -> dict:
    capsys.readouterr()
    options = [*OPTIONS, "--start", _start().isoformat(), "--processes", str(processes)]
    options[options.index("--days") + 1] = "1"  # one day is enough here (test_simulate runs two)
    call_command("simulate", *options)
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_two_processes_take_the_actions_of_one_with_the_same_figures(
    demo_city_seeder, capsys, settings, tmp_path
):
    demo_city_seeder(people=60, organisations=1, seed=5)
    settings.TONGBAN_AUDIT_WITNESS_DIR = str(tmp_path / "witness-of-the-rolled-back-run")
    try:
        with transaction.atomic():
            one = _simulate(capsys, 1)
            raise RolledBack
    except RolledBack:
        pass
    reference_caches_clear()
    cache.clear()
    settings.TONGBAN_AUDIT_WITNESS_DIR = str(tmp_path / "witness")
    assert not Case.objects.filter(idempotency_key__startswith="sim-").exists()

    two = _simulate(capsys, 2)  # committed: the forked processes see the city
    assert (one["processes"], two["processes"]) == (1, 2)
    assert len(two["cpu_seconds_per_process"]) == 2 and all(cpu > 0 for cpu in two["cpu_seconds_per_process"])
    assert two["cpu_seconds"] == pytest.approx(sum(two["cpu_seconds_per_process"]), abs=0.02)
    # The same volume, the same actions, outcomes and worker jobs as one process: the partition changes no draw.
    for key in ("cases", "tickets", "births", "transitions", "actions", "indicators", "refusals"):
        assert two[key] == one[key], key
    # Every event delivered once (a claim's lease outlasts the processes' clock difference). The messages' channel
    # deliveries are queued when a transaction commits, which the rolled-back run's never do.
    assert one["worker"].pop("message_deliveries", 0) == 0 < two["worker"].pop("message_deliveries")
    assert two["worker"] == one["worker"]
    assert two["cases"] > 0 and two["tickets"] > 0
    if connection.vendor == "sqlite":  # the writers' queue, summed over the processes
        lock = two["writer_lock"]
        assert lock["transactions"] > two["transitions"] and 0 < lock["held_cpu_s"] <= two["cpu_seconds"]
    cases = Case.objects.filter(idempotency_key__startswith="sim-")
    assert cases.count() == two["cases"]
    assert Ticket.objects.filter(created_at__date__gte=_start()).count() >= two["tickets"]
    assert audit_verify(workers=1).ok
