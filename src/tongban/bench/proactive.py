"""``tongban bench proactive``: the daily milestone sweep over N persons, and event-to-inbox latency.

1. **Sweep.** N persons (default 1,000,000) with birth dates spread over a hundred years are bulk-inserted
   once (a bench person's name starts with 基准主动), with the demo rules. Then ``tongban proactive sweep`` runs
   in a fresh process, twice for the same day (the second finds everything recorded: idempotent); the figures
   are the sweep's own seconds, the process's wall time and its peak RSS (``ru_maxrss`` of the child).
2. **Latency.** ``tongban worker`` is started as a subprocess on this database and queue; the benchmark
   registers ~50 births (``exchange.registry_services.birth_record_create``, as health staff would) one after
   another and, for each, measures the time from the commit to the newborn-bundle offer's Message existing
   in the mother's inbox. p50/p99/max are reported.

It writes persons, audit entries and messages that cannot be deleted (the audit log refuses it): run it on a
scratch database::

    TONGBAN_VAR_DIR=/tmp/tb-bench tongban migrate && TONGBAN_VAR_DIR=/tmp/tb-bench tongban bench proactive
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from tongban.core.audit import SYSTEM
from tongban.core.bench import benchmark

BENCH_NAME = "基准主动"
BENCH_DISTRICT = "310104"
SPAN_DAYS = 36_500  # birth dates over a hundred years
SWEEP_DAY = dt.date(2026, 3, 31)  # a month end: several birth dates reach 2 months
WAIT_SECONDS = 30
logger = logging.getLogger(__name__)


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{db['USER'] or ''}{password}@{db['HOST'] or ''}{port}/{db['NAME']}"


def _persons_ensure(count: int, stdout) -> float:
    """Bulk-insert the missing bench persons; returns the seconds it took."""
    from tongban.core.ids import make_resident_id
    from tongban.identity.models import AdminUnit, Person

    have = Person.objects.filter(name__startswith=BENCH_NAME).count()
    if have >= count:
        return 0.0
    district = AdminUnit.objects.get(code=BENCH_DISTRICT)
    start = dt.date(1926, 4, 1)
    started = time.perf_counter()
    batch = []
    for n in range(have, count):
        birth = start + dt.timedelta(days=n % SPAN_DAYS)
        sequence = n // SPAN_DAYS
        batch.append(
            Person(
                resident_id=make_resident_id(BENCH_DISTRICT, birth, sequence),
                name=f"{BENCH_NAME}{n}",
                sex="M" if sequence % 2 else "F",
                birth_date=birth,
                household_district=district,
            )
        )
        if len(batch) == 10_000:
            with transaction.atomic():
                Person.objects.bulk_create(batch, batch_size=2_000)
            batch = []
            if n % 100_000 == 99_999:
                stdout.write(f"  {n + 1:,} bench persons inserted\n")
    if batch:
        with transaction.atomic():
            Person.objects.bulk_create(batch, batch_size=2_000)
    return time.perf_counter() - started


def _setup() -> None:
    from tongban.demo.catalog import catalog_demo_ensure
    from tongban.demo.proactive import proactive_rules_demo_ensure
    from tongban.identity.services import departments_ensure
    from tongban.messaging.demo import message_templates_demo_ensure

    departments_ensure(actor=SYSTEM)
    catalog_demo_ensure(actor=SYSTEM)
    message_templates_demo_ensure(actor=SYSTEM)
    try:
        from tongban.demo.scenarios import demo_grants_ensure
        from tongban.exchange.services import data_resources_sync

        data_resources_sync(actor=SYSTEM)
        demo_grants_ensure(actor=SYSTEM)  # prefill lookups as in the demo
    except Exception as exc:  # without grants the prefill is refused (and audited): still measured
        logger.warning("no prefill grants for the bench: %s", exc)
    proactive_rules_demo_ensure(actor=SYSTEM)


def _sweep_process(day: dt.date, env: dict) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "tongban.cli", "proactive", "sweep", "--today", day.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if result.returncode:
        raise CommandError(f"the sweep failed:\n{result.stdout}\n{result.stderr}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    figures["wall_seconds"] = round(wall, 3)
    figures["peak_rss_mb"] = round(max(peak_kb, before) / 1024, 1)
    return figures


def _latency(events: int, stdout, env: dict) -> dict:
    from tongban.core.ids import make_resident_id
    from tongban.exchange.registry_services import birth_record_create
    from tongban.identity.models import AdminUnit, Person
    from tongban.messaging.models import Message

    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115 - kept for the report
    worker = subprocess.Popen(
        [sys.executable, "-m", "tongban.cli", "worker", "--max-delay", "0.5"],
        env={**env, "TONGBAN_QUEUE_IMMEDIATE": "0"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    district = AdminUnit.objects.get(code=BENCH_DISTRICT)
    stamp = int(time.time()) % 10_000
    latencies = []
    try:
        time.sleep(2)  # the worker starts and polls
        for n in range(events):
            mother = Person.objects.create(
                resident_id=make_resident_id(
                    BENCH_DISTRICT, dt.date(1993, 1, 1) + dt.timedelta(days=stamp), 500 + 2 * n
                ),
                name=f"{BENCH_NAME}母亲{stamp}-{n}",
                sex="F",
                birth_date=dt.date(1993, 1, 1) + dt.timedelta(days=stamp),
                household_district=district,
            )
            with transaction.atomic():
                birth_record_create(
                    actor=SYSTEM,
                    baby_name=f"宝宝{n}",
                    baby_sex="F",
                    birth_date=timezone.localdate(),
                    weight_g=3200,
                    hospital="上海市第一妇婴保健院",
                    mother=mother,
                )
            committed = time.perf_counter()
            deadline = committed + WAIT_SECONDS
            while not Message.objects.filter(person=mother, topic="newborn").exists():
                if worker.poll() is not None:
                    log.seek(0)
                    raise CommandError(f"the worker exited:\n{log.read()[-3000:]}")
                if time.perf_counter() > deadline:
                    raise CommandError(f"no offer within {WAIT_SECONDS} s")
                time.sleep(0.005)
            latencies.append(time.perf_counter() - committed)
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
        os.unlink(log.name)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
    return {
        "events": len(latencies),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(p99 * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "worker_max_delay_s": 0.5,
    }


@benchmark(
    "proactive",
    help="milestone sweep over N persons (seconds, peak RSS) and registry event → inbox offer latency",
    arguments=[
        (("--persons",), {"type": int, "default": 1_000_000, "help": "bench persons (default 1,000,000)"}),
        (("--events",), {"type": int, "default": 50, "help": "births for the latency run (default 50)"}),
        (("--no-latency",), {"action": "store_true", "help": "skip the worker latency run"}),
    ],
)
def bench_proactive(*, stdout, options):
    from tongban.identity.models import Person

    if Person.objects.exclude(name__startswith=BENCH_NAME).count() > 100:
        raise CommandError(
            "tongban bench proactive writes persons, audit entries and messages that cannot be deleted: run it "
            "on a scratch database, e.g. TONGBAN_VAR_DIR=/tmp/tb-bench tongban migrate, then run it there."
        )
    _setup()
    seeded = _persons_ensure(options["persons"], stdout)
    if seeded:
        stdout.write(f"proactive: inserted bench persons in {seeded:.1f} s\n")
    env = {**os.environ, "DATABASE_URL": _database_url()}
    first = _sweep_process(SWEEP_DAY, env)
    again = _sweep_process(SWEEP_DAY, env)
    persons = Person.objects.count()
    figures = {
        "persons": persons,
        "database": connection.vendor,
        "sweep_seconds": first["seconds"],
        "sweep_life_events": first["life_events"],
        "sweep_offers": first["offers"],
        "sweep_wall_seconds": first["wall_seconds"],
        "sweep_peak_rss_mb": first["peak_rss_mb"],
        "sweep_again_seconds": again["seconds"],
        "sweep_again_life_events": again["life_events"],
    }
    stdout.write(
        f"proactive: sweep of {persons:,} persons on {connection.vendor}: {first['seconds']} s "
        f"({first['life_events']} life events, {first['offers']} offers/notices; process {first['wall_seconds']} s, "
        f"peak RSS {first['peak_rss_mb']} MB); again the same day: {again['seconds']} s, "
        f"{again['life_events']} new life events.\n"
    )
    if not options.get("no_latency"):
        latency = _latency(options["events"], stdout, env)
        figures["latency"] = latency
        stdout.write(
            f"proactive: registry event → offer in the inbox with the worker running: p50 {latency['p50_ms']} ms, "
            f"p99 {latency['p99_ms']} ms, max {latency['max_ms']} ms over {latency['events']} births.\n"
        )
    return figures
