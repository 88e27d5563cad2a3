"""The embedded SQLite's writers' queue (``core.db.base``) and writes put off to the next transaction
(``core.db.deferred``)."""

import time

import pytest
from django.db import connection, transaction

from tongban.core.db.deferred import defer, writes_deferred, writes_run
from tongban.core.models import OutboxEvent


def _write(name):
    return lambda: OutboxEvent.objects.create(name=name)


@pytest.mark.django_db
def test_writes_put_off_in_the_block_are_written_by_the_caller_in_order():
    with writes_deferred() as pending:
        assert defer(_write("first")) and defer(_write("second"))
        assert not OutboxEvent.objects.exists()
    assert not defer(_write("outside"))  # no block collecting: the caller writes at once
    with transaction.atomic():
        writes_run(pending)
    assert list(OutboxEvent.objects.order_by("created_at").values_list("name", flat=True)) == [
        "first",
        "second",
    ]


@pytest.mark.django_db
def test_a_transaction_opened_inside_the_block_writes_at_once():
    with writes_deferred() as pending, transaction.atomic():
        assert not defer(_write("inside"))
    assert pending == []


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="needs SQLite: the writers' queue is the SQLite backend's"
)
@pytest.mark.django_db(transaction=True)
def test_the_writers_queue_counts_each_write_transaction_and_how_long_it_held_the_lock():
    from tongban.core.db.base import writer_lock_stats

    before = writer_lock_stats()
    with transaction.atomic():
        OutboxEvent.objects.create(name="held")
        time.sleep(0.05)
    OutboxEvent.objects.count()  # a read outside a transaction takes no lock
    after = writer_lock_stats()
    assert after["transactions"] == before["transactions"] + 1
    assert after["held_s"] - before["held_s"] >= 0.05
    assert after["wait_s"] >= before["wait_s"]
