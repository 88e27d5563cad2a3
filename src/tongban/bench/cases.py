"""``tongban bench cases``: newborn bundles submitted and driven to completion per second.

Each case goes through the same service calls that the pages and the API use: ``case_submit`` as the parent
(one material uploaded, accepted at once), then ``case_task_complete`` by a handler of each department in turn
(health, the public-security branch of the family's district, then medical insurance and hrss in parallel).
W worker processes (default: one per core) each drive their share of the N cases.

It writes real cases, tasks and audit entries, which cannot be deleted afterwards (the audit log refuses it), so
run it on a scratch database::

    TONGBAN_VAR_DIR=/tmp/tb-bench tongban migrate && TONGBAN_VAR_DIR=/tmp/tb-bench tongban bench cases --cases 2000
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import multiprocessing
import os
import resource
import time
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import CommandError
from django.db import connection, connections

from tongban.core.audit import SYSTEM
from tongban.core.bench import benchmark
from tongban.core.db import fast
from tongban.identity.selectors import actor_for

BENCH_PEOPLE = 64
BENCH_CITY = 3000  # persons in the bench's demo city


def _rss_kb() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted ``values`` (0 for none)."""
    if not values:
        return 0.0
    return values[min(len(values) - 1, max(0, math.ceil(share * len(values)) - 1))]


def _setup() -> dict:
    """A small demo city (registries, grants, e-licence types, processes), a handler for every lane (each district's
    public-security branch included) and a pool of mothers with households and accounts; idempotent."""
    import datetime as dt

    from tongban.catalog.models import Bundle
    from tongban.demo.services import demo_city_seed
    from tongban.exchange.models import HouseholdMembership
    from tongban.identity import services as identity
    from tongban.identity.models import AdminUnit, Person, User
    from tongban.identity.reference import branch_code
    from tongban.identity.selectors import department_get

    if not User.objects.filter(username="bench.health").exists():
        demo_city_seed(people=BENCH_CITY, organisations=20)
    lanes = [("health", "health"), ("medical-insurance", "medical-insurance"), ("hrss", "hrss")]
    lanes += [
        (f"public-security-{d}", branch_code("public-security", d))
        for d in AdminUnit.objects.filter(level=AdminUnit.Level.DISTRICT).values_list("code", flat=True)
    ]
    handlers = {}
    for key, code in lanes:
        username = f"bench.{key}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = identity.user_create(actor=SYSTEM, username=username, password=None, check_password=False)
            identity.staff_create(
                actor=SYSTEM, user=user, department=department_get(code), roles=["dept_handler"]
            )
        handlers[key] = user.pk
    # Mothers: women of 22-42 living in a household of the city, each given an account to apply with.
    today = dt.date(2026, 1, 1)
    women = (
        Person.objects.filter(
            sex="F",
            birth_date__gt=today.replace(year=today.year - 42),
            birth_date__lt=today.replace(year=today.year - 22),
            pk__in=HouseholdMembership.objects.values("person_id"),
        )
        .order_by("resident_id")
        .select_related("user")[:BENCH_PEOPLE]
    )
    parents = []
    for n, person in enumerate(women):
        user = person.user
        if user is None:
            user = identity.user_create(
                actor=SYSTEM, username=f"bench.parent.{n}", password=None, check_password=False
            )
            identity.person_update(actor=SYSTEM, person=person, user=user)
        parents.append(user.pk)
    if not parents:
        raise CommandError("the bench city has no mothers to apply: seed a larger city")
    bundle = Bundle.objects.get(code="newborn")
    return {"handlers": handlers, "parents": parents, "bundle": bundle.pk}


def _worker(args) -> dict:
    index, count, setup = args
    connections.close_all()
    from tongban.cases.services import case_submit, case_task_complete
    from tongban.catalog.models import Bundle
    from tongban.catalog.services import required_materials
    from tongban.demo.sample import sample_form_data
    from tongban.identity.models import Person, User
    from tongban.workflow.models import Task

    bundle = Bundle.objects.get(pk=setup["bundle"])
    users = {u.pk: u for u in User.objects.filter(pk__in=[*setup["handlers"].values(), *setup["parents"]])}
    handlers = {dept: users[pk] for dept, pk in setup["handlers"].items()}
    parents = [users[pk] for pk in setup["parents"]]
    persons = {p.user_id: p for p in Person.objects.filter(user__in=parents)}
    from tongban.identity.selectors import staff_for

    by_department = {staff_for(user).department_id: user for user in handlers.values()}
    open_states = sorted(state.value for state in Task.OPEN_STATES)
    inbox_sql = (
        "SELECT id, department_id FROM workflow_task WHERE case_id = %s "  # noqa: S608
        f"AND state IN ({', '.join(['%s'] * len(open_states))}) ORDER BY due_date, created_at"
    )
    queries = 0

    def count_query(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    transitions, transition_seconds, completed = 0, 0.0, 0
    durations = []  # seconds of each transition, for the percentiles
    rss_early = None
    forms = {}
    for pk, person in persons.items():
        form = sample_form_data(bundle.form_schema, person=person)
        form.pop("father_resident_id", None)  # the sample would name the mother as the father too
        form.pop("father_name", None)
        forms[pk] = form
    # Only what no department holds is uploaded: nothing, for the newborn bundle in a seeded city.
    codes = [
        m.code for m in required_materials(bundle, next(iter(forms.values()))) if m.satisfied_by == "upload"
    ]
    # Every statement the database receives: on SQLite the driver's trace callback sees them all (BEGIN, COMMIT and
    # the audit appends, which bypass Django's cursor); on PostgreSQL Django's cursor sees every statement (the
    # audit append included) and the commits are counted where they happen.
    connection.ensure_connection()
    counting = contextlib.ExitStack()
    if connection.vendor == "sqlite":

        def traced(sql):
            nonlocal queries
            queries += 1

        connection.connection.set_trace_callback(traced)
        counting.callback(connection.connection.set_trace_callback, None)
    else:
        counting.enter_context(connection.execute_wrapper(count_query))
        commit = connection._commit

        def counted_commit():
            nonlocal queries
            queries += 1
            return commit()

        connection._commit = counted_commit
        counting.callback(setattr, connection, "_commit", commit)
    from tongban.cases.services import step_retries
    from tongban.core.db.base import writer_lock_stats

    lock_started = writer_lock_stats()
    retries_started = step_retries()
    cpu_started = _cpu_seconds()
    with counting:
        for n in range(count):
            parent = parents[(index * 7 + n) % len(parents)]
            # Births spread over a year: one district has only so many ID numbers for a day of birth.
            born = dt.date(2026, 11, 1) - dt.timedelta(days=(index * 7919 + n) % 365)
            form = dict(forms[parent.pk], baby_name=f"宝宝{index}{n}", birth_date=born.isoformat())
            uploads = {
                code: SimpleUploadedFile(f"{code}.pdf", b"%PDF-1.4\n%bench\n", content_type="application/pdf")
                for code in codes
            }
            started = time.perf_counter()
            case = case_submit(
                actor=actor_for(parent),
                service=bundle,
                form_data=form,
                files=uploads,
                idempotency_key=uuid.uuid4().hex,
            )
            durations.append(time.perf_counter() - started)
            transition_seconds += durations[-1]
            transitions += 1
            while True:
                before = queries
                # The handlers' inbox: the case's open tasks, in one hand-written statement (the bench's own work,
                # kept small so that the workers' CPU is the platform's).
                open_tasks = fast.fetchall(inbox_sql, [fast.prep(Task, "case_id", case.pk), *open_states])
                queries = before  # the inbox read is not part of a transition
                if not open_tasks:
                    break
                for task_id, department_id in open_tasks:
                    started = time.perf_counter()
                    case = case_task_complete(
                        actor=actor_for(by_department[fast.convert(Task, "department", department_id)]),
                        task_id=fast.convert(Task, "id", task_id),
                        decision="approve",
                    )
                    durations.append(time.perf_counter() - started)
                    transition_seconds += durations[-1]
                    transitions += 1
            if case.status == "completed":
                completed += 1
            if n == max(1, count // 10) and rss_early is None:
                rss_early = _rss_kb()
    cpu_seconds = _cpu_seconds() - cpu_started
    lock = writer_lock_stats()
    return {
        "cpu_seconds": cpu_seconds,
        "effects_retries": step_retries() - retries_started,
        "lock_wait_s": lock["wait_s"] - lock_started["wait_s"],
        "lock_held_s": lock["held_s"] - lock_started["held_s"],
        "lock_held_cpu_s": lock["held_cpu_s"] - lock_started["held_cpu_s"],
        "lock_transactions": lock["transactions"] - lock_started["transactions"],
        "completed": completed,
        "transitions": transitions,
        "queries": queries,
        "transition_seconds": transition_seconds,
        "durations": durations,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "rss_early_kb": rss_early or _rss_kb(),
        "rss_end_kb": _rss_kb(),
    }


@benchmark(
    "cases",
    help="newborn bundles submitted and completed per second through the case services (writes real cases)",
    arguments=[
        (
            ("--cases",),
            {"type": int, "default": 1000, "help": "cases to drive to completion (default 1,000)"},
        ),
        (("--workers",), {"type": int, "default": 0, "help": "worker processes (default: one per core)"}),
    ],
)
def bench_cases(*, stdout, options):
    total = options["cases"]
    workers = options["workers"] or os.cpu_count() or 1
    if total < 1 or workers < 1:
        raise CommandError("--cases and --workers must be at least 1")
    from tongban.identity.models import Person

    if (
        Person.objects.exists()
        and not Person.objects.filter(user__username="bench.parent.0").exists()
        and not (
            Person.objects.count() <= BENCH_CITY + 10
            and Person.objects.filter(user__username="li.ming").exists()
        )
    ):
        raise CommandError(
            "tongban bench cases writes cases that cannot be deleted (the audit log refuses it): run it on a "
            "scratch database, e.g. TONGBAN_VAR_DIR=/tmp/tb-bench tongban migrate, then run it there."
        )
    from tongban.core.models import AuditEntry

    setup = _setup()
    audit_before = AuditEntry.objects.count()
    shares = [total // workers + (1 if i < total % workers else 0) for i in range(workers)]
    connections.close_all()
    started = time.perf_counter()
    if workers == 1:
        results = [_worker((0, shares[0], setup))]
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = pool.map(_worker, [(i, shares[i], setup) for i in range(workers)])
    seconds = time.perf_counter() - started
    completed = sum(r["completed"] for r in results)
    transitions = sum(r["transitions"] for r in results)
    audit_entries = AuditEntry.objects.count() - audit_before
    queries = sum(r["queries"] for r in results)  # audit appends and COMMITs included (see _worker)
    transition_seconds = sum(r["transition_seconds"] for r in results)
    durations = sorted(d for r in results for d in r["durations"])
    figures = {
        "database": connection.vendor,
        "cases": total,
        "workers": workers,
        "completed": completed,
        "seconds": round(seconds, 3),
        "completed_per_s": round(completed / seconds, 1),
        "transitions": transitions,
        "ms_per_transition": round(1000 * transition_seconds / transitions, 2),
        "transition_p50_ms": round(1000 * _percentile(durations, 0.50), 2),
        "transition_p99_ms": round(1000 * _percentile(durations, 0.99), 2),
        "queries_per_transition": round(queries / transitions, 2),
        "audit_entries_per_transition": round(audit_entries / transitions, 2),
        # CPU time the workers spent per completed case: on a shared machine, steadier than the rate.
        "cpu_ms_per_case": round(1000 * sum(r["cpu_seconds"] for r in results) / max(1, completed), 1),
        "peak_rss_mb": round(max(r["peak_rss_kb"] for r in results) / 1024, 1),
        "rss_growth_mb": round(max(r["rss_end_kb"] - r["rss_early_kb"] for r in results) / 1024, 1),
        # Steps whose prepared effects went stale before the lock and were done again whole (their work twice).
        "effects_retries": sum(r["effects_retries"] for r in results),
    }
    if connection.vendor == "sqlite":
        # The writers' queue (core/db/base.py): per transition, the time a worker waited for the write lock and held
        # it (BEGIN to the end of COMMIT; the submission's lookups included). Two workers can never do together
        # what they do while holding it.
        figures["lock_held_ms_per_transition"] = round(
            1000 * sum(r["lock_held_s"] for r in results) / transitions, 2
        )
        figures["lock_held_cpu_ms_per_transition"] = round(
            1000 * sum(r["lock_held_cpu_s"] for r in results) / transitions, 2
        )
        figures["lock_wait_ms_per_transition"] = round(
            1000 * sum(r["lock_wait_s"] for r in results) / transitions, 2
        )
        figures["write_transactions_per_transition"] = round(
            sum(r["lock_transactions"] for r in results) / transitions, 2
        )
    stdout.write(
        f"cases: {completed:,} of {total:,} newborn bundles completed in {seconds:.2f} s with {workers} workers = "
        f"{figures['completed_per_s']:,.1f} cases/s; {transitions:,} transitions, "
        f"{figures['ms_per_transition']} ms (p50 {figures['transition_p50_ms']}, p99 {figures['transition_p99_ms']}) "
        f"and {figures['queries_per_transition']} statements each "
        f"(BEGIN/COMMIT and audit appends included); "
        f"peak RSS {figures['peak_rss_mb']} MB per worker (grew {figures['rss_growth_mb']} MB after the first 10%).\n"
    )
    return figures
