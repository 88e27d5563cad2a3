"""The test database's set-up recorder (``core/tests/replay.py``, behind the ``demo_city`` fixtures): a replay
writes back exactly the rows the set-up wrote, audit chain included; any other starting state, or another day,
runs the set-up for real. (The audit rows come back with their hashes, byte for byte: the chain verifies as the
set-up left it.)"""

import datetime as dt

import pytest
from django.db import connection, transaction

from tongban.core.audit import SYSTEM, audit_record
from tongban.core.tests import replay
from tongban.core.tests.replay import Replayer
from tongban.identity import services as identity
from tongban.identity.models import User

pytestmark = pytest.mark.django_db


class Undo(Exception):
    pass


def _rolled_back(block):
    """``block()`` in a savepoint rolled back at its end; the database's rows as they were before the rollback,
    and what ``block`` returned."""
    try:
        with transaction.atomic():
            result = block()
            state = replay._state()
            raise Undo
    except Undo:
        return state, result


def _rows(state: dict) -> dict:
    """Each table's rows as a sorted list (their representations: a row may mix None and numbers)."""
    return {table: sorted(map(repr, rows)) for table, rows in state.items()}


def _user(username):
    return identity.user_create(actor=SYSTEM, username=username, password="x-pass-2026", check_password=False)


def _set_up():
    """New rows (a user, audit entries, JSON, dates, booleans) and a row of the starting state changed in place."""
    user = _user("replay.new")
    User.objects.filter(pk=user.pk).update(
        is_active=False, date_joined=dt.datetime(2026, 1, 2, 3, 4, 5, 6, dt.UTC)
    )
    audit_record(
        actor=SYSTEM, action="test.replay", subject_type="user", subject_id=str(user.pk), details={"å": [1]}
    )
    User.objects.filter(username="replay.base").update(first_name="改")
    return user.pk


def test_a_replay_by_another_worker_writes_back_exactly_the_rows_of_the_set_up(tmp_path):
    _user("replay.base")
    first, other = Replayer(tmp_path), Replayer(tmp_path)  # two workers of one run share the directory
    built, built_pk = _rolled_back(lambda: first.run(("set-up", 1), _set_up))
    replayed, replayed_pk = _rolled_back(lambda: other.run(("set-up", 1), _set_up))
    assert (first.built, first.replayed, other.built, other.replayed) == (1, 0, 0, 1)
    assert replayed_pk == built_pk  # what the set-up returned, kept with the recording
    # Every table, row for row and byte for byte; not in the same physical order, which PostgreSQL does not keep
    # (a COPY's rows land where the heap has room: after the rolled-back set-up, sometimes in another order).
    assert _rows(replayed) == _rows(built)
    assert built["core_auditentry"] and built[User._meta.db_table]


def test_after_a_replay_new_rows_get_new_keys(tmp_path):
    replayer = Replayer(tmp_path)
    _user("replay.base")
    _rolled_back(lambda: replayer.run("set-up", _set_up))
    if connection.vendor == "postgresql":  # sequences are not rolled back: set one back to see it moved on
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, %s), 1)", [User._meta.db_table, "id"])
    with transaction.atomic():
        replayer.run("set-up", _set_up)
        assert replayer.replayed == 1
        assert _user("replay.after").pk > User.objects.get(username="replay.new").pk
        transaction.set_rollback(True)


def test_another_starting_state_or_another_day_runs_the_set_up_for_real(tmp_path, monkeypatch):
    replayer = Replayer(tmp_path)
    _user("replay.base")
    _rolled_back(lambda: replayer.run("set-up", _set_up))
    _user("replay.someone-else")
    _rolled_back(lambda: replayer.run("set-up", _set_up))
    assert (replayer.built, replayer.replayed) == (2, 0)
    _rolled_back(lambda: replayer.run("set-up", _set_up))
    assert (replayer.built, replayer.replayed) == (2, 1)
    monkeypatch.setattr(replay.timezone, "localdate", lambda: dt.date(2000, 1, 1))
    _rolled_back(lambda: replayer.run("set-up", _set_up))
    assert (replayer.built, replayer.replayed) == (3, 1)
