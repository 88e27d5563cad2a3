"""``tongban bench lists``: the four lists that grow with the city, under 16 concurrent users, through the API.

On a database seeded with ``tongban seed --cases N`` (it refuses one without such a history), U users (default
16) ask, for ``--duration`` seconds per list, one list after the other:

- ``my_cases``: ``GET /api/v1/cases/`` as a citizen (bench citizens linked to persons who have cases, and the
  demo citizens), sometimes with a status filter, sometimes following ``next`` to the second and third page;
- ``inbox``: ``GET /api/v1/tasks/`` as a handler, approver or head of the departments with demo staff;
- ``supervision``: ``GET /api/v1/supervised-cases/`` as the supervisor and the department heads, with and
  without a warning filter, following ``next`` now and then;
- ``staff_search``: ``GET /api/v1/cases/`` as department staff, with a search term (words of service names or a
  case number) or a status.

How it measures: each user is a forked process with its own database connection and a Django test client,
logged in (staff with a verified second factor in the session) and warmed by one unmeasured request; the
clock starts for all users at once. A request goes through the whole server-side
stack — middleware, session and authentication, permission checks, the selector's queries, serialisation to
JSON — but not through a WSGI server and a socket (the same for every list, and small next to the rest). The
latency is the client's: from the call to the parsed response. API throttling is off while it runs (it would
answer 429 to a user asking more than 600 times a minute; the rate limiter is not what is measured).

It writes nothing but the bench citizens' accounts (``bench.citizen.N``, made once, linked to persons without an
account) and the users' sessions.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import statistics
import time

from django.core.management.base import CommandError
from django.db import connections, transaction

from tongban.core.bench import benchmark

ENDPOINTS = ("my_cases", "inbox", "supervision", "staff_search")
BENCH_CITIZENS = 200
SEARCH_WORDS = (
    "出生",
    "护照",
    "居住证",
    "营业执照",
    "医保",
    "社会保障卡",
    "登记",
    "许可",
    "不动产",
    "身份证",
)
STATUSES = ("completed", "in_progress", "accepted", "supplement", "rejected")


def _staff_usernames() -> dict[str, list[str]]:
    """Demo staff for each list: department staff for inboxes and case search, watchers for supervision."""
    from tongban.demo import reference as ref

    department = [
        u
        for u, _n, _d, roles in ref.DEMO_STAFF
        if {"dept_handler", "dept_approver", "dept_head"} & set(roles)
    ]
    watchers = [u for u, _n, _d, roles in ref.DEMO_STAFF if {"supervisor", "dept_head"} & set(roles)]
    return {"inbox": department, "staff_search": department, "supervision": watchers}


def _citizens_ensure(count: int, seed: int) -> list[str]:
    """Usernames of citizens with cases: the demo citizens and ``count`` bench citizens (made once)."""
    from tongban.cases.models import Case
    from tongban.core.audit import SYSTEM
    from tongban.demo import reference as ref
    from tongban.identity.models import Person, User
    from tongban.identity.services import user_create

    names = [row[0] for row in ref.DEMO_CITIZENS if User.objects.filter(username=row[0]).exists()]
    existing = list(
        User.objects.filter(username__startswith="bench.citizen.").values_list("username", flat=True)
    )
    if len(existing) < count:
        rng = random.Random(seed)
        candidates = list(
            Person.objects.filter(user__isnull=True)
            .order_by("resident_id")
            .values_list("pk", flat=True)[: count * 20]
        )
        rng.shuffle(candidates)
        with transaction.atomic():
            made = len(existing)
            for person_pk in candidates:
                if made >= count:
                    break
                if not Case.objects.filter(applicant_person_id=person_pk).exists():
                    continue
                user = user_create(
                    actor=SYSTEM,
                    username=f"bench.citizen.{made:04d}",
                    password=None,
                    first_name="bench",
                    check_password=False,
                )
                Person.objects.filter(pk=person_pk, user__isnull=True).update(user=user)
                made += 1
        existing = list(
            User.objects.filter(username__startswith="bench.citizen.").values_list("username", flat=True)
        )
    return names + sorted(existing)


def _numbers(sample: int, seed: int) -> list[str]:
    """Case numbers to search for, spread over the history: each one a seek on the unique number index."""
    import datetime as dt

    from tongban.cases.models import Case
    from tongban.core import calendar

    rng = random.Random(seed)
    first = Case.objects.order_by("number").values_list("number", flat=True).first()
    if first is None:
        return []
    start = dt.date(int(first[2:6]), int(first[6:8]), int(first[8:10]))
    days = max(1, (calendar.today() - start).days)
    numbers = []
    for _ in range(sample):
        day = start + dt.timedelta(days=rng.randrange(days))
        key = f"TB{day:%Y%m%d}{rng.randrange(10**10):010d}"
        found = (
            Case.objects.filter(number__gte=key).order_by("number").values_list("number", flat=True).first()
        )
        if found:
            numbers.append(found)
    return numbers


def _client_for(username: str):
    """A logged-in test client (staff: with a verified second factor in the session)."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tongban.identity.models import User
    from tongban.identity.selectors import is_staff_user

    user = User.objects.get(username=username)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    if is_staff_user(user):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def _request_plan(endpoint: str, rng: random.Random, numbers: list[str]) -> tuple[str, dict, int]:
    """(path, query, pages to follow) of one realistic request."""
    if endpoint == "my_cases":
        query = {"status": rng.choice(STATUSES)} if rng.random() < 0.2 else {}
        return "/api/v1/cases/", query, rng.choice((1, 1, 1, 2, 3))
    if endpoint == "inbox":
        query = {"page_size": 50} if rng.random() < 0.2 else {}
        return "/api/v1/tasks/", query, rng.choice((1, 1, 1, 2))
    if endpoint == "supervision":
        query = {"warning": rng.choice(("red", "yellow"))} if rng.random() < 0.4 else {}
        return "/api/v1/supervised-cases/", query, rng.choice((1, 1, 2, 3))
    roll = rng.random()
    if roll < 0.45:
        query = {"q": rng.choice(SEARCH_WORDS)}
    elif roll < 0.7 and numbers:
        number = rng.choice(numbers)
        query = {"q": number if rng.random() < 0.7 else number[:12]}
    elif roll < 0.85:
        query = {"status": rng.choice(STATUSES)}
    else:
        query = {}
    return "/api/v1/cases/", query, rng.choice((1, 1, 2))


def _user_loop(args) -> dict:
    """One user (a forked process): log in as some users of the list, then ask until the deadline."""
    endpoint, usernames, numbers, seed, start_at, duration = args
    from rest_framework.views import APIView

    APIView.throttle_classes = ()  # see the module docstring: the rate limiter is not measured
    connections.close_all()
    rng = random.Random(seed)
    clients = [_client_for(name) for name in usernames]
    for client in clients:
        # Warm, unmeasured: a server's workers have imported their modules and resolved their URLs already.
        path, query, _pages = _request_plan(endpoint, rng, numbers)
        client.get(path, query)
    latencies, errors, statuses = [], 0, {}
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = time.perf_counter() + duration
    cpu_started = time.process_time()
    while time.perf_counter() < deadline:
        client = rng.choice(clients)
        path, query, pages = _request_plan(endpoint, rng, numbers)
        url, params = path, query
        for _page in range(pages):
            started = time.perf_counter()
            response = client.get(url, params)
            body = json.loads(response.content) if response.status_code == 200 else None
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                errors += 1
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                break
            url, params = body.get("next"), None
            if not url:
                break
    cpu_seconds = time.process_time() - cpu_started  # this user's process: client and server side
    connections.close_all()
    return {"latencies": latencies, "errors": errors, "statuses": statuses, "cpu_s": cpu_seconds}


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@benchmark(
    "lists",
    help="my cases, inbox, supervision list and staff case search under concurrent users, through the API",
    arguments=[
        (("--users",), {"type": int, "default": 16, "help": "concurrent users (default 16)"}),
        (("--duration",), {"type": float, "default": 20.0, "help": "seconds per list (default 20)"}),
        (("--min-cases",), {"type": int, "default": 1_000_000, "help": "refuse a smaller case history"}),
        (("--seed",), {"type": int, "default": 11}),
        (("--endpoints",), {"default": ",".join(ENDPOINTS), "help": "a comma-separated subset"}),
    ],
)
def bench_lists(*, stdout, options):
    from tongban.cases.models import Case
    from tongban.demo.cases_history import case_history_count

    users, duration, seed = options["users"], options["duration"], options["seed"]
    endpoints = [name.strip() for name in options["endpoints"].split(",") if name.strip()]
    unknown = set(endpoints) - set(ENDPOINTS)
    if unknown or not endpoints:
        raise CommandError(f"--endpoints: choose among {', '.join(ENDPOINTS)}")
    if users < 1 or duration <= 0:
        raise CommandError("--users must be at least 1 and --duration positive.")
    history = case_history_count()
    if history == 0:
        raise CommandError(
            "tongban bench lists needs a case history: seed one first, e.g. "
            "`tongban seed --cases 1000000` (on a seeded city it only adds the cases)."
        )
    if history < options["min_cases"]:
        raise CommandError(
            f"The database holds a case history of {history:,} cases, fewer than --min-cases "
            f"{options['min_cases']:,}: seed more (`tongban seed --cases N`) or lower --min-cases."
        )
    pools = {"my_cases": _citizens_ensure(BENCH_CITIZENS, seed), **_staff_usernames()}
    numbers = _numbers(200, seed)
    total_cases = Case.objects.count()
    results = {}
    context = multiprocessing.get_context("fork")
    for endpoint in endpoints:
        pool = pools[endpoint]
        if not pool:
            raise CommandError(f"no users for {endpoint}: is this the demo city?")
        rng = random.Random(f"{seed}:{endpoint}")
        jobs = []
        start_at = time.time() + 3.0 + 0.5 * users  # every user logged in and warm before the clock starts
        for index in range(users):
            names = [pool[(index * 8 + k) % len(pool)] for k in range(min(8, len(pool)))]
            jobs.append((endpoint, names, numbers, rng.randrange(2**31), start_at, duration))
        connections.close_all()
        with context.Pool(users) as workers:
            outcomes = workers.map(_user_loop, jobs)
        latencies = [value for outcome in outcomes for value in outcome["latencies"]]
        errors = sum(outcome["errors"] for outcome in outcomes)
        statuses: dict = {}
        for outcome in outcomes:
            for code, n in outcome["statuses"].items():
                statuses[code] = statuses.get(code, 0) + n
        figures = {
            "requests": len(latencies),
            "errors": errors,
            "p50_ms": round(_percentile(latencies, 0.50), 2),
            "p99_ms": round(_percentile(latencies, 0.99), 2),
            "mean_ms": round(statistics.fmean(latencies), 2) if latencies else 0.0,
            "per_s": round(len(latencies) / duration, 1),
            # CPU of the users' processes (the test client and the whole server side, SQLite included; on
            # PostgreSQL the server's own CPU is not in it) per request: what bounds the throughput, and so,
            # by Little's law, the latency of U users on this machine's cores.
            "cpu_ms_per_request": (
                round(1000 * sum(o["cpu_s"] for o in outcomes) / len(latencies), 2) if latencies else 0.0
            ),
        }
        if statuses:
            figures["error_statuses"] = {str(code): n for code, n in statuses.items()}
        results[endpoint] = figures
        stdout.write(
            f"{endpoint:<13} {figures['requests']:>7,} requests  p50 {figures['p50_ms']:>7.1f} ms  "
            f"p99 {figures['p99_ms']:>7.1f} ms  {figures['per_s']:>7.1f}/s  "
            f"CPU {figures['cpu_ms_per_request']:.2f} ms/request  errors {errors}\n"
        )
    worst_p50 = max(results.values(), key=lambda f: f["p50_ms"])["p50_ms"]
    worst_p99 = max(results.values(), key=lambda f: f["p99_ms"])["p99_ms"]
    stdout.write(
        f"lists: {total_cases:,} cases, {users} users, {duration:g} s per list through the API "
        f"(forked users, Django test client): worst p50 {worst_p50:.1f} ms, worst p99 {worst_p99:.1f} ms.\n"
    )
    return {
        "list_p50_ms": worst_p50,
        "list_p99_ms": worst_p99,
        "cases": total_cases,
        "users": users,
        "duration_s": duration,
        "client": "forked processes, Django test client (full server stack, no socket)",
        **results,
    }
