"""``core.db.fast``: hand-written statements that read and write exactly what the ORM would."""

import datetime as dt
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tongban.core.db import fast
from tongban.core.models import EventDelivery, OutboxEvent

pytestmark = pytest.mark.django_db


def _event(**overrides):
    values = {"name": "a.happened", "payload": {"n": 1, "when": "2026-12-06"}, "subject_type": "case"}
    values.update(overrides)
    return OutboxEvent(**values)


def test_insert_writes_the_rows_the_orm_reads_back_in_one_statement():
    events = [_event(subject_id=str(n), payload={"n": n, "nested": [1, "二"]}) for n in range(3)]
    with CaptureQueriesContext(connection) as queries:
        fast.insert(events)
    assert len(queries) == 1
    assert all(not e._state.adding for e in events)
    stored = {e.pk: e for e in OutboxEvent.objects.filter(pk__in=[e.pk for e in events])}
    for event in events:
        again = stored[event.pk]
        assert (again.name, again.payload, again.subject_id) == (event.name, event.payload, event.subject_id)
        assert again.created_at == event.created_at


def test_insert_runs_pre_save_like_save_does():
    event = fast.insert([_event()])[0]
    before = timezone.now()
    delivery = EventDelivery(event=event, subscriber="one", created_at=before - dt.timedelta(days=3))
    fast.insert([delivery])
    stored = EventDelivery.objects.get(pk=delivery.pk)
    assert stored.created_at >= before  # auto_now_add, as Model.save() sets it
    assert stored.updated_at >= before
    assert stored.event_id == event.pk and stored.status == EventDelivery.Status.PENDING


def test_first_and_build_give_the_instance_the_orm_gives():
    event = fast.insert([_event(payload={"a": [1, 2], "b": None})])[0]
    found = fast.first(OutboxEvent, "t.id = %s", [fast.prep(OutboxEvent, "id", event.pk)])
    orm = OutboxEvent.objects.get(pk=event.pk)
    for field in OutboxEvent._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(orm, field.attname), field.name
    assert isinstance(found.pk, uuid.UUID)
    assert not found._state.adding
    assert fast.first(OutboxEvent, "t.id = %s", [fast.prep(OutboxEvent, "id", uuid.uuid4())]) is None


def test_convert_turns_a_raw_column_into_its_python_value():
    event = fast.insert([_event()])[0]
    (raw,) = fast.fetchone(
        "SELECT id FROM core_outboxevent WHERE id = %s", [fast.prep(OutboxEvent, "id", event.pk)]
    )
    assert fast.convert(OutboxEvent, "id", raw) == event.pk


def test_save_updates_every_column_or_inserts_a_row_that_is_gone():
    event = fast.insert([_event()])[0]
    delivery = fast.insert([EventDelivery(event=event, subscriber="one")])[0]
    delivery.status, delivery.attempts, delivery.last_error = EventDelivery.Status.DEAD, 5, "boom"
    with CaptureQueriesContext(connection) as queries:
        fast.save(delivery)
    assert len(queries) == 1
    stored = EventDelivery.objects.get(pk=delivery.pk)
    assert (stored.status, stored.attempts, stored.last_error) == ("dead", 5, "boom")
    EventDelivery.objects.filter(pk=delivery.pk).delete()
    fast.save(delivery)  # as Model.save(): the UPDATE found no row, so the row is inserted again
    assert EventDelivery.objects.filter(pk=delivery.pk, status="dead").exists()


def test_save_leaves_a_model_with_signal_receivers_to_django():
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_save.connect(receiver, sender=OutboxEvent)
    try:
        event = _event()
        fast.save(event)
    finally:
        post_save.disconnect(receiver, sender=OutboxEvent)
    assert seen == [event.pk]


def test_a_refused_insert_is_djangos_integrity_error():
    event = fast.insert([_event()])[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        fast.insert([_event(id=event.pk)])


def _traced():
    """The statements the sqlite3 driver runs from now on (its trace callback), and a function to stop tracing."""
    seen = []
    connection.ensure_connection()
    connection.connection.set_trace_callback(seen.append)
    return seen, lambda: connection.connection.set_trace_callback(None)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="needs SQLite: the direct path is SQLite's")
def test_on_sqlite_the_statements_skip_djangos_cursor_unless_something_watches_it():
    event = fast.insert([_event()])[0]
    sql, params = "SELECT name FROM core_outboxevent WHERE id = %s", [fast.prep(OutboxEvent, "id", event.pk)]
    seen, stop = _traced()
    try:
        with CaptureQueriesContext(connection) as watched:
            assert fast.fetchone(sql, params) == ("a.happened",)  # logged: through Django's cursor
        assert len(watched) == 1
        logged = len(connection.queries_log)
        assert fast.fetchall(sql, params) == [("a.happened",)]  # nobody watching: straight to the driver
        assert fast.execute("UPDATE core_outboxevent SET name = %s WHERE id = %s", ["b", params[0]]) == 1
        assert len(connection.queries_log) == logged
    finally:
        stop()
    ran = [
        s.split()[0] for s in seen if not s.startswith("SELECT QUOTE(")
    ]  # (the log's rendering of the SQL)
    assert ran == ["SELECT", "SELECT", "UPDATE"]  # the driver ran all three
    assert OutboxEvent.objects.get(pk=event.pk).name == "b"


def test_a_refused_statement_on_the_direct_path_is_djangos_error_and_breaks_the_atomic_block():
    from django.db.transaction import TransactionManagementError

    event = fast.insert([_event()])[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        fast.insert([_event(id=event.pk)])
    with pytest.raises(TransactionManagementError), transaction.atomic():
        with pytest.raises(IntegrityError), transaction.atomic(savepoint=False):
            fast.insert([_event(id=event.pk)])
        fast.fetchone("SELECT 1")  # as through Django's cursor: no statement after an error in the block


def test_new_builds_the_instance_model_init_builds():
    event = fast.insert([_event()])[0]
    values = {"subscriber": "one", "next_attempt_at": event.created_at}
    made, orm = (
        fast.new(EventDelivery, event_id=event.pk, **values),
        EventDelivery(event_id=event.pk, **values),
    )
    for field in EventDelivery._meta.concrete_fields:
        if field.primary_key:
            assert isinstance(made.pk, uuid.UUID) and made.pk != orm.pk  # each its own default
            continue
        assert getattr(made, field.attname) == getattr(orm, field.attname), field.name
    assert made._state.adding and made._state.db is None
    linked = fast.new(
        EventDelivery, event=event, subscriber="two"
    )  # a related instance, through its descriptor
    assert linked.event_id == event.pk and linked.event is event
    fast.insert([made, linked])
    assert EventDelivery.objects.filter(event=event).count() == 2


# --- compiled_rows: the ORM's statement compiled once per shape, the parameters bound by hand -----------------------


def _events_query(name):
    return (
        OutboxEvent.objects.filter(name=name).order_by("created_at").values_list("id", "name", "created_at")
    )


def test_compiled_rows_give_the_orm_s_rows_and_compile_once_per_key(settings):
    settings.TONGBAN_FAST_SQL_CHECK = False
    events = fast.insert([_event(name=f"n.{n}") for n in range(3)])
    key = ("test.events", uuid.uuid4().hex)
    for event in events:
        rows = fast.compiled_rows(key, lambda e=event: _events_query(e.name), [event.name])
        assert [tuple(r) for r in rows] == list(_events_query(event.name))
        assert rows[0][2].tzinfo is not None  # a datetime, converted as the ORM does

    calls = []

    def counted():
        calls.append(1)
        return _events_query("n.1")

    fast.compiled_rows(key, counted, ["n.1"])
    assert calls == []  # the key's statement was kept


def test_compiled_rows_refuse_parameters_that_differ_from_the_orm_s(settings):
    fast.insert([_event(name="n.1"), _event(name="n.2")])
    settings.TONGBAN_FAST_SQL_CHECK = True
    with pytest.raises(fast.StatementMismatch):
        fast.compiled_rows(("test.events", uuid.uuid4().hex), lambda: _events_query("n.1"), ["n.2"])
    # Without the check, a difference on a new key runs the ORM's own statement and parameters, and keeps nothing.
    settings.TONGBAN_FAST_SQL_CHECK = False
    key = ("test.events", uuid.uuid4().hex)
    rows = fast.compiled_rows(key, lambda: _events_query("n.1"), ["n.2"])
    assert [r[1] for r in rows] == ["n.1"]
    assert (key, connection.vendor) not in fast._compiled


def test_records_stand_for_instances_where_a_keyset_reads_them():
    from tongban.core.keyset import Keyset

    event = fast.insert([_event()])[0]
    names = ("id", "name", "created_at")
    (record,) = fast.records(OutboxEvent, names, OutboxEvent.objects.filter(pk=event.pk).values_list(*names))
    assert record.pk == event.pk and record.name == event.name
    keyset = Keyset(fields=("created_at", "id"))
    assert keyset.values_of(record) == keyset.values_of(event)


def _samples(field):
    """Values of the kinds the hot path gives a field, and a few it does not (which must go the long way)."""
    now = timezone.now()
    shanghai = dt.timezone(dt.timedelta(hours=8))
    return [
        None,
        "",
        "text 文本",
        "00000000-0000-0000-0000-00000000000a",
        0,
        7,
        -3,
        True,
        False,
        uuid.uuid4(),
        now,
        now.replace(microsecond=0),
        now.astimezone(shanghai),
        dt.date(2026, 12, 6),
        {"a": [1, "二"]},
        [1, 2],
    ]


@pytest.mark.filterwarnings(
    "ignore::RuntimeWarning"
)  # a date given to a DateTimeField: Django warns, both roads
def test_the_short_road_prepares_every_field_of_every_model_as_django_does():
    """``fast.preparer`` gives what ``get_db_prep_save`` gives, for every concrete field of every model and every
    sample value (or raises the same kind of error, when Django refuses the value)."""
    from django.apps import apps

    checked = short = 0
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            prepare = fast.preparer(field, connection)
            kinds = fast._fast_types(field, connection)
            for value in _samples(field):
                try:
                    expected = field.get_db_prep_save(value, connection)
                except Exception as exc:  # the short road must refuse it the same way
                    with pytest.raises(type(exc)):
                        prepare(value, connection)
                    continue
                got = prepare(value, connection)
                assert type(got) is type(expected), (model, field.name, value)
                # psycopg's wrappers (Jsonb ...) compare by identity: compare what they wrap
                assert getattr(got, "obj", got) == getattr(expected, "obj", expected), (
                    model,
                    field.name,
                    value,
                )
                checked += 1
                short += type(value) in kinds
    assert checked > 1000
    if connection.vendor != "sqlite":
        assert (
            short == 0
        )  # elsewhere every value goes the long way (psycopg adapts integers, UUIDs ... itself)
    else:
        assert short > 500  # the short road is taken (text, integers, UUIDs, datetimes in UTC, dates, NULLs)


# --- the short roads of SQLite's column conversions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None,
        "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "0F1E2D3C4B5A69788796A5B4C3D2E1F0",
        "ffffffffffffffffffffffffffffffff",
        "00000000000000000000000000000000",
        "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        "urn:uuid:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        "{0f1e2d3c4b5a69788796a5b4c3d2e1f0}",
        "zf1e2d3c4b5a69788796a5b4c3d2e1f0",
        " f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "-f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "0f1e2d3c4b5a69788796a5b4c3d2e1f",
    ],
)
def test_the_uuid_short_road_gives_the_backend_s_answer_or_its_error(value):
    if connection.vendor != "sqlite":
        pytest.skip("needs SQLite: the short roads replace the SQLite backend's converters only")
    field = OutboxEvent._meta.get_field("id")
    col = field.get_col("t")
    try:
        expected = connection.ops.convert_uuidfield_value(value, col, connection)
    except ValueError:
        with pytest.raises(ValueError):
            fast._uuid_value(value, col, connection)
        return
    found = fast._uuid_value(value, col, connection)
    assert found == expected and type(found) is type(expected)
    if found is not None:
        assert (found.int, found.hex, str(found), hash(found), found.is_safe) == (
            expected.int,
            expected.hex,
            str(expected),
            hash(expected),
            expected.is_safe,
        )


@pytest.mark.parametrize(
    "value",
    [
        None,
        dt.datetime(2026, 12, 6, 20, 15, 1, 123456),
        dt.datetime(2026, 1, 1),
        dt.datetime(2026, 12, 6, 20, 15, tzinfo=dt.UTC),
        "2026-12-06 20:15:01.123456",
        "2026-12-06 20:15:01",
    ],
)
def test_the_datetime_short_road_gives_the_backend_s_answer(value, settings):
    if connection.vendor != "sqlite":
        pytest.skip("needs SQLite: the short roads replace the SQLite backend's converters only")
    col = OutboxEvent._meta.get_field("created_at").get_col("t")
    for use_tz in (True, False):
        settings.USE_TZ = use_tz
        expected = connection.ops.convert_datetimefield_value(value, col, connection)
        found = fast._datetime_value(value, col, connection)
        assert found == expected and (found is None) == (expected is None)
        if found is not None:
            assert found.tzinfo == expected.tzinfo and found.isoformat() == expected.isoformat()


def test_the_lists_statements_take_the_short_roads_on_sqlite(settings):
    if connection.vendor != "sqlite":
        pytest.skip("needs SQLite: the short roads replace the SQLite backend's converters only")
    settings.TONGBAN_FAST_SQL_CHECK = False
    event = fast.insert([_event(name="n.short")])[0]
    key = ("test.events.short", uuid.uuid4().hex)
    rows = fast.compiled_rows(key, lambda: _events_query("n.short"), ["n.short"])
    assert [tuple(r) for r in rows] == list(_events_query("n.short"))
    assert rows[0][0] == event.pk and rows[0][2] == OutboxEvent.objects.get(pk=event.pk).created_at
    used = {f for _i, _e, functions in fast._compiled[(key, connection.vendor)].converters for f in functions}
    assert {fast._uuid_value, fast._datetime_value} <= used
    cols = fast.columns(OutboxEvent, "t")
    used = {f for _i, _c, functions in cols.converters for f in functions}
    assert {fast._uuid_value, fast._datetime_value} <= used


def test_indexed_by_names_the_index_after_the_table_once_or_leaves_the_statement():
    from tongban.core.db.fast import indexed_by

    sql = 'SELECT "t"."id" FROM "cases_case" WHERE "t"."id" = %s'
    assert (
        indexed_by(sql, "cases_case", "ix")
        == 'SELECT "t"."id" FROM "cases_case" INDEXED BY "ix" WHERE "t"."id" = %s'
    )
    assert indexed_by(sql, "other", "ix") == sql
    twice = f"{sql} UNION {sql}"
    assert indexed_by(twice, "cases_case", "ix") == twice
