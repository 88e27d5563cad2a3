"""The SQLite audit append: one statement reads the chain's head, hashes and inserts the next entry."""

import pytest
from django.db import connection, transaction

from tongban.core.audit import SYSTEM, audit_record, audit_verify, compute_entry_hash

pytestmark = pytest.mark.django_db


@pytest.fixture
def sqlite_statements():
    if connection.vendor != "sqlite":
        pytest.skip("needs SQLite: the PostgreSQL append is its own one-statement function")
    connection.ensure_connection()
    seen = []
    connection.connection.set_trace_callback(seen.append)
    yield seen
    connection.connection.set_trace_callback(None)


def test_sqlite_append_is_one_statement_and_continues_the_chain(sqlite_statements):
    with transaction.atomic():
        first = audit_record(actor=SYSTEM, action="test.first", details={"n": 1})
        sqlite_statements.clear()
        second = audit_record(actor=SYSTEM, action="test.second", details={"n": 2})
        statements = list(sqlite_statements)
    assert len(statements) == 1, statements
    assert (second.chain, second.seq, second.prev_hash) == (first.chain, first.seq + 1, first.hash)
    assert second.hash == compute_entry_hash(second)
    assert audit_verify().ok


@pytest.mark.django_db(transaction=True)
def test_sqlite_append_on_a_new_connection_registers_its_hash_function():
    if connection.vendor != "sqlite":
        pytest.skip("needs SQLite: the PostgreSQL append is its own one-statement function")
    entry = audit_record(actor=SYSTEM, action="test.before")
    connection.close()  # the next append opens a connection without the function
    again = audit_record(actor=SYSTEM, action="test.after")
    assert again.hash == compute_entry_hash(again)
    assert entry.hash == compute_entry_hash(entry)
