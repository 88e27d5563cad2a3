"""Hand-written SQL for the hot path: Django's column conversions and field preparation, none of its compiling.

On the case path Django spent more CPU building each statement (resolving lookups, joins and the select list,
then compiling them) than SQLite spent running it. The helpers here keep what matters of the ORM — every value
goes through its field's ``get_db_prep_save`` on the way in and its converters on the way out, model instances are
built with ``Model.from_db`` — and build each statement's text once per process (per model, column list and
database vendor), so a statement costs its parameters and the driver's call.

- ``insert(objs)``: a multi-row INSERT of unsaved instances of one model (``bulk_create`` without the
  compilation); fields' ``pre_save`` runs as in ``save()`` (``auto_now``, ``auto_now_add``).
- ``save(obj)``: ``obj.save()`` for a model without signals or a ``save()`` of its own: an INSERT for a new row,
  an UPDATE of every column for a stored one (and the INSERT when that row is gone, as Django does).
- ``columns(Model, alias)`` and ``build(cols, row, start)``: a select list for hand-written SELECTs and the
  instance from its slice of a row.
- ``prep(Model, field, value)``: a value as a statement parameter.
- ``new(Model, **values)``: ``Model(**values)`` without ``Model.__init__``'s generic argument handling (the hot path
  builds a hundred rows a bundle: tasks, timeline lines, events, deliveries, audit entries).

**Field values on SQLite.** ``get_db_prep_save`` walks four to six methods a value (``get_prep_value``,
``to_python``, the backend's ``adapt_*``) and the hot path prepares about 2,000 values a bundle, most of them under
the writers' lock. ``preparer(field)`` gives, per field and database, the same answer by a shorter road for the
values whose answer is known from their type — a ``str`` for Django's own text fields, an ``int`` for its integer
fields, a ``bool``, a ``UUID`` (its hex: SQLite has no UUID type), an aware datetime in UTC (its naive text, as
``adapt_datetimefield_value`` writes it), a date (its ISO text), ``None`` for any of them (NULL) — and hands every
other value, every other field class (subclasses included) and every other database to ``get_db_prep_save``
itself. ``core/tests/test_fast.py`` holds the two roads to the same answers.

Everything runs on the default connection, inside its transactions. On SQLite the statements go to the sqlite3
driver directly (Django's cursor wrapper, its placeholder rewriting and its connection lookups cost more CPU than
SQLite spent on a hot-path statement), with the driver's errors turned into Django's (``IntegrityError`` ...) as
the wrapper does; whenever something watches Django's cursor — query logging (``DEBUG``, the tests'
``CaptureQueriesContext``) or an ``execute_wrapper`` — they go through it instead, so those still see every
statement. (``tongban bench cases`` counts SQLite's statements with the driver's own trace callback.)
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX, Database
from django.db.models import Model
from django.db.models import fields as model_fields
from django.db.models.base import ModelState
from django.db.models.fields.related import ForeignKey, OneToOneField
from django.db.models.signals import post_init, post_save, pre_init, pre_save

_cache: dict = {}


# --- column conversions on the way out ------------------------------------------------------------------------------
#
# SQLite's UUID and datetime columns go through the backend's ``convert_uuidfield_value`` and
# ``convert_datetimefield_value`` on every row (a list page converts some 60–100 values). The two below give the same
# values by a shorter road — a UUID from its 32 hex digits without ``UUID.__init__``'s parsing of every other form,
# a naive datetime made aware in the connection's time zone without the settings and connection proxies — and
# hand anything else to the backend's own. ``core/tests/test_fast_sql.py`` holds them to the backend's answers.

_UUID, _SAFE_UNKNOWN = uuid.UUID, uuid.SafeUUID.unknown
_new_object, _set_attribute = object.__new__, object.__setattr__


def _uuid_value(value, expression, db):
    """``convert_uuidfield_value`` of SQLite: the column's hex text as a ``UUID`` (None stays None)."""
    if value is None:
        return None
    if value.__class__ is str and len(value) == 32 and value.isalnum():
        # What ``UUID(hex=value)`` does with 32 letters and digits: ``int(value, 16)`` (ValueError for others).
        made = _new_object(_UUID)
        _set_attribute(made, "int", int(value, 16))
        _set_attribute(made, "is_safe", _SAFE_UNKNOWN)
        return made
    return _UUID(value)


def _datetime_value(value, expression, db):
    """``convert_datetimefield_value`` of SQLite: aware in the connection's time zone when ``USE_TZ``."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        return db.ops.convert_datetimefield_value(value, expression, db)
    # The connection's time zone: None without USE_TZ (a cached property, cleared when USE_TZ or TIME_ZONE change);
    # reading ``settings.USE_TZ`` through the settings proxy for every value was ~4 % of a list's CPU at scale.
    zone = db.timezone
    if zone is not None and value.utcoffset() is None:
        return value.replace(tzinfo=zone)
    return value


def _short_roads(functions, db) -> tuple:
    """``functions`` (a column's converters on ``db``) with the backend's UUID and datetime conversions on SQLite
    replaced by the equivalents above; every other converter, and every other database, as they are."""
    if db.vendor != "sqlite":
        return tuple(functions)
    from django.db.backends.sqlite3.operations import DatabaseOperations

    roads = {
        DatabaseOperations.convert_uuidfield_value: _uuid_value,
        DatabaseOperations.convert_datetimefield_value: _datetime_value,
    }
    return tuple(
        roads.get(getattr(function, "__func__", None), function)
        if getattr(function, "__self__", None) is db.ops
        else function
        for function in functions
    )


@dataclass(frozen=True)
class Columns:
    model: type
    attnames: tuple
    sql: str  # '"alias"."col", ...'
    converters: tuple  # ((index, column expression, (converter, ...)), ...) for columns needing conversion
    count: int


def columns(model, alias: str | None = None, *, only=None, defer=()) -> Columns:
    """The select list of ``model``'s concrete columns (``only`` these field names plus the pk, less ``defer``)."""
    key = ("cols", model, alias, tuple(only) if only else None, tuple(defer), connection.vendor)
    found = _cache.get(key)
    if found is not None:
        return found
    alias = alias or model._meta.db_table
    fields = [
        f
        for f in model._meta.concrete_fields
        if (only is None or f.primary_key or f.name in only or f.attname in only) and f.name not in defer
    ]
    quote = connection.ops.quote_name
    db = connections[DEFAULT_DB_ALIAS]
    converters = []
    for index, field in enumerate(fields):
        col = field.get_col(alias)
        found_converters = _short_roads(db.ops.get_db_converters(col) + col.get_db_converters(db), db)
        if found_converters:
            converters.append((index, col, found_converters))
    found = Columns(
        model=model,
        attnames=tuple(f.attname for f in fields),
        sql=", ".join(f"{quote(alias)}.{quote(f.column)}" for f in fields),
        converters=tuple(converters),
        count=len(fields),
    )
    _cache[key] = found
    return found


def build(cols: Columns, row, start: int = 0):
    """The instance of ``cols.model`` from ``row[start:start + cols.count]`` (None when its pk is NULL)."""
    values = list(row[start : start + cols.count])
    if values[0] is None and cols.attnames[0] == cols.model._meta.pk.attname:
        return None  # (an outer join's missing row: nothing to convert)
    db = connections[DEFAULT_DB_ALIAS]
    for index, col, converters in cols.converters:
        value = values[index]
        for converter in converters:
            value = converter(value, col, db)
        values[index] = value
    return cols.model.from_db(db.alias, cols.attnames, values)


def build_joined(parts, row):
    """The instance of the first of ``parts`` (``(Columns, name)`` pairs in the select list's order) from ``row``,
    with each further part's instance set on it as ``name`` (None for an outer join's missing row)."""
    instance = build(parts[0][0], row)
    start = parts[0][0].count
    for cols, name in parts[1:]:
        setattr(instance, name, build(cols, row, start))
        start += cols.count
    return instance


def convert(model, name: str, value):
    """A value of field ``name`` of ``model`` as read from the database, converted as the ORM does."""
    key = ("conv", model, name, connection.vendor)
    found = _cache.get(key)
    if found is None:
        col = _field(model, name).get_col(model._meta.db_table)
        found = _cache[key] = (
            col,
            tuple(connection.ops.get_db_converters(col) + col.get_db_converters(connection)),
        )
    col, converters = found
    for converter in converters:
        value = converter(value, col, connection)
    return value


def first(model, where: str, params=(), *, order: str = "", lock: bool = False, only=None):
    """The first row of ``model`` (aliased ``t``) matching ``where`` in ``order``, as an instance, or None.

    ``lock``: ``SELECT ... FOR UPDATE`` where the database has it (SQLite's write transaction holds the whole
    database instead). ``where`` and ``order`` are SQL text written by the caller, never user input.
    """
    cols = columns(model, "t", only=only)
    key = ("first", model, where, order, lock, cols.sql, connection.vendor)
    sql = _cache.get(key)
    if sql is None:
        sql = _cache[key] = (
            f"SELECT {cols.sql} FROM {connection.ops.quote_name(model._meta.db_table)} t WHERE {where}"  # noqa: S608
            + (f" ORDER BY {order}" if order else "")
            + " LIMIT 1"
            + (" FOR UPDATE" if lock and connection.features.has_select_for_update else "")
        )
    row = fetchone(sql, params)
    return None if row is None else build(cols, row)


def exists(sql: str, params=()) -> bool:
    return fetchone(sql, params) is not None


_qmark: dict[str, str] = {}  # statement text with %s → with ? (the hand-written texts are a bounded set)


def _direct(db):
    """The sqlite3 connection when a statement may skip Django's cursor (see the module docstring), else None."""
    if db.vendor != "sqlite" or db.execute_wrappers or db.queries_logged:
        return None
    if db.connection is None:
        db.ensure_connection()
    db.validate_no_broken_transaction()  # as Django's cursor does: no statement after an error in atomic()
    return db.connection


def _run(db, raw, sql: str, params, fetch):
    """Execute ``sql`` on the sqlite3 connection ``raw`` and ``fetch`` from its cursor; driver errors become
    Django's (what ``wrap_database_errors`` does around Django's cursor)."""
    text = _qmark.get(sql)
    if text is None:
        if len(_qmark) > 4096:
            _qmark.clear()
        text = _qmark[sql] = FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")
    try:
        return fetch(raw.execute(text, params))
    except Database.Error:
        with db.wrap_database_errors:
            raise


def _one(cursor):
    return cursor.fetchone()


def _all(cursor):
    return cursor.fetchall()


def _rowcount(cursor):
    return cursor.rowcount


def _statement(sql: str, params, fetch):
    db = connections[DEFAULT_DB_ALIAS]
    raw = _direct(db)
    if raw is not None:
        return _run(db, raw, sql, params, fetch)
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return fetch(cursor)


def fetchone(sql: str, params=()):
    return _statement(sql, params, _one)


def fetchall(sql: str, params=()):
    return _statement(sql, params, _all)


def execute(sql: str, params=()) -> int:
    """Run a write statement; the number of rows it changed."""
    return _statement(sql, params, _rowcount)


def _field(model, name):
    key = ("field", model, name)
    found = _cache.get(key)
    if found is None:
        found = _cache[key] = model._meta.get_field(name)
    return found


def prep(model, name: str, value):
    """``value`` of field ``name`` of ``model`` as a statement parameter."""
    db = connections[DEFAULT_DB_ALIAS]
    return preparer(_field(model, name), db)(value, db)


# Django's own field classes whose ``get_db_prep_save`` returns a value of these types unchanged on SQLite (exact
# classes: a subclass may prepare differently, and goes the long way).
_TEXT_FIELDS = (
    model_fields.CharField,
    model_fields.TextField,
    model_fields.SlugField,
    model_fields.EmailField,
    model_fields.URLField,
)
_INTEGER_FIELDS = (
    model_fields.IntegerField,
    model_fields.BigIntegerField,
    model_fields.SmallIntegerField,
    model_fields.PositiveIntegerField,
    model_fields.PositiveBigIntegerField,
    model_fields.PositiveSmallIntegerField,
)
_NONE = type(None)


def _same(value):
    return value


def _uuid_hex(value):
    return value.hex


def _fast_types(field, db) -> dict:
    """``{type of a value: how to prepare it}`` for the values whose preparation by ``field`` on ``db`` is known
    from their type alone (see the module docstring); empty for a field that goes the long way."""
    if db.vendor != "sqlite":
        return {}
    kind = type(field)
    if kind in (ForeignKey, OneToOneField):
        # ForeignKey.get_db_prep_save: None (and "" for some targets) is NULL, anything else the target's value.
        target = {t: f for t, f in _fast_types(field.target_field, db).items() if t is not str}
        return {**target, _NONE: _same} if target else {}
    if kind in _TEXT_FIELDS:
        return {str: _same, _NONE: _same}
    if kind in _INTEGER_FIELDS:
        return {int: _same, _NONE: _same}
    if kind is model_fields.BooleanField:
        return {bool: _same, _NONE: _same}
    if kind is model_fields.UUIDField:
        return {uuid.UUID: _same if db.features.has_native_uuid_field else _uuid_hex, _NONE: _same}
    if kind is model_fields.DateField:
        return {dt.date: str, _NONE: _same}
    if kind is model_fields.DateTimeField and settings.USE_TZ and db.timezone is dt.UTC:
        utc = dt.UTC

        def datetime_text(value):
            if (
                value.tzinfo is utc
            ):  # make_naive(value, UTC) of a value already in UTC: its fields as they are
                return str(value.replace(tzinfo=None))
            return field.get_db_prep_save(value, db)

        return {dt.datetime: datetime_text, _NONE: _same}
    return {}


def preparer(field, db=None):
    """``function(value, db)``: ``field.get_db_prep_save(value, db)``, by the short road where there is one (see
    the module docstring). Kept per field, database alias and vendor."""
    db = db or connections[DEFAULT_DB_ALIAS]
    key = ("prep", field, db.alias, db.vendor)
    found = _cache.get(key)
    if found is None:
        fast_types = _fast_types(field, db)
        get = fast_types.get
        long_way = field.get_db_prep_save

        if fast_types:

            def found(value, db, get=get, long_way=long_way):
                short = get(type(value))
                return short(value) if short is not None else long_way(value, db)

        else:

            def found(value, db, long_way=long_way):
                return long_way(value, db)

        _cache[key] = found
    return found


def _insert_fields(model) -> tuple:
    key = ("ins", model)
    found = _cache.get(key)
    if found is None:
        meta = model._meta
        found = tuple(
            f for f in meta.concrete_fields if not (f.primary_key and f.db_returning) and not f.generated
        )
        _cache[key] = found
    return found


def _insert_sql(db, model, fields, rows: int) -> str:
    key = ("insql", model, rows, db.vendor)
    found = _cache.get(key)
    if found is None:
        quote = db.ops.quote_name
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        found = (
            f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
            f"VALUES {', '.join([one] * rows)}"
        )
        _cache[key] = found
    return found


def _insert_plan(db, model) -> tuple:
    """Per field to insert: its attname, the field when its ``pre_save`` is not a plain read, and its preparer."""
    key = ("insplan", model, db.alias, db.vendor)
    found = _cache.get(key)
    if found is None:
        found = _cache[key] = tuple(
            (
                f.attname,
                None if type(f).pre_save is model_fields.Field.pre_save else f,
                preparer(f, db),
            )
            for f in _insert_fields(model)
        )
    return found


def _params(db, plan, obj, add: bool) -> list:
    """The prepared values of ``obj``'s fields in ``plan``: ``f.get_db_prep_save(f.pre_save(obj, add), db)``."""
    return [
        prepare(getattr(obj, attname) if pre is None else pre.pre_save(obj, add), db)
        for attname, pre, prepare in plan
    ]


def insert(objs) -> list:
    """INSERT unsaved instances of one model in one statement (Django's ``bulk_create`` without compiling it).

    A database-generated pk (an ``AutoField``) is not read back: use this for rows nothing refers to by that pk
    in the same call (timeline lines). Instances are marked saved, as ``bulk_create`` does.
    """
    objs = list(objs)
    if not objs:
        return objs
    db = connections[DEFAULT_DB_ALIAS]
    model = type(objs[0])
    fields = _insert_fields(model)
    plan = _insert_plan(db, model)
    params = [value for obj in objs for value in _params(db, plan, obj, True)]
    # SQLite allows 32,766 parameters in a statement (999 before 3.32): the hot path inserts a handful of rows.
    per = max(1, 900 // len(fields))
    width = len(fields)
    for start in range(0, len(objs), per):
        chunk = objs[start : start + per]
        execute(
            _insert_sql(db, model, fields, len(chunk)), params[start * width : (start + len(chunk)) * width]
        )
    for obj in objs:
        obj._state.adding = False
        obj._state.db = db.alias
    return objs


def _plain(model) -> bool:
    """Whether ``model.save()`` is Django's own with nobody listening (so a hand-written statement is equivalent)."""
    key = ("plain", model)
    found = _cache.get(key)
    if found is None:
        found = model.save is Model.save and not model._meta.parents
        _cache[key] = found
    return found and not (pre_save.has_listeners(model) or post_save.has_listeners(model))


def plain(model) -> bool:
    """Whether ``model.save()`` is Django's own with nobody listening: ``insert`` is then what ``save`` does."""
    return _plain(model)


def save(obj) -> None:
    """``obj.save()`` in one hand-written statement: INSERT when new, UPDATE of every column when stored."""
    model = type(obj)
    if not _plain(model) or obj.pk is None:
        obj.save()
        return
    if obj._state.adding:
        insert([obj])
        return
    db = connections[DEFAULT_DB_ALIAS]
    fields = [f for f in _insert_fields(model) if not f.primary_key]
    key = ("upsql", model, db.vendor)
    sql = _cache.get(key)
    quote = db.ops.quote_name
    if sql is None:
        sql = _cache[key] = (
            f"UPDATE {quote(model._meta.db_table)} SET {', '.join(f'{quote(f.column)} = %s' for f in fields)} "  # noqa: S608
            f"WHERE {quote(model._meta.pk.column)} = %s"
        )
    plan = tuple(
        step
        for step, f in zip(_insert_plan(db, model), _insert_fields(model), strict=True)
        if not f.primary_key
    )
    params = _params(db, plan, obj, False)
    params.append(preparer(model._meta.pk, db)(obj.pk, db))
    if not execute(sql, params):
        obj._state.adding = True
        insert([obj])


def _attnames_and_fields(model) -> tuple:
    key = ("new", model)
    found = _cache.get(key)
    if found is None:
        found = _cache[key] = tuple((f.attname, f) for f in model._meta.concrete_fields)
    return found


def new(model, **values):
    """An unsaved instance, as ``model(**values)`` makes it: fields named by attname (``event_id``) are set as given,
    the other fields get their defaults, and any other name (a related instance, ``event=...``) is set through its
    descriptor. A model with ``pre_init``/``post_init`` receivers is left to ``Model.__init__``."""
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return model(**values)
    obj = model.__new__(model)
    obj._state = ModelState()
    attrs = obj.__dict__
    for attname, field in _attnames_and_fields(model):
        if attname in values:
            attrs[attname] = values.pop(attname)
        else:
            attrs[attname] = field.get_default()
    for name, value in values.items():
        setattr(obj, name, value)
    return obj


# --- statements the ORM compiles once (the lists' pages) ----------------------------------------------------------


@dataclass(frozen=True)
class Compiled:
    sql: str
    converters: tuple  # ((index, expression, (converter, ...)), ...) for the columns that need conversion


_compiled: dict = {}
_mismatched: set = set()
_COMPILED_MAX = 2048


class StatementMismatch(AssertionError):
    """Parameters bound by hand differ from those the ORM gives for the same query (a bug in the caller)."""


def _compile(queryset) -> tuple[Compiled, list]:
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    found = compiler.get_converters([column for column, _sql, _alias in compiler.select])
    converters = tuple(
        (index, expression, _short_roads(functions, compiler.connection))
        for index, (functions, expression) in sorted(found.items())
    )
    return Compiled(sql=sql, converters=converters), list(params)


def indexed_by(sql: str, table: str, index: str) -> str:
    """``sql`` with SQLite's ``INDEXED BY index`` after its ``FROM "table"`` (the statement unchanged when that
    does not appear exactly once). For a list whose index SQLite's planner may pass over at scale: its choice
    follows sampled statistics, and a wrong one sorts a whole range in a temporary B-tree."""
    target = f'FROM "{table}" '
    if sql.count(target) != 1:
        return sql
    return sql.replace(target, f'FROM "{table}" INDEXED BY "{index}" ')


def compiled_rows(key, make_queryset, params, *, sqlite_index: tuple[str, str] | None = None) -> list[tuple]:
    """The rows of the ``values_list`` query ``make_queryset()`` builds, as tuples of converted values, with the
    statement the ORM compiles for it made once per ``key`` and process.

    ``params`` are this request's parameters, bound by hand in the order the ORM binds them; ``key`` names
    everything that changes the statement's text (which filters, how many values in an ``IN``, the LIMIT ...).
    Building and compiling a list's QuerySet cost more CPU than running its statement; the statement is still the
    ORM's own (same text, same plan). The first time a key is seen the ORM's parameters are compared with
    ``params``: on a difference the ORM's statement and parameters are used for that request and nothing is kept
    (a bug, which ``TONGBAN_FAST_SQL_CHECK``, on in the tests, turns into an error on every call).
    ``sqlite_index``: ``(table, index)`` named to SQLite's planner (``indexed_by``); other databases choose.
    """
    from django.conf import settings

    db = connections[DEFAULT_DB_ALIAS]
    full_key = (key, db.vendor)
    found = _compiled.get(full_key)
    check = getattr(settings, "TONGBAN_FAST_SQL_CHECK", False)
    if found is None or check:
        compiled, orm_params = _compile(make_queryset())
        if sqlite_index is not None and db.vendor == "sqlite":
            compiled = Compiled(sql=indexed_by(compiled.sql, *sqlite_index), converters=compiled.converters)
        params = list(params)
        if orm_params != params or (found is not None and found.sql != compiled.sql):
            if check:
                raise StatementMismatch(
                    f"{key!r}: bound {params!r}, the ORM binds {orm_params!r}"
                    + ("" if found is None or found.sql == compiled.sql else "; the statement's text differs")
                )
            if full_key not in _mismatched:  # told once per key and process
                import logging

                _mismatched.add(full_key)
                logging.getLogger(__name__).error(
                    "fast.compiled_rows %r: parameters differ from the ORM's", key
                )
            compiled, params, found = compiled, orm_params, None
        elif found is None:
            if len(_compiled) >= _COMPILED_MAX:
                _compiled.clear()
            _compiled[full_key] = compiled
        found = compiled
    rows = fetchall(found.sql, params)
    if not found.converters:
        return rows
    converted = []
    for row in rows:
        values = list(row)
        for index, expression, functions in found.converters:
            value = values[index]
            for function in functions:
                value = function(value, expression, db)
            values[index] = value
        converted.append(values)
    return converted


def record_type(model, names: tuple):
    """A named tuple of ``names`` (attnames of ``model``, or ``related__field`` paths) standing for a row of
    ``model``: ``pk`` and ``_meta`` as an instance has them (what a keyset reads), none of ``Model.__init__``."""
    key = ("record", model, names)
    found = _cache.get(key)
    if found is None:
        import collections
        import operator

        base = collections.namedtuple(f"{model.__name__}Record", names)
        found = _cache[key] = type(
            f"{model.__name__}Record",
            (base,),
            {
                "__slots__": (),
                "_meta": model._meta,
                "pk": property(operator.itemgetter(names.index(model._meta.pk.attname))),
            },
        )
    return found


def records(model, names: tuple, rows) -> list:
    make = record_type(model, names)._make
    return [make(row) for row in rows]
