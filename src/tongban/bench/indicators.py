"""``tongban bench indicators``: the indicators dashboard over a synthetic year of Shanghai-scale aggregates.

1. **A year of aggregates.** Once (kept for the next run; ``--regenerate`` writes it again), the benchmark writes
   the day rows of 365 days ending ``--until`` as the worker would keep them for a Shanghai day (≈ 184,000 cases
   and ≈ 25,000 hotline tickets a day): one row per department and district that has work (every municipal
   department in every district, every district branch in its own), one row per service item and day for
   ``--services`` items (default 3,600, the size of Shanghai's catalogue), and a few proactive rules; then the
   month rows (``compute.month_rollup``, as the worker does). The counts are random around those volumes.
2. **Requests.** A supervisor and a department head (bench staff, made once) ask for the dashboard page
   (``GET /workbench/indicators/``, and a quarter of the time the reform measures page, which sums every
   service's rows) through Django's test client — middleware, session, permission, the
   selectors' sums, the tables, the SVG charts and the template — with a mix of filters: the whole year, a
   quarter, a month, thirty days; all departments, one department, one district, one service; the head's own
   department. First the slabs of the last year are read as a web process reads them when it starts
   (``indicators.sums.warm``; ``--cold`` leaves it out: each period is then read by the first request that needs
   it), then one unmeasured request warms each client; then ``--requests`` requests (default 300) one after another.
   p50/p95/p99/max of the wall time are reported, and p50/p99 of the process's CPU time per request (the client,
   the server side and SQLite share the process: on a loaded machine the CPU time is the figure that holds).

Run it on a scratch database (it writes rows the demo city would show)::

    TONGBAN_VAR_DIR=/tmp/tb-ind tongban migrate && TONGBAN_VAR_DIR=/tmp/tb-ind tongban bench indicators
"""

from __future__ import annotations

import datetime as dt
import gc
import random
import statistics
import time

from django.db import transaction

from tongban.core.bench import benchmark

YEAR_DAYS = 365
CASES_PER_DAY = 184_000
TICKETS_PER_DAY = 25_000
SUPERVISOR = "bench.ind.supervisor"
HEAD = "bench.ind.head"


def _staff_ensure():
    from tongban.core.audit import SYSTEM
    from tongban.identity import services
    from tongban.identity.models import User
    from tongban.identity.selectors import department_get

    if department_get("health") is None:
        services.departments_ensure(actor=SYSTEM)
    for username, roles in ((SUPERVISOR, ["supervisor"]), (HEAD, ["dept_head"])):
        if User.objects.filter(username=username).exists():
            continue
        user = services.user_create(actor=SYSTEM, username=username, password=None, check_password=False)
        services.staff_create(actor=SYSTEM, user=user, department=department_get("health"), roles=roles)


def _items_ensure(services: int, departments) -> None:
    """The bench's service items in the catalogue (published, so the dashboard's service menu lists them, as it
    would list Shanghai's 3,600)."""
    from tongban.catalog.models import ServiceItem

    existing = set(ServiceItem.objects.filter(code__startswith="bench-item-").values_list("code", flat=True))
    ServiceItem.objects.bulk_create(
        [
            ServiceItem(
                code=f"bench-item-{i:04d}",
                basic_code=f"9999{i:08d}",
                name_zh=f"基准事项{i:04d}",
                name_en=f"Bench service {i:04d}",
                item_type="public_service",
                legal_basis="基准",
                department_id=departments[i % len(departments)],
                legal_limit_days=20,
                promised_limit_days=5,
                handling_modes=["online", "window"],
                result_type="document",
                status="published",
            )
            for i in range(services)
            if f"bench-item-{i:04d}" not in existing
        ],
        batch_size=500,
    )


def _counters(rng: random.Random, cases: float, tickets: float) -> dict:
    submitted = max(0, int(rng.gauss(cases, cases * 0.2)))
    completed = int(submitted * rng.uniform(0.85, 0.98))
    on_time = int(completed * rng.uniform(0.8, 0.99))
    ratings = int(completed * 0.3)
    levels = [int(ratings * share) for share in (0.01, 0.02, 0.07, 0.3)]
    levels.append(ratings - sum(levels))
    t = max(0, int(rng.gauss(tickets, tickets * 0.2)))
    replied = int(t * 0.6)
    return {
        "cases_submitted": submitted,
        "cases_online": int(submitted * 0.84),
        "cases_full_online_item": int(submitted * 0.7),
        "item_modes_sum": submitted * 2,
        "cases_completed": completed,
        "completed_on_time": on_time,
        "completed_no_visit": int(completed * 0.8),
        "completed_supplemented": int(completed * 0.05),
        "cases_refused": int(submitted * 0.03),
        "cases_withdrawn": int(submitted * 0.02),
        "legal_days_sum": completed * 20,
        "promised_days_sum": completed * 7,
        "working_days_sum": completed * rng.randint(2, 6),
        "visits_sum": int(completed * 0.3),
        "materials_sum": completed * 4,
        "materials_data_sum": completed * 2,
        "steps_sum": completed * 4,
        "ratings": ratings,
        **{f"ratings_{i + 1}": n for i, n in enumerate(levels)},
        "ratings_online": int(ratings * 0.8),
        "ratings_online_good": int(ratings * 0.75),
        "ratings_window": ratings - int(ratings * 0.8),
        "ratings_window_good": int(ratings * 0.18),
        "guide_score_sum": int(ratings * 0.8) * 4,
        "guide_score_count": int(ratings * 0.8),
        "rectifications_opened": levels[0] + levels[1],
        "rectifications_closed": levels[0] + levels[1],
        "rectifications_closed_on_time": levels[0],
        "warnings_yellow": int(submitted * 0.01),
        "warnings_red": int(submitted * 0.002),
        "tickets": t,
        "tickets_first_contact": int(t * 0.4),
        "tickets_replied": replied,
        "tickets_replied_on_time": int(replied * 0.93),
        "tickets_closed": replied,
        "satisfaction_sum": replied * 4,
        "satisfaction_count": replied,
        "tickets_reopened": int(replied * 0.03),
        "tickets_merged": int(t * 0.05),
    }


def _year_write(until: dt.date, services: int, seed: int, stdout) -> float:
    from tongban.identity.models import Department
    from tongban.indicators.compute import month_rollup, month_start
    from tongban.indicators.models import CASE_COUNTERS, Grain, ProactiveStat, ServiceStat, Stat

    began = time.monotonic()
    rng = random.Random(seed)
    municipal = list(Department.objects.filter(level="city").values_list("pk", flat=True))
    branches = list(Department.objects.filter(level="district").values_list("pk", "admin_unit_id"))
    districts = sorted({unit for _pk, unit in branches})
    pairs = [(dep, dis) for dep in municipal for dis in districts] + branches
    per_pair_cases = CASES_PER_DAY / len(pairs)
    per_pair_tickets = TICKETS_PER_DAY / len(pairs)
    per_service = CASES_PER_DAY / max(1, services)
    service_departments = [rng.choice(municipal) for _ in range(services)]
    first = until - dt.timedelta(days=YEAR_DAYS - 1)
    Stat.objects.filter(period__gte=first - dt.timedelta(days=31), period__lte=until).delete()
    ServiceStat.objects.filter(period__gte=first - dt.timedelta(days=31), period__lte=until).delete()
    ProactiveStat.objects.filter(period__gte=first - dt.timedelta(days=31), period__lte=until).delete()
    months = []
    for offset in range(YEAR_DAYS):
        day = first + dt.timedelta(days=offset)
        if month_start(day) not in months:
            months.append(month_start(day))
        with transaction.atomic():
            Stat.objects.bulk_create(
                [
                    Stat(
                        grain=Grain.DAY,
                        period=day,
                        department_id=dep,
                        district_id=dis,
                        **_counters(rng, per_pair_cases, per_pair_tickets),
                    )
                    for dep, dis in pairs
                ],
                batch_size=1000,
            )
            rows = []
            for index in range(services):
                c = _counters(rng, per_service, 0)
                rows.append(
                    ServiceStat(
                        grain=Grain.DAY,
                        period=day,
                        service_kind="item",
                        service_code=f"bench-item-{index:04d}",
                        department_id=service_departments[index],
                        **{name: c[name] for name in CASE_COUNTERS},
                    )
                )
            ServiceStat.objects.bulk_create(rows, batch_size=2000)
            ProactiveStat.objects.bulk_create(
                [
                    ProactiveStat(
                        grain=Grain.DAY,
                        period=day,
                        rule_code=f"bench-rule-{r}",
                        offers=270,
                        offers_offered=270,
                        offers_accepted=200,
                        offers_declined=20,
                        lead_days_sum=270,
                        lead_count=270,
                    )
                    for r in range(5)
                ]
            )
        if offset % 30 == 0:
            stdout.write(f"  aggregates written up to {day} ({time.monotonic() - began:.0f} s)")
    for month in months:
        month_rollup(month)
    return time.monotonic() - began


def _plan(until: dt.date, rng: random.Random, districts, departments, services) -> dict:
    """One request's filters. Most periods end on the last day with data ("the last 30 days", "this quarter so
    far"); some are past calendar months or quarters; a fifth are arbitrary past windows (the dearest: two partial
    months read day by day)."""
    query: dict = {}
    roll = rng.random()
    if roll < 0.55:
        span = rng.choice((30, 92, 365))
        end = until
        start = end - dt.timedelta(days=span - 1)
    elif roll < 0.8:
        months = rng.choice((1, 3, 12))
        end = until.replace(day=1) - dt.timedelta(days=1)
        start = end.replace(day=1)
        for _ in range(months - 1):
            start = (start - dt.timedelta(days=1)).replace(day=1)
    else:
        span = rng.choice((30, 92, 365))
        end = until - dt.timedelta(days=rng.randint(1, 25))
        start = end - dt.timedelta(days=span - 1)
    query["start"], query["end"] = start.isoformat(), end.isoformat()
    roll = rng.random()
    if roll < 0.25:
        query["department"] = rng.choice(departments)
    elif roll < 0.45:
        query["district"] = rng.choice(districts)
    elif roll < 0.6:
        query["service"] = rng.choice(services)
    return query


def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@benchmark(
    "indicators",
    help="the indicators dashboard over a synthetic year of Shanghai-scale aggregates (p99 of the page)",
    arguments=[
        (("--requests",), {"type": int, "default": 300, "help": "measured requests (default 300)"}),
        (("--services",), {"type": int, "default": 3600, "help": "service items with rows each day"}),
        (("--until",), {"type": dt.date.fromisoformat, "default": dt.date(2026, 11, 30), "help": "last day"}),
        (("--regenerate",), {"action": "store_true", "help": "write the year of aggregates again"}),
        (
            ("--cold",),
            {
                "action": "store_true",
                "help": "no start-up warm-up of the slabs (indicators.sums.warm): each period is read on demand",
            },
        ),
        (("--seed",), {"type": int, "default": 20261206}),
    ],
)
def bench_indicators(*, stdout, options):
    from tongban.bench.lists import _client_for
    from tongban.identity.models import AdminUnit, Department
    from tongban.indicators import sums
    from tongban.indicators.models import ServiceStat, Stat

    _staff_ensure()
    until = options["until"]
    first = until - dt.timedelta(days=YEAR_DAYS - 1)
    written = None
    complete = all(
        Stat.objects.filter(grain=g, period=p).exists()
        for g, p in (("d", first), ("m", until.replace(day=1)))
    )
    if options["regenerate"] or not complete:
        stdout.write("Writing a synthetic year of Shanghai-scale aggregates ...")
        written = _year_write(until, options["services"], options["seed"], stdout)
    stat_rows = Stat.objects.count()
    service_rows = ServiceStat.objects.count()
    stdout.write(f"Aggregate rows: {stat_rows:,} department/district rows, {service_rows:,} service rows.")
    rng = random.Random(options["seed"])
    districts = list(AdminUnit.objects.filter(level="district").values_list("code", flat=True))
    departments = list(Department.objects.filter(level="city").values_list("code", flat=True))
    _items_ensure(
        options["services"], list(Department.objects.filter(level="city").values_list("pk", flat=True))
    )
    services = [f"bench-item-{i:04d}" for i in rng.sample(range(options["services"]), 20)]
    clients = {"supervisor": _client_for(SUPERVISOR), "head": _client_for(HEAD)}
    sums.clear()
    warmed = None
    # As a web process does when it starts (tongban.warmup), up to the bench's last day.
    if not options["cold"]:
        warmed = sums.warm(today=until)
        # and as tongban.warmup ends (freeze_heap): what the warmed process keeps is out of the full collections
        gc.collect()
        gc.freeze()
        stdout.write(
            f"Warm-up (indicators.sums.warm, {warmed['periods']} periods): {warmed['seconds']:.1f} s, "
            f"{warmed['cpu_seconds']:.1f} s CPU, {warmed['mb']:.0f} MB of slabs; peak RSS {_rss_mb():.0f} MB"
        )
    for client in clients.values():
        client.get("/workbench/indicators/", {"start": first.isoformat(), "end": until.isoformat()})
    times, cpu_times, by_kind, by_page = [], [], {}, {"dashboard": ([], []), "reform": ([], [])}
    for _ in range(options["requests"]):
        who = "head" if rng.random() < 0.2 else "supervisor"
        query = _plan(until, rng, districts, departments, services)
        if who == "head":
            query.pop("department", None)
            query.pop("service", None)  # a service of another department is not in the head's menu
        page = "/workbench/indicators/reform/" if rng.random() < 0.25 else "/workbench/indicators/"
        started, cpu_started = time.perf_counter(), time.process_time()
        response = clients[who].get(page, query)
        elapsed = (time.perf_counter() - started) * 1000
        cpu_times.append((time.process_time() - cpu_started) * 1000)
        by_page["reform" if "reform" in page else "dashboard"][0].append(elapsed)
        by_page["reform" if "reform" in page else "dashboard"][1].append(cpu_times[-1])
        if response.status_code != 200:
            raise RuntimeError(f"{query}: HTTP {response.status_code}")
        times.append(elapsed)
        kind = f"{'reform' if 'reform' in page else 'dashboard'}:{who}:{'service' if 'service' in query else 'department' if 'department' in query else 'district' if 'district' in query else 'all'}"
        by_kind.setdefault(kind, []).append(elapsed)
    p50, p95, p99 = (_percentile(times, q) for q in (50, 95, 99))
    cpu50, cpu99 = _percentile(cpu_times, 50), _percentile(cpu_times, 99)
    stdout.write(
        f"Dashboard page, {len(times)} requests: p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms, max {max(times):.0f} ms"
    )
    stdout.write(
        f"CPU per request (this process: server side and SQLite): p50 {cpu50:.0f} ms, p99 {cpu99:.0f} ms"
    )
    for kind, values in sorted(by_kind.items()):
        stdout.write(
            f"  {kind:<22} n={len(values):<4} p50 {statistics.median(values):.0f} ms  max {max(values):.0f} ms"
        )
    pages = {}
    for name, (walls, cpus) in by_page.items():
        if walls:
            pages[f"{name}_p99_ms"] = round(_percentile(walls, 99), 1)
            pages[f"{name}_cpu_p50_ms"] = round(_percentile(cpus, 50), 1)
            pages[f"{name}_cpu_p99_ms"] = round(_percentile(cpus, 99), 1)
            stdout.write(
                f"{name}: n={len(walls)} wall p99 {pages[f'{name}_p99_ms']:.0f} ms, CPU p50 "
                f"{pages[f'{name}_cpu_p50_ms']:.0f} ms, CPU p99 {pages[f'{name}_cpu_p99_ms']:.0f} ms"
            )
    return {
        **pages,
        "requests": len(times),
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
        "p99_ms": round(p99, 1),
        "max_ms": round(max(times), 1),
        "cpu_p50_ms": round(cpu50, 1),
        "cpu_p99_ms": round(cpu99, 1),
        "stat_rows": stat_rows,
        "service_rows": service_rows,
        "aggregates_write_s": round(written, 1) if written is not None else None,
        "warm_up": warmed,
        "slabs_mb": round(sum(store.bytes for store in (sums.stats, sums.services)) / 2**20, 1),
        "peak_rss_mb": round(_rss_mb(), 1),
        "goal_p99_ms": 200,
    }
