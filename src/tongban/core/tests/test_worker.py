"""``tongban worker``: a real worker process delivers events from each queue backend (SQLite, Redis).

The worker is started with this test run's database (``DATABASE_URL`` pointing at the test database)
and a queue of its own; this process enqueues into that queue when the emitting transaction commits.
"""

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from urllib.parse import quote

import pytest
import redis
from django.core.management import call_command
from django.db import connection, transaction
from huey.contrib.djhuey import HUEY
from huey.storage import RedisStorage, SqliteStorage

from tongban.conftest import require_service
from tongban.core.events import event_emit, events_collected
from tongban.core.models import EventDelivery, OutboxEvent
from tongban.core.tests.worker_subscribers import DONE, PING, PONG, SLOW

REDIS_URL = os.environ.get("TONGBAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
WAIT_SECONDS = 30


def worker_database_url():
    """The URL of the database this test run uses, for a worker process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{user}{password}@{db['HOST'] or ''}{port}/{db['NAME']}"


def redis_reachable(url):
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def worker(transactional_db, tmp_path, monkeypatch):
    """Start ``tongban worker`` on a given queue; it is always stopped (SIGTERM, then SIGKILL) at the end."""
    started = []

    def start(storage, queue_url, **extra_env):
        assert not HUEY.immediate
        # This process enqueues where the worker listens.
        monkeypatch.setattr(HUEY, "storage", storage)
        env = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "TONGBAN_QUEUE_URL": queue_url,
            "TONGBAN_QUEUE_NAME": storage.name,
            "TONGBAN_QUEUE_IMMEDIATE": "0",
            "TONGBAN_EVENT_MODULES": "tongban.core.tests.worker_subscribers",
            **extra_env,
        }
        log_path = tmp_path / "worker.log"
        log = log_path.open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "tongban.cli", "worker", "--max-delay", "0.5"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append((process, log))
        process.log_path = log_path
        return process

    yield start
    for process, log in started:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def ping_through(process):
    """Emit a ping in a committed transaction and wait (bounded) for the worker's pong in the database."""
    with transaction.atomic():
        ping = event_emit(PING, {"hello": "worker"})
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        pong = OutboxEvent.objects.filter(name=PONG, subject_id=str(ping.pk)).first()
        if pong is not None:
            break
        if process.poll() is not None:
            pytest.fail(f"the worker exited with {process.returncode}:\n{process.log_path.read_text()}")
        time.sleep(0.2)
    else:
        pytest.fail(f"no delivery within {WAIT_SECONDS} s; worker log:\n{process.log_path.read_text()}")

    assert pong.payload["pid"] == process.pid
    delivery = EventDelivery.objects.get(event=ping)
    assert (delivery.status, delivery.attempts) == (EventDelivery.Status.DELIVERED, 1)


@pytest.mark.worker
def test_a_worker_on_the_sqlite_queue_delivers_a_committed_event(worker, tmp_path):
    queue = tmp_path / "queue.sqlite3"
    storage = SqliteStorage(name=f"test-{uuid.uuid4().hex[:8]}", filename=str(queue))
    ping_through(worker(storage, f"sqlite:///{queue}"))


@pytest.mark.worker
def test_a_worker_on_the_redis_queue_delivers_a_committed_event(worker):
    require_service(redis_reachable(REDIS_URL), f"Redis is not reachable at {REDIS_URL}")
    storage = RedisStorage(name=f"tongban-test-{uuid.uuid4().hex[:8]}", url=REDIS_URL)
    try:
        ping_through(worker(storage, REDIS_URL))
    finally:
        storage.flush_all()


def test_the_worker_does_not_start_when_tasks_run_immediately():
    HUEY.immediate = True
    try:
        err = io.StringIO()
        call_command("worker", stderr=err)
    finally:
        HUEY.immediate = False
    assert "TONGBAN_QUEUE_IMMEDIATE" in err.getvalue()


LEASE_SECONDS = 2
SLOW_EVENTS = 24  # in 3 transactions of 8 (3 queued jobs), 0.2 s each


@pytest.mark.postgres
@pytest.mark.worker
def test_a_worker_killed_mid_delivery_leaves_every_event_delivered_exactly_once(worker, tmp_path):
    """kill -9 while deliveries run: the ones it had claimed are due again after their lease, the jobs still queued
    wait for the next worker; a new worker (which sweeps when it starts) delivers every one, none twice (the
    handler and the delivery's status commit together, so a killed attempt leaves nothing)."""
    queue = tmp_path / "queue.sqlite3"
    storage = SqliteStorage(name=f"test-{uuid.uuid4().hex[:8]}", filename=str(queue))
    lease = {"TONGBAN_EVENT_CLAIM_LEASE_SECONDS": str(LEASE_SECONDS)}
    first = worker(storage, f"sqlite:///{queue}", **lease)
    slow = []
    for _batch in range(3):
        with transaction.atomic(), events_collected():
            slow += [event_emit(SLOW, {"seconds": 0.2}) for _ in range(SLOW_EVENTS // 3)]
    deliveries = EventDelivery.objects.filter(event__in=slow)
    deadline = time.monotonic() + WAIT_SECONDS
    # The kill lands while a group is running: some delivered, some claimed (their attempt counted, committed with
    # the claim) and not yet delivered. A worker commits a group's deliveries together (core.events: groups of up to
    # 20), so waiting for a count of delivered ones could land between two groups, with none in hand.
    while not (
        deliveries.filter(status=EventDelivery.Status.DELIVERED).exists()
        and deliveries.filter(status=EventDelivery.Status.PENDING, attempts=1).exists()
    ):
        assert time.monotonic() < deadline, first.log_path.read_text()
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    delivered_before = deliveries.filter(status=EventDelivery.Status.DELIVERED).count()
    claimed_by_the_dead = deliveries.filter(status=EventDelivery.Status.PENDING, attempts=1).count()
    assert delivered_before < SLOW_EVENTS, "the worker finished before the kill: nothing was tested"

    time.sleep(LEASE_SECONDS)
    second = worker(storage, f"sqlite:///{queue}", **lease)
    while deliveries.filter(status=EventDelivery.Status.DELIVERED).count() < SLOW_EVENTS:
        assert second.poll() is None, second.log_path.read_text()
        assert time.monotonic() < deadline + WAIT_SECONDS, second.log_path.read_text()
        time.sleep(0.1)
    print(
        f"worker kill -9: {delivered_before} of {SLOW_EVENTS} delivered before the kill, {claimed_by_the_dead} "
        "claimed by the killed worker, all delivered by the next"
    )
    done = list(OutboxEvent.objects.filter(name=DONE).values_list("subject_id", flat=True))
    assert sorted(done) == sorted(str(event.pk) for event in slow)  # each handled to its end exactly once
    assert not deliveries.exclude(status=EventDelivery.Status.DELIVERED).exists()
    assert claimed_by_the_dead >= 1  # some deliveries really were cut mid-run and recovered
    assert set(deliveries.values_list("attempts", flat=True)) <= {1, 2}
