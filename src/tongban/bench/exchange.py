"""``tongban bench exchange``: data-hub lookups per second, each with its grant check, audit entry and DataUse.

Every lookup goes through ``exchange.services.lookup`` as a case handler's would: the resource spec from memory,
one query for the approved grant of the requesting department and purpose, the registry's fetch, the persons
concerned, one audit append and one DataUse insert, in one transaction (one commit per lookup). It runs with
one process, then with two processes at once (each on its own connection), then measures refused lookups
(no grant: audited and recorded too).

The set-up is a bench resource over ``identity.Person`` (``bench-person``, conditional, owned by
public-security; or a real registry resource with ``--resource CODE --subjects ...``), a few thousand persons
inserted in bulk, and a standing grant to health. It writes audit entries and data uses, which cannot be
deleted afterwards (the audit log refuses it), so run it on a scratch database::

    TONGBAN_VAR_DIR=/tmp/tb-bench tongban migrate && TONGBAN_VAR_DIR=/tmp/tb-bench tongban bench exchange

The lead may append licence signing figures (``licences``' bench) to the same JSON line.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import time

from django.core.management.base import CommandError
from django.db import connection, connections

from tongban.core.audit import Actor
from tongban.core.bench import benchmark

BENCH_RESOURCE = "bench-person"
BENCH_NAME = "基准测试"
BENCH_PURPOSE = "基准测试：出生登记核验"
BENCH_DISTRICT = "310104"
REQUESTER = "health"
ACTOR = Actor(kind="staff", id="bench", label="bench.handler", role="dept_handler", department=REQUESTER)


def _fetch_person(subject_key, fields):
    from tongban.identity.models import Person

    row = Person.objects.filter(resident_id=subject_key).values(*fields).first()
    if row and "birth_date" in row:
        row["birth_date"] = row["birth_date"].isoformat()
    return row


def _register_bench_resource():
    from tongban.exchange.resources import Field, ResourceSpec, register_resource, resource_spec

    if resource_spec(BENCH_RESOURCE) is None:
        register_resource(
            ResourceSpec(
                code=BENCH_RESOURCE,
                owner="public-security",
                name_zh="基准测试人口信息",
                name_en="Bench population data",
                subject="person",
                fields={
                    "name": Field("string", "personal", "姓名"),
                    "sex": Field("string", "personal", "性别"),
                    "birth_date": Field("date", "personal", "出生日期"),
                    "phone": Field("string", "sensitive", "手机号码"),
                },
                sharing="conditional",
                frequency="realtime",
                legal_basis="《居民身份证法》",
                fetch=_fetch_person,
            )
        )


def _persons(count: int) -> list[str]:
    """Resident IDs of ``count`` bench persons, inserted in bulk when missing."""
    from tongban.core.ids import make_resident_id
    from tongban.identity.models import AdminUnit, Person

    district = AdminUnit.objects.get(code=BENCH_DISTRICT)
    wanted = []
    for n in range(count):
        birth = dt.date(1960, 1, 1) + dt.timedelta(days=n // 400)
        wanted.append((make_resident_id(BENCH_DISTRICT, birth, 100 + n % 400), birth, n))
    have = set(
        Person.objects.filter(resident_id__in=[w[0] for w in wanted]).values_list("resident_id", flat=True)
    )
    rows = [
        Person(
            resident_id=rid,
            name=f"{BENCH_NAME}{n}",
            sex="M" if int(rid[16]) % 2 else "F",
            birth_date=birth,
            household_district=district,
            phone=f"139{n:08d}",
        )
        for rid, birth, n in wanted
        if rid not in have
    ]
    Person.objects.bulk_create(rows, batch_size=1000)
    return [w[0] for w in wanted]


def _setup(resource: str, persons: int, subjects: list[str] | None) -> dict:
    from tongban.core.audit import SYSTEM
    from tongban.exchange.resources import resource_spec
    from tongban.exchange.services import data_resources_sync, grant_ensure
    from tongban.identity.services import departments_ensure

    departments_ensure(actor=SYSTEM)
    if resource == BENCH_RESOURCE:
        _register_bench_resource()
    spec = resource_spec(resource)
    if spec is None:
        raise CommandError(f"no data resource {resource!r} is registered")
    if spec.sharing == "not_shared":
        raise CommandError(f"{resource} is not shared: choose a shared resource")
    data_resources_sync(actor=SYSTEM)
    keys = subjects or _persons(persons)
    if spec.owner == REQUESTER:
        raise CommandError(f"{resource} belongs to {REQUESTER}, the requesting department: choose another")
    grant_ensure(actor=SYSTEM, department=REQUESTER, resource=resource, purpose=BENCH_PURPOSE)
    fields = [name for name, f in spec.fields.items()][:3]
    return {"resource": resource, "keys": keys, "fields": fields}


def _run(setup: dict, count: int, offset: int, *, refused: bool = False) -> tuple[float, float, int]:
    """``count`` lookups; returns (start, end, statements through Django's cursor)."""
    from tongban.exchange.services import GrantMissing, lookup
    from tongban.identity.models import Department

    department = Department.objects.select_related("parent").get(code=REQUESTER)
    keys, fields = setup["keys"], setup["fields"]
    purpose = "未授权的用途" if refused else BENCH_PURPOSE
    statements = 0

    def counter(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        for n in range(count):
            try:
                lookup(
                    actor=ACTOR,
                    department=department,
                    resource_code=setup["resource"],
                    subject_key=keys[(offset + n * 7) % len(keys)],
                    fields=fields,
                    purpose=purpose,
                    case_number=f"BENCH-{offset + n:08d}",
                )
            except GrantMissing:
                if not refused:
                    raise
        end = time.perf_counter()
    return start, end, statements


def _process(args):
    setup, count, offset, barrier, results = args
    connections.close_all()
    barrier.wait()
    results.put(_run(setup, count, offset))
    connections.close_all()


def _concurrent(setup: dict, count: int, workers: int) -> float:
    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(workers)
    results = context.Queue()
    processes = [
        context.Process(target=_process, args=((setup, count, 1_000_000 * (w + 1), barrier, results),))
        for w in range(workers)
    ]
    for process in processes:
        process.start()
    spans = [results.get() for _ in processes]
    for process in processes:
        process.join()
        if process.exitcode:
            raise RuntimeError(f"a lookup process failed with exit code {process.exitcode}")
    return workers * count / (max(s[1] for s in spans) - min(s[0] for s in spans))


@benchmark(
    "exchange",
    help="data-hub lookups per second with grant check, audit entry and DataUse (writes to the database)",
    arguments=[
        (("--lookups",), {"type": int, "default": 5000, "help": "lookups per process (default 5,000)"}),
        (("--persons",), {"type": int, "default": 5000, "help": "bench persons to look up (default 5,000)"}),
        (
            ("--resource",),
            {"default": BENCH_RESOURCE, "help": f"resource code (default {BENCH_RESOURCE}, over identity)"},
        ),
        (
            ("--subjects",),
            {
                "nargs": "*",
                "default": None,
                "help": "subject keys for --resource (default: the bench persons)",
            },
        ),
        (("--no-licences",), {"action": "store_true", "help": "skip the e-licence signing figures"}),
    ],
)
def bench_exchange(*, stdout, options):
    from tongban.core.models import AuditEntry
    from tongban.identity.models import Person

    count = options["lookups"]
    if count < 1 or options["persons"] < 1:
        raise CommandError("--lookups and --persons must be at least 1")
    if Person.objects.exclude(name__startswith=BENCH_NAME).count() > 100:
        raise CommandError(
            "tongban bench exchange writes audit entries and data uses that cannot be deleted: run it on a "
            "scratch database, e.g. TONGBAN_VAR_DIR=/tmp/tb-bench tongban migrate, then run it there."
        )
    setup = _setup(options["resource"], options["persons"], options["subjects"])
    _run(setup, min(200, count), 0)  # warm up: caches, the resource registry, the connection
    audit_before = AuditEntry.objects.count()
    start, end, statements = _run(setup, count, 10_000)
    single = count / (end - start)
    audit_entries = AuditEntry.objects.count() - audit_before
    # Audit appends bypass Django's cursor (see core/audit.py): one statement each.
    per_lookup = (statements + audit_entries) / count
    double = _concurrent(setup, count, 2)
    refused_count = max(1, count // 5)
    start, end, _statements = _run(setup, refused_count, 20_000, refused=True)
    refused = refused_count / (end - start)
    figures = {
        "resource": setup["resource"],
        "subjects": len(setup["keys"]),
        "lookups_per_process": count,
        "lookups_per_s": round(single),
        "lookups_2_processes_per_s": round(double),
        "refused_lookups_per_s": round(refused),
        "ms_per_lookup": round(1000 / single, 3),
        "statements_per_lookup": round(per_lookup, 2),
        "audit_entries_per_lookup": round(audit_entries / count, 2),
    }
    if not options.get("no_licences"):
        # The e-licence half of the data hub's figures (issue 4): signatures and verifications per second,
        # Ed25519 and SM2, by the licences app's own benchmark (it prints its lines too).
        from tongban.bench.licences import bench_licences

        figures["licences"] = bench_licences(
            stdout=stdout, options={"ed25519": 2000, "sm2": 200, "scratch_checked": True}
        )
    stdout.write(
        f"exchange: lookups of {setup['resource']} with grant check, audit and DataUse on {connection.vendor}: "
        f"{single:,.0f}/s in 1 process ({figures['ms_per_lookup']} ms, {figures['statements_per_lookup']} "
        f"statements each, commit included), {double:,.0f}/s in 2 processes; refused lookups (audited) "
        f"{refused:,.0f}/s.\n"
    )
    return figures
