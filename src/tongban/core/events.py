"""Outbox events: a service records its domain events in its own transaction; workers deliver them.

A service emits inside its ``transaction.atomic()``::

    event_emit("case.submitted", {"case": str(case.pk)}, subject_type="case", subject_id=case.pk)

The event and one delivery per subscriber registered for its name are written with the change that caused
them, so either all of it commits or none. On commit a Huey task delivers the event at once; a periodic task
(every minute) runs whatever else is due — retries, and events whose task was lost because the queue was
down. Each subscriber's delivery is retried on its own with exponential backoff, so one failing subscriber
never re-runs the others; after ``TONGBAN_EVENT_MAX_ATTEMPTS`` attempts it is dead, its traceback kept, and
an administrator can replay it from the admin (``event_replay``).

Subscribers live in each app's ``events.py``, which core imports at startup::

    @subscriber("case.submitted")
    def notify_applicant(event):  # receives the OutboxEvent
        ...

Delivery is at least once, so a handler MUST be idempotent: it may run again for the same event (a worker
stopped before it could record the delivery, an administrator replayed it). Key what it writes on
``event.id``, or check the state it is about to change. A handler runs in one transaction together with the
marking of its delivery (a savepoint of its own, in a transaction shared by up to ``GROUP_SIZE`` deliveries), so its
own database writes commit exactly when the delivery is recorded, and roll back alone when it fails; work
outside the database (a message, an HTTP call) has no such guarantee. On SQLite that transaction holds the
write lock: keep handlers short and hand slow outside work to a task of their own.
"""

import logging
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from tongban.core.audit import audit_record
from tongban.core.db import fast
from tongban.core.models import EventDelivery, OutboxEvent

logger = logging.getLogger(__name__)

Handler = Callable[[OutboxEvent], object]

# A claimed delivery is not claimed again for this long (TONGBAN_EVENT_CLAIM_LEASE_SECONDS, default 5 minutes), so a
# slow handler is not run twice at once; if its worker dies, the delivery becomes due again after it, and the next
# sweep (every minute, and when a worker starts) runs it.
MAX_RETRY_DELAY = timedelta(hours=6)
BATCH_SIZE = 100
GROUP_SIZE = 20  # claimed deliveries run in one transaction, each handler in a savepoint (see _run_group)
WORKER_LOST = "\n\nThe worker stopped during the last attempt; no attempts are left."

# event name -> {subscriber name: handler}
_registry: dict[str, dict[str, Handler]] = {}


def subscriber(event_name: str, *, name: str | None = None):
    """Register the decorated ``handler(event)`` for events called ``event_name``.

    ``name`` identifies the subscriber in delivery records; it defaults to the handler's module and
    qualified name, so keep it stable (or pass one) when moving or renaming a handler that has deliveries.
    """

    def decorator(handler: Handler) -> Handler:
        key = name or f"{handler.__module__}.{handler.__qualname__}"
        if len(key) > EventDelivery._meta.get_field("subscriber").max_length:
            raise ImproperlyConfigured(f"subscriber name {key!r} is too long")
        handlers = _registry.setdefault(event_name, {})
        if handlers.get(key, handler) is not handler:
            raise ImproperlyConfigured(f"another subscriber named {key!r} is registered for {event_name!r}")
        handlers[key] = handler
        return handler

    return decorator


def subscribers_for(event_name: str) -> dict[str, Handler]:
    """The handlers registered for ``event_name``, by subscriber name."""
    return dict(_registry.get(event_name, {}))


def events_emit(events) -> list[OutboxEvent]:
    """Record several events at once (one INSERT for the events, one for their deliveries).

    ``events`` are ``(name, payload, subject_type, subject_id)`` tuples; otherwise as ``event_emit``.
    """
    rows = [
        fast.new(
            OutboxEvent,
            name=name,
            payload=payload,
            subject_type=subject_type,
            subject_id="" if subject_id is None else str(subject_id),
        )
        for name, payload, subject_type, subject_id in events
    ]
    if not rows:
        return rows
    buffer = _buffer()
    if buffer is not None:
        buffer.extend(rows)
        return rows
    with transaction.atomic(savepoint=False):
        _write(rows)
    return rows


def event_emit(name: str, payload: dict, *, subject_type: str = "", subject_id: str = "") -> OutboxEvent:
    """Record an event and its deliveries in the caller's transaction; delivery is queued on commit."""
    return events_emit([(name, payload, subject_type, subject_id)])[0]


@contextmanager
def events_collected():
    """Write the events emitted inside the block together when it ends (inside the caller's transaction).

    A hot path that emits several events from several services (a case step: the process, the registries, the
    licences, the case) writes them in two statements instead of two per event. The events are not in the
    database before the block ends; a block left by an exception writes none (its transaction rolls back).
    Nested blocks join the outermost one.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise TransactionManagementError("events_collected() is used inside transaction.atomic()")
    if getattr(connection, "_tongban_events", None) is not None:
        yield
        return
    rows: list[OutboxEvent] = []
    connection._tongban_events = rows
    try:
        yield
    finally:
        connection._tongban_events = None
    _write(rows)


def _buffer() -> list | None:
    return getattr(transaction.get_connection(), "_tongban_events", None)


def _write(rows: list[OutboxEvent]) -> None:
    """Insert ``rows`` and a delivery per subscriber of each; queue their delivery when the transaction commits."""
    if not rows:
        return
    fast.insert(rows)  # one statement, its text built once per process
    deliveries = [
        fast.new(EventDelivery, event_id=event.pk, subscriber=key, next_attempt_at=event.created_at)
        for event in rows
        for key in _registry.get(event.name, {})
    ]
    if deliveries:
        fast.insert(deliveries)
        _queue_on_commit(dict.fromkeys(d.event_id for d in deliveries))


def _queue_on_commit(event_ids) -> None:
    """Queue the delivery of ``event_ids`` as one job when the transaction commits (a queued job costs a write to
    the queue's own store: a hot path collects its events, see ``events_collected``, to queue one job)."""
    transaction.on_commit(partial(_enqueue, [str(event_id) for event_id in event_ids]))


def event_deliver(*, event_id=None, limit: int = BATCH_SIZE) -> int:
    """Run the due deliveries of one event (or a list of events), or of all events; return how many were attempted.

    Safe with several workers at once: each delivery is claimed by one of them (see ``_claim``).
    """
    attempted = 0
    while True:
        batch = _claim(event_id=event_id, limit=limit)
        for start in range(0, len(batch), GROUP_SIZE):
            _run_group(batch[start : start + GROUP_SIZE])
        attempted += len(batch)
        if len(batch) < limit:
            return attempted


def event_replay(*, actor, delivery_ids) -> int:
    """Put dead deliveries back to pending with fresh attempts and queue them; return how many."""
    with transaction.atomic():
        dead = list(
            EventDelivery.objects.select_for_update(of=("self",))
            .select_related("event")
            .filter(pk__in=list(delivery_ids), status=EventDelivery.Status.DEAD)
        )
        for delivery in dead:
            audit_record(
                actor=actor,
                action="event.replay",
                subject_type="event_delivery",
                subject_id=str(delivery.pk),
                details={
                    "event": delivery.event.name,
                    "event_id": str(delivery.event_id),
                    "subscriber": delivery.subscriber,
                    "attempts": delivery.attempts,
                },
            )
        EventDelivery.objects.filter(pk__in=[d.pk for d in dead]).update(
            status=EventDelivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        _queue_on_commit({d.event_id for d in dead})
    return len(dead)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after failed attempt number ``attempts`` (1, 2, ...): doubling, capped."""
    delay = timedelta(seconds=settings.TONGBAN_EVENT_RETRY_SECONDS * 2 ** (attempts - 1))
    return min(delay, MAX_RETRY_DELAY)


def _enqueue(event_ids: list[str]) -> None:
    from tongban.core.tasks import deliver_event

    if not event_ids:
        return
    try:
        deliver_event(event_ids if len(event_ids) > 1 else event_ids[0])
    except Exception:
        # The periodic sweep delivers them anyway; a queue outage must not fail the committed request.
        logger.warning(
            "could not queue the delivery of events %s; the next sweep delivers them",
            event_ids,
            exc_info=True,
        )


def _claim(*, event_id, limit: int) -> list[EventDelivery]:
    """Take due pending deliveries for this worker: count the attempt and lease them for a while.

    On PostgreSQL, FOR UPDATE SKIP LOCKED lets concurrent workers take disjoint rows; on SQLite the
    transaction takes the database write lock at BEGIN (IMMEDIATE), so claims run one at a time. The four
    statements are hand-written (``core.db.fast``): a claim runs after every commit that emitted an event.
    """
    now = timezone.now()
    table = EventDelivery._meta.db_table
    where, params = (
        "status = %s AND next_attempt_at <= %s",
        [
            EventDelivery.Status.PENDING,
            fast.prep(EventDelivery, "next_attempt_at", now),
        ],
    )
    if isinstance(event_id, list | tuple):
        if not event_id:
            return []
        where += f" AND event_id IN ({', '.join(['%s'] * len(event_id))})"
        params += [fast.prep(EventDelivery, "event_id", e) for e in event_id]
    elif event_id is not None:
        where += " AND event_id = %s"
        params.append(fast.prep(EventDelivery, "event_id", event_id))
    skip = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    with transaction.atomic():
        ids = [
            row[0]
            for row in fast.fetchall(
                f"SELECT id FROM {table} WHERE {where} ORDER BY next_attempt_at LIMIT %s{skip}",  # noqa: S608
                [*params, limit],
            )
        ]
        if not ids:
            return []
        marks = ", ".join(["%s"] * len(ids))
        stamp = fast.prep(EventDelivery, "updated_at", now)
        # A delivery already at its last attempt is due again only when that attempt never finished.
        fast.execute(
            f"UPDATE {table} SET status = %s, last_error = last_error || %s, updated_at = %s "  # noqa: S608
            f"WHERE id IN ({marks}) AND attempts >= %s",
            [
                EventDelivery.Status.DEAD,
                WORKER_LOST,
                stamp,
                *ids,
                settings.TONGBAN_EVENT_MAX_ATTEMPTS,
            ],
        )
        lease = now + timedelta(seconds=settings.TONGBAN_EVENT_CLAIM_LEASE_SECONDS)
        fast.execute(
            f"UPDATE {table} SET attempts = attempts + 1, next_attempt_at = %s, updated_at = %s "  # noqa: S608
            f"WHERE id IN ({marks}) AND status = %s",
            [fast.prep(EventDelivery, "next_attempt_at", lease), stamp, *ids, EventDelivery.Status.PENDING],
        )
    # In the order they fell due (the model's default is newest first): subscribers see events as they happened.
    delivery_cols, event_cols = fast.columns(EventDelivery, "d"), fast.columns(OutboxEvent, "e")
    rows = fast.fetchall(
        f"SELECT {delivery_cols.sql}, {event_cols.sql} FROM {table} d "  # noqa: S608
        f"INNER JOIN {OutboxEvent._meta.db_table} e ON e.id = d.event_id "
        f"WHERE d.id IN ({marks}) AND d.status = %s ORDER BY e.created_at, d.created_at",
        [*ids, EventDelivery.Status.PENDING],
    )
    claimed = []
    for row in rows:
        delivery = fast.build(delivery_cols, row)
        delivery.event = fast.build(event_cols, row, delivery_cols.count)
        claimed.append(delivery)
    return claimed


def _handler_for(delivery: EventDelivery) -> Handler:
    handler = _registry.get(delivery.event.name, {}).get(delivery.subscriber)
    if handler is None:
        raise LookupError(
            f"no subscriber {delivery.subscriber!r} for {delivery.event.name!r} is registered in this process"
        )
    return handler


def _run_group(group: list[EventDelivery]) -> None:
    """Run claimed deliveries in one transaction, each handler in a savepoint of its own, and mark the ones that
    succeeded delivered in it: each handler's writes still commit exactly with the marking of its delivery, and a
    failing one rolls back alone (its failure recorded after). A transaction per delivery cost a write lock, a
    BEGIN and a COMMIT each — most handlers write little or nothing — and a simulated district day delivers some
    34,000. Should the group's transaction fail as a whole, each delivery is run again alone."""
    if len(group) == 1:
        _run(group[0])
        return
    failed = []
    try:
        with transaction.atomic():
            delivered = []
            for delivery in group:
                try:
                    with transaction.atomic():
                        _handler_for(delivery)(delivery.event)
                except Exception:
                    failed.append((delivery, traceback.format_exc()))
                else:
                    delivered.append(delivery.pk)
            _mark_delivered(delivered, timezone.now())
    except Exception:
        logger.warning(
            "a group of %d event deliveries failed as a whole; running them one by one", len(group)
        )
        for delivery in group:
            _run(delivery)
        return
    for delivery, error in failed:
        _fail(delivery, error)


def _run(delivery: EventDelivery) -> None:
    """Run one claimed delivery in a transaction of its own and record the outcome."""
    try:
        with transaction.atomic():
            _handler_for(delivery)(delivery.event)
            _mark_delivered([delivery.pk], timezone.now())
    except Exception:
        _fail(delivery, traceback.format_exc())


def _mark_delivered(pks, now) -> None:
    """``UPDATE`` the deliveries as delivered (hand-written, ``core.db.fast``: one statement a group)."""
    if not pks:
        return
    fast.execute(
        f"UPDATE {EventDelivery._meta.db_table} SET status = %s, delivered_at = %s, last_error = %s, "  # noqa: S608
        f"updated_at = %s WHERE id IN ({', '.join(['%s'] * len(pks))})",
        [
            EventDelivery.Status.DELIVERED,
            fast.prep(EventDelivery, "delivered_at", now),
            "",
            fast.prep(EventDelivery, "updated_at", now),
            *(fast.prep(EventDelivery, "id", pk) for pk in pks),
        ],
    )


def _fail(delivery: EventDelivery, error: str) -> None:
    now = timezone.now()
    if delivery.attempts >= settings.TONGBAN_EVENT_MAX_ATTEMPTS:
        changes = {"status": EventDelivery.Status.DEAD}
        logger.error(
            "event %s to %s is dead after %d attempts",
            delivery.event.name,
            delivery.subscriber,
            delivery.attempts,
        )
    else:
        changes = {"next_attempt_at": now + retry_delay(delivery.attempts)}
        logger.warning(
            "event %s to %s failed (attempt %d), retrying",
            delivery.event.name,
            delivery.subscriber,
            delivery.attempts,
        )
    EventDelivery.objects.filter(pk=delivery.pk).update(last_error=error, updated_at=now, **changes)
