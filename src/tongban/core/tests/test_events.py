"""Outbox events: recording in the caller's transaction, delivery, retries, dead deliveries and replay.

Delivery runs synchronously here (``event_deliver`` called directly, or Huey in immediate mode);
``test_worker.py`` runs it through a real worker process.
"""

import json
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from tongban.core import events
from tongban.core.events import event_deliver, event_emit, event_replay, retry_delay, subscriber
from tongban.core.models import EventDelivery, OutboxEvent

pytestmark = pytest.mark.django_db

Status = EventDelivery.Status


@pytest.fixture(autouse=True)
def registry(monkeypatch):
    """Each test registers its own subscribers on an empty registry (the apps' real subscribers, e.g. messaging's
    on ``case.*``, are not part of these tests)."""
    monkeypatch.setattr(events, "_registry", {})


@pytest.fixture
def admin_client(client, admin_user):
    """A superuser in the admin, past the second factor the admin requires (a confirmed TOTP device verified
    in the session, as identity's ``login_verified`` does; core's tests import no higher app)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(admin_user)
    device = TOTPDevice.objects.create(user=admin_user, name="default", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def huey_immediate():
    """Huey runs a task as soon as it is enqueued, in this process."""
    HUEY.immediate = True
    yield
    HUEY.immediate = False


class Recorder:
    """A subscriber that records the events it received and fails while ``failing`` is set."""

    def __init__(self, failing=False):
        self.events = []
        self.failing = failing

    def __call__(self, event):
        if self.failing:
            raise RuntimeError(f"boom on {event.name}")
        self.events.append(event)


def register(event_name, name, handler):
    return subscriber(event_name, name=name)(handler)


def make_due(*deliveries):
    """Let the clock move on: the deliveries' next attempt is due now."""
    EventDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_emit_records_the_event_and_one_pending_delivery_per_subscriber():
    register("case.submitted", "notify", Recorder())
    register("case.submitted", "index", Recorder())
    register("case.closed", "other", Recorder())

    event = event_emit("case.submitted", {"case": "C-1", "days": 5}, subject_type="case", subject_id=42)

    event.refresh_from_db()
    assert (event.name, event.payload, event.subject_type, event.subject_id) == (
        "case.submitted",
        {"case": "C-1", "days": 5},
        "case",
        "42",
    )
    deliveries = EventDelivery.objects.filter(event=event)
    assert sorted(deliveries.values_list("subscriber", "status", "attempts")) == [
        ("index", Status.PENDING, 0),
        ("notify", Status.PENDING, 0),
    ]


def test_an_event_without_subscribers_is_recorded_and_has_no_deliveries(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        event = event_emit("nobody.listens", {})
    assert OutboxEvent.objects.filter(pk=event.pk).exists()
    assert not EventDelivery.objects.exists()
    assert callbacks == []


def test_the_event_rolls_back_with_the_callers_transaction():
    register("case.submitted", "notify", Recorder())
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        event_emit("case.submitted", {})
        1 / 0  # noqa: B018  (the service fails after emitting)
    assert not OutboxEvent.objects.exists()
    assert not EventDelivery.objects.exists()


def test_delivery_is_queued_only_when_the_transaction_commits(
    huey_immediate, django_capture_on_commit_callbacks
):
    recorder = register("case.submitted", "notify", Recorder())
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        event = event_emit("case.submitted", {"case": "C-1"})
        assert recorder.events == []
    assert len(callbacks) == 1
    assert [e.pk for e in recorder.events] == [event.pk]
    delivery = EventDelivery.objects.get(event=event)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (Status.DELIVERED, 1, "")
    assert delivery.delivered_at is not None


def test_when_the_queue_is_down_the_periodic_sweep_delivers(monkeypatch, django_capture_on_commit_callbacks):
    from tongban.core import tasks

    def queue_down(event_id):
        raise ConnectionError("queue unreachable")

    monkeypatch.setattr(tasks, "deliver_event", queue_down)
    recorder = register("case.submitted", "notify", Recorder())
    with django_capture_on_commit_callbacks(execute=True):
        event = event_emit("case.submitted", {})  # the commit succeeds although the enqueue failed
    assert EventDelivery.objects.get(event=event).status == Status.PENDING

    tasks.deliver_due_events.call_local()
    assert EventDelivery.objects.get(event=event).status == Status.DELIVERED
    assert [e.pk for e in recorder.events] == [event.pk]


def test_a_failing_subscriber_is_retried_alone_with_growing_backoff(settings):
    settings.TONGBAN_EVENT_RETRY_SECONDS = 30
    good = register("case.submitted", "good", Recorder())
    bad = register("case.submitted", "bad", Recorder(failing=True))
    event = event_emit("case.submitted", {})

    before = timezone.now()
    assert event_deliver() == 2
    failed = EventDelivery.objects.get(event=event, subscriber="bad")
    assert (failed.status, failed.attempts) == (Status.PENDING, 1)
    assert "RuntimeError: boom on case.submitted" in failed.last_error
    assert "Traceback" in failed.last_error
    assert before + timedelta(seconds=30) <= failed.next_attempt_at <= timezone.now() + timedelta(seconds=30)
    assert EventDelivery.objects.get(event=event, subscriber="good").status == Status.DELIVERED

    assert event_deliver() == 0  # nothing is due before the backoff has passed

    make_due(failed)
    bad.failing = False
    assert event_deliver() == 1
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == (Status.DELIVERED, 2, "")
    assert len(good.events) == 1
    assert len(bad.events) == 1


def test_retry_delay_doubles_and_is_capped(settings):
    settings.TONGBAN_EVENT_RETRY_SECONDS = 30
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(40) == events.MAX_RETRY_DELAY


def test_a_subscriber_that_keeps_failing_becomes_dead_with_its_error(settings):
    settings.TONGBAN_EVENT_MAX_ATTEMPTS = 3
    register("case.submitted", "bad", Recorder(failing=True))
    event = event_emit("case.submitted", {})
    delivery = EventDelivery.objects.get(event=event)

    for _ in range(5):
        event_deliver()
        make_due(delivery)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.DEAD, 3)
    assert "RuntimeError: boom on case.submitted" in delivery.last_error
    assert events.WORKER_LOST.strip() not in delivery.last_error


def test_a_handlers_database_writes_roll_back_when_it_fails():
    def emits_then_fails(event):
        event_emit("side.effect", {})
        raise RuntimeError("after writing")

    register("case.submitted", "half-done", emits_then_fails)
    event_emit("case.submitted", {})
    event_deliver()
    assert not OutboxEvent.objects.filter(name="side.effect").exists()


def test_a_claimed_delivery_is_not_claimed_again_while_its_lease_runs():
    register("case.submitted", "notify", Recorder())
    event_emit("case.submitted", {})
    assert len(events._claim(event_id=None, limit=10)) == 1
    assert events._claim(event_id=None, limit=10) == []


def test_a_delivery_whose_worker_died_on_the_last_attempt_becomes_dead(settings):
    settings.TONGBAN_EVENT_MAX_ATTEMPTS = 2
    recorder = register("case.submitted", "notify", Recorder())
    event = event_emit("case.submitted", {})
    # Two attempts started and the lease of the last one ran out without an outcome.
    EventDelivery.objects.filter(event=event).update(attempts=2, last_error="earlier error")
    make_due(*EventDelivery.objects.filter(event=event))

    assert event_deliver() == 0
    delivery = EventDelivery.objects.get(event=event)
    assert delivery.status == Status.DEAD
    assert delivery.last_error.startswith("earlier error")
    assert "worker stopped" in delivery.last_error
    assert recorder.events == []


def test_a_subscriber_unknown_to_the_worker_is_a_failed_attempt():
    register("case.submitted", "gone", Recorder())
    event = event_emit("case.submitted", {})
    del events._registry["case.submitted"]["gone"]
    event_deliver()
    delivery = EventDelivery.objects.get(event=event)
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 1)
    assert "no subscriber 'gone'" in delivery.last_error


def test_subscriber_names_default_to_module_and_qualified_name():
    def handler(event):
        pass

    subscriber("case.submitted")(handler)
    assert f"{__name__}.{handler.__qualname__}" in events.subscribers_for("case.submitted")


def test_two_handlers_cannot_share_a_subscriber_name():
    register("case.submitted", "notify", Recorder())
    register("case.submitted", "other", Recorder())
    with pytest.raises(ImproperlyConfigured, match="notify"):
        register("case.submitted", "notify", Recorder())


def dead_delivery(settings):
    settings.TONGBAN_EVENT_MAX_ATTEMPTS = 1
    recorder = register("case.submitted", "flaky", Recorder(failing=True))
    event = event_emit("case.submitted", {"case": "C-9"})
    event_deliver()
    delivery = EventDelivery.objects.get(event=event)
    assert delivery.status == Status.DEAD
    return recorder, delivery


def test_replay_puts_a_dead_delivery_back_and_queues_it(
    settings, huey_immediate, django_capture_on_commit_callbacks
):
    from tongban.core.audit import SYSTEM
    from tongban.core.models import AuditEntry

    recorder, delivery = dead_delivery(settings)
    recorder.failing = False
    with django_capture_on_commit_callbacks(execute=True):
        assert event_replay(actor=SYSTEM, delivery_ids=[delivery.pk]) == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.DELIVERED, 1)
    assert len(recorder.events) == 1
    entry = AuditEntry.objects.get(action="event.replay")
    assert entry.subject_id == str(delivery.pk)
    assert json.loads(entry.details)["subscriber"] == "flaky"


def test_replay_leaves_deliveries_that_are_not_dead_alone():
    from tongban.core.audit import SYSTEM

    register("case.submitted", "notify", Recorder())
    event = event_emit("case.submitted", {})
    pending = EventDelivery.objects.get(event=event)
    assert event_replay(actor=SYSTEM, delivery_ids=[pending.pk]) == 0
    pending.refresh_from_db()
    assert (pending.status, pending.attempts) == (Status.PENDING, 0)


def test_the_admin_lists_dead_deliveries_with_their_error(settings, admin_client):
    _, delivery = dead_delivery(settings)
    url = reverse("admin:core_eventdelivery_changelist")
    response = admin_client.get(url, {"status__exact": "dead"})
    assert response.status_code == 200
    assert "RuntimeError: boom on case.submitted" in response.content.decode()

    detail = admin_client.get(reverse("admin:core_eventdelivery_change", args=[delivery.pk]))
    assert "Traceback" in detail.content.decode()
    event_page = admin_client.get(reverse("admin:core_outboxevent_change", args=[delivery.event_id]))
    assert event_page.status_code == 200
    assert "flaky" in event_page.content.decode()


def test_the_admin_replay_action_queues_dead_deliveries_again(settings, admin_client):
    _, delivery = dead_delivery(settings)
    admin_client.cookies["django_language"] = "en"
    response = admin_client.post(
        reverse("admin:core_eventdelivery_changelist"),
        {"action": "replay", "_selected_action": [str(delivery.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 dead delivery was queued again" in response.content.decode()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_skip_deliveries_another_worker_has_locked():
    register("case.submitted", "notify", Recorder())
    locked = EventDelivery.objects.get(event=event_emit("case.submitted", {}))
    free = EventDelivery.objects.get(event=event_emit("case.submitted", {}))
    holding, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                list(EventDelivery.objects.select_for_update().filter(pk=locked.pk))
                holding.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        assert [d.pk for d in events._claim(event_id=None, limit=10)] == [free.pk]
    finally:
        release.set()
        thread.join(timeout=10)


def test_several_events_are_recorded_at_once_with_their_deliveries(db):
    from tongban.core.events import events_emit, subscriber
    from tongban.core.models import EventDelivery, OutboxEvent

    @subscriber("test.batched", name="test-batched-listener")
    def _listener(event):
        pass

    try:
        rows = events_emit(
            [("test.batched", {"n": 1}, "thing", "a"), ("test.unheard", {"n": 2}, "thing", "b")]
        )
        assert [r.name for r in rows] == ["test.batched", "test.unheard"]
        assert OutboxEvent.objects.filter(name__in=["test.batched", "test.unheard"]).count() == 2
        assert list(EventDelivery.objects.values_list("event__name", "subscriber")) == [
            ("test.batched", "test-batched-listener")
        ]
    finally:
        from tongban.core import events

        events._registry.get("test.batched", {}).pop("test-batched-listener", None)


def test_deliveries_run_in_groups_and_a_failing_handler_rolls_back_alone():
    """Claimed deliveries share one transaction, each handler in a savepoint: the good ones are delivered with
    their writes, the failing one's writes roll back and it is retried later."""
    from unittest import mock

    written = []

    def good(event):
        OutboxEvent.objects.create(name="side.effect", payload={"of": str(event.pk)})
        written.append(event.pk)

    def bad(event):
        OutboxEvent.objects.create(name="side.effect", payload={"of": str(event.pk), "bad": True})
        raise RuntimeError("boom")

    register("thing.happened", "good", good)
    register("thing.happened", "bad", bad)
    with transaction.atomic():
        emitted = [event_emit("thing.happened", {"n": n}) for n in range(3)]
    with mock.patch.object(events, "_run", wraps=events._run) as alone:
        assert event_deliver() == 6
    assert alone.call_count == 0  # the group was not broken up
    assert len(written) == 3
    side = OutboxEvent.objects.filter(name="side.effect")
    assert side.count() == 3 and not side.filter(payload__bad=True).exists()
    deliveries = EventDelivery.objects.filter(event__in=emitted)
    assert deliveries.filter(subscriber="good", status=Status.DELIVERED).count() == 3
    failed = deliveries.filter(subscriber="bad")
    assert failed.filter(status=Status.PENDING, attempts=1).count() == 3
    assert all("boom" in d.last_error for d in failed)
