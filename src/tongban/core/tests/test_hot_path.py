"""The mechanisms that keep a case step to a few statements: events collected per transaction (one queued job),
services joining an all-or-nothing block without savepoints, and reference data kept per process."""

import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from tongban.core import events, refcache
from tongban.core.events import event_emit, events_collected
from tongban.core.models import EventDelivery, OutboxEvent
from tongban.core.transactions import all_or_nothing, joins_without_savepoint, service_atomic

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def registry(monkeypatch):
    monkeypatch.setattr(events, "_registry", {"a.happened": {"one": lambda e: None, "two": lambda e: None}})


def test_collected_events_are_written_together_when_the_block_ends(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        with CaptureQueriesContext(connection) as queries, events_collected():
            first = event_emit("a.happened", {"n": 1})
            event_emit("a.happened", {"n": 2})
            event_emit("b.happened", {"n": 3})  # no subscriber
            assert not OutboxEvent.objects.filter(pk=first.pk).exists()  # not yet written
            inside = len(queries)
        assert len(queries) - inside == 2  # one INSERT of the events, one of their deliveries
    assert OutboxEvent.objects.count() == 3
    assert EventDelivery.objects.count() == 4
    assert len(callbacks) == 1  # one queued job for the transaction's events


def test_a_block_left_by_an_error_writes_no_event():
    with pytest.raises(ValueError), transaction.atomic(), events_collected():
        event_emit("a.happened", {})
        raise ValueError("refused")
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_collecting_needs_a_transaction():
    with pytest.raises(TransactionManagementError), events_collected():
        pass


def test_one_queued_job_delivers_all_the_events_of_a_transaction(
    monkeypatch, django_capture_on_commit_callbacks
):
    from tongban.core import tasks

    queued = []
    monkeypatch.setattr(tasks, "deliver_event", queued.append)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic(), events_collected():
        emitted = [event_emit("a.happened", {"n": n}).pk for n in range(3)]
    assert queued == [[str(pk) for pk in emitted]]
    assert events.event_deliver(event_id=queued[0]) == 6
    assert set(EventDelivery.objects.values_list("status", flat=True)) == {EventDelivery.Status.DELIVERED}


@service_atomic
def _write_then_refuse(*, refuse: bool):
    OutboxEvent.objects.create(name="written")
    if refuse:
        raise ValidationError("refused")


def test_a_service_alone_or_in_a_transaction_keeps_its_savepoint():
    with transaction.atomic():
        with pytest.raises(ValidationError):
            _write_then_refuse(refuse=True)
        _write_then_refuse(refuse=False)  # the caller went on after the refusal
    assert list(OutboxEvent.objects.values_list("name", flat=True)) == ["written"]


def test_inside_all_or_nothing_a_service_opens_no_savepoint_and_a_refusal_fails_the_whole():
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries, all_or_nothing():
            assert joins_without_savepoint()
            _write_then_refuse(refuse=False)
        assert not any("SAVEPOINT" in q["sql"] for q in queries.captured_queries)
        assert not joins_without_savepoint()  # restored when the block ends
    with pytest.raises(ValidationError), transaction.atomic(), all_or_nothing():
        _write_then_refuse(refuse=False)
        _write_then_refuse(refuse=True)
    assert OutboxEvent.objects.count() == 1  # the second transaction wrote nothing


def test_reference_answers_are_kept_forgotten_on_save_and_expire(monkeypatch):
    calls = []

    @refcache.reference_cached(OutboxEvent, ttl=60)  # any model will do: reference data is read the same way
    def payload_of(name):
        calls.append(name)
        return OutboxEvent.objects.filter(name=name).values_list("payload", flat=True).first()

    row = OutboxEvent.objects.create(name="ref", payload={"v": 1})
    assert payload_of("ref") == payload_of("ref") == {"v": 1}
    assert calls == ["ref"]
    assert payload_of("nowhere") is None and payload_of("nowhere") is None
    assert calls.count("nowhere") == 2  # a missing row is asked again
    row.payload = {"v": 2}
    row.save()
    assert payload_of("ref") == {"v": 2}  # a save in this process is seen at once
    OutboxEvent.objects.filter(pk=row.pk).update(payload={"v": 3})  # no signal: kept until it expires
    assert payload_of("ref") == {"v": 2}
    later = time.monotonic() + 61
    monkeypatch.setattr(refcache.time, "monotonic", lambda: later)
    assert payload_of("ref") == {"v": 3}


def _entry_count():
    from tongban.core.models import AuditEntry

    return AuditEntry.objects.count()


def test_collected_audit_entries_are_one_batch_that_verifies():
    from tongban.core.audit import SYSTEM, audit_record, audit_verify, audits_collected
    from tongban.core.models import AuditEntry

    before = _entry_count()
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries, audits_collected():
            unsaved = [
                audit_record(actor=SYSTEM, action="test.collected", details={"n": n}) for n in range(4)
            ]
            assert all(entry.pk is None for entry in unsaved)
            inside = len(queries)
        written = [q["sql"] for q in queries.captured_queries[inside:]]
    assert _entry_count() == before + 4
    if connection.vendor == "sqlite":
        assert len(written) == 2  # the chain's head and one INSERT of the four
    rows = list(AuditEntry.objects.filter(action="test.collected").order_by("id"))
    assert [r.details for r in rows] == ['{"n":0}', '{"n":1}', '{"n":2}', '{"n":3}']
    assert [r.at for r in rows] == [e.at for e in unsaved]  # each keeps the time it was recorded at
    assert audit_verify(workers=1).ok


def test_a_few_collected_entries_go_one_by_one_and_an_error_writes_none():
    from tongban.core.audit import SYSTEM, audit_record, audits_collected

    before = _entry_count()
    with transaction.atomic(), audits_collected():
        audit_record(actor=SYSTEM, action="test.one")
    assert _entry_count() == before + 1
    with pytest.raises(ValueError), transaction.atomic(), audits_collected():
        audit_record(actor=SYSTEM, action="test.lost")
        raise ValueError("refused")
    assert _entry_count() == before + 1
