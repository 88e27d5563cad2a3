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

``--through http`` measures the same requests through a real server instead: gunicorn as ``tongban serve`` runs it
(``--server-workers`` processes of ``--server-threads`` threads, default 2 and 4), on a local port, each user a
forked process with one keep-alive HTTP connection and its users' session cookies. The latency is then the socket's
too, and the CPU of the server's processes is read from ``/proc``; the users' own CPU (HTTP client, JSON parsing) runs
on the same cores.

It writes nothing but the bench citizens' accounts (``bench.citizen.N``, made once, linked to persons without an
account) and the users' sessions.
"""

from __future__ import annotations

import contextlib
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


def _session_cookie(username: str) -> str:
    """A ``Cookie`` header value for a logged-in session of ``username`` (as :func:`_client_for` logs in)."""
    from django.conf import settings

    client = _client_for(username)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _http_user_loop(args) -> dict:
    """One user through HTTP (a forked process): one keep-alive connection, its users' sessions, ask until the
    deadline."""
    import http.client
    from urllib.parse import urlencode, urlsplit

    endpoint, cookies, numbers, seed, start_at, duration, port = args
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(url):
        for attempt in (1, 2):
            try:
                connection.request("GET", url, headers={"Cookie": rng.choice(cookies), "Host": "127.0.0.1"})
                response = connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection (gunicorn's --keep-alive, 2 s): open a new one,
                # as a browser or an HTTP library does.
                connection.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    for (
        _cookie
    ) in cookies:  # warm, unmeasured: the server's workers import and connect on their first requests
        path, query, _pages = _request_plan(endpoint, rng, numbers)
        get(f"{path}?{urlencode(query)}" if query else path)
    latencies, errors, statuses = [], 0, {}
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = time.perf_counter() + duration
    cpu_started = time.process_time()
    while time.perf_counter() < deadline:
        path, query, pages = _request_plan(endpoint, rng, numbers)
        url = f"{path}?{urlencode(query)}" if query else path
        for _page in range(pages):
            started = time.perf_counter()
            status, content = get(url)
            body = json.loads(content) if status == 200 else None
            latencies.append((time.perf_counter() - started) * 1000)
            if status != 200:
                errors += 1
                statuses[status] = statuses.get(status, 0) + 1
                break
            following = body.get("next")
            if not following:
                break
            parts = urlsplit(following)
            url = f"{parts.path}?{parts.query}" if parts.query else parts.path
    cpu_seconds = time.process_time() - cpu_started
    connection.close()
    return {"latencies": latencies, "errors": errors, "statuses": statuses, "cpu_s": cpu_seconds}


def _process_cpu_seconds(pids) -> float:
    """User and system CPU seconds of the processes ``pids`` so far (``/proc/PID/stat``)."""
    import os

    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


class _Server:
    """gunicorn serving ``tongban.bench._lists_wsgi`` on a free local port, as ``tongban serve`` runs it."""

    def __init__(self, workers: int, threads: int):
        self.workers, self.threads = workers, threads

    def __enter__(self):
        import os
        import socket
        import subprocess
        import sys

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        argv = [sys.executable, "-m", "gunicorn", "tongban.bench._lists_wsgi:application"]
        argv += ["--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers)]
        argv += ["--threads", str(self.threads), "--access-logfile", "-", "--graceful-timeout", "10"]
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # No warm-up thread (tongban.warmup): its seconds of knowledge search and model loading would run
            # beside the first measured seconds and count as the server's CPU; the lists need none of it, and the
            # users' own unmeasured first requests warm what they use.
            env={**os.environ, "TONGBAN_WARMUP": "0"},
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if self.process.poll() is not None:
                    raise CommandError("gunicorn did not start: run `tongban serve` to see why") from None
                time.sleep(0.2)
        else:
            raise CommandError("gunicorn did not answer within 60 s")
        return self

    def pids(self) -> list[int]:
        import pathlib

        children = pathlib.Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            workers = [int(pid) for pid in children.read_text().split()]
        except OSError:
            workers = []
        return [self.process.pid, *workers]

    def __exit__(self, *exc):
        import subprocess

        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:  # a server that will not stop is killed
            self.process.kill()
        return False


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
        (
            ("--through",),
            {
                "choices": ("client", "http"),
                "default": "client",
                "help": "client: Django's test client in each user's process (default); http: gunicorn on a local port",
            },
        ),
        (
            ("--server-workers",),
            {"type": int, "default": 2, "help": "--through http: gunicorn workers (default 2)"},
        ),
        (
            ("--server-threads",),
            {"type": int, "default": 4, "help": "--through http: threads a worker (default 4)"},
        ),
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
    through = options["through"]
    cookies = {}
    if through == "http":
        for name in {name for endpoint in endpoints for name in pools[endpoint]}:
            cookies[name] = _session_cookie(name)
    server = (
        _Server(options["server_workers"], options["server_threads"])
        if through == "http"
        else contextlib.nullcontext()
    )
    with server:
        for endpoint in endpoints:
            results[endpoint] = _measure(
                endpoint, pools[endpoint], cookies, server, numbers, seed, users, duration, context, stdout
            )
    worst_p50 = max(results.values(), key=lambda f: f["p50_ms"])["p50_ms"]
    worst_p99 = max(results.values(), key=lambda f: f["p99_ms"])["p99_ms"]
    how = (
        f"gunicorn with {options['server_workers']} workers of {options['server_threads']} threads, keep-alive HTTP"
        if through == "http"
        else "forked users, Django test client"
    )
    stdout.write(
        f"lists: {total_cases:,} cases, {users} users, {duration:g} s per list through the API "
        f"({how}): worst p50 {worst_p50:.1f} ms, worst p99 {worst_p99:.1f} ms.\n"
    )
    return {
        "list_p50_ms": worst_p50,
        "list_p99_ms": worst_p99,
        "cases": total_cases,
        "users": users,
        "duration_s": duration,
        "through": through,
        "client": (
            f"forked processes, one keep-alive HTTP connection each; server: {how}"
            if through == "http"
            else "forked processes, Django test client (full server stack, no socket)"
        ),
        **results,
    }


def _measure(endpoint, pool, cookies, server, numbers, seed, users, duration, context, stdout) -> dict:
    """One list under ``users`` users: latencies, throughput and CPU a request."""
    if not pool:
        raise CommandError(f"no users for {endpoint}: is this the demo city?")
    rng = random.Random(f"{seed}:{endpoint}")
    jobs = []
    start_at = time.time() + 3.0 + 0.5 * users  # every user logged in and warm before the clock starts
    http = isinstance(server, _Server)
    for index in range(users):
        names = [pool[(index * 8 + k) % len(pool)] for k in range(min(8, len(pool)))]
        if http:
            jobs.append(
                (
                    endpoint,
                    [cookies[n] for n in names],
                    numbers,
                    rng.randrange(2**31),
                    start_at,
                    duration,
                    server.port,
                )
            )
        else:
            jobs.append((endpoint, names, numbers, rng.randrange(2**31), start_at, duration))
    connections.close_all()
    with context.Pool(users) as workers:
        pending = workers.map_async(_http_user_loop if http else _user_loop, jobs)
        server_cpu = None
        if http:
            time.sleep(max(0.0, start_at - time.time()))
            before = _process_cpu_seconds(server.pids())
            time.sleep(duration)
            server_cpu = _process_cpu_seconds(server.pids()) - before
        outcomes = pending.get()
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
    if server_cpu is not None:
        # Through HTTP the users' processes are the clients only; the server's processes (gunicorn's master and
        # workers, SQLite included) are read from /proc over the same seconds.
        figures["client_cpu_ms_per_request"] = figures.pop("cpu_ms_per_request")
        figures["server_cpu_ms_per_request"] = (
            round(1000 * server_cpu / len(latencies), 2) if latencies else 0.0
        )
        figures["cpu_ms_per_request"] = round(
            figures["client_cpu_ms_per_request"] + figures["server_cpu_ms_per_request"], 2
        )
    if statuses:
        figures["error_statuses"] = {str(code): n for code, n in statuses.items()}
    stdout.write(
        f"{endpoint:<13} {figures['requests']:>7,} requests  p50 {figures['p50_ms']:>7.1f} ms  "
        f"p99 {figures['p99_ms']:>7.1f} ms  {figures['per_s']:>7.1f}/s  "
        f"CPU {figures['cpu_ms_per_request']:.2f} ms/request  errors {errors}\n"
    )
    return figures
