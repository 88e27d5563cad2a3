"""SQL the audit chain installs in the database: the guards that refuse changes, and PostgreSQL's
append function.

Guards
    Triggers that abort UPDATE and DELETE on the audit tables, installed by migration
    ``core.0002_audit_triggers`` on SQLite and PostgreSQL. The code never
    updates or deletes an audit row; these triggers make the database refuse it too, whoever asks
    (a bug, the admin, someone with a database shell), so tampering needs a deliberate schema
    change.

    On PostgreSQL the triggers are row-level, so ``TRUNCATE`` (which Django's ``flush`` and the
    test runner use) is not caught by them: a production deployment grants its application role no
    TRUNCATE (nor UPDATE, DELETE) on these tables. On SQLite, ``flush`` deletes rows, so Tongban's
    ``flush`` command lifts the triggers for its own transaction (:func:`guards_lifted`) and puts
    them back before it commits.

Append function (PostgreSQL)
    ``tongban_audit_append`` claims a chain, reads its head and inserts the entry with its hash in
    one round trip instead of three, installed by migration ``core.0003_audit_append``. It
    computes the same hash as ``tongban.core.audit.entry_message`` (verification recomputes every
    hash in Python, so a difference could not go unnoticed). Change it with the AuditEntry columns.

This module is imported by migrations: keep it free of model imports.
"""

import contextlib

from django.db import connections, transaction

GUARDED_TABLES = ("core_auditentry", "core_auditcheckpoint")
PG_FUNCTION = "tongban_audit_append_only"


def _sqlite_install(table):
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END",
    ]


def _sqlite_remove(table):
    return [f"DROP TRIGGER IF EXISTS {table}_no_update", f"DROP TRIGGER IF EXISTS {table}_no_delete"]


PG_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _pg_install(table):
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()",
    ]


def _pg_remove(table):
    return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"]


def install_statements(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [sql for table in GUARDED_TABLES for sql in _sqlite_install(table)]
    if vendor == "postgresql":
        return [PG_FUNCTION_SQL, *(sql for table in GUARDED_TABLES for sql in _pg_install(table))]
    return []


def remove_statements(vendor: str, *, drop_function: bool = False) -> list[str]:
    if vendor == "sqlite":
        return [sql for table in GUARDED_TABLES for sql in _sqlite_remove(table)]
    if vendor == "postgresql":
        statements = [sql for table in GUARDED_TABLES for sql in _pg_remove(table)]
        if drop_function:
            statements.append(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
        return statements
    return []


def install_guards(connection) -> None:
    with connection.cursor() as cursor:
        for sql in install_statements(connection.vendor):
            cursor.execute(sql)


def remove_guards(connection, *, drop_function: bool = False) -> None:
    with connection.cursor() as cursor:
        for sql in remove_statements(connection.vendor, drop_function=drop_function):
            cursor.execute(sql)


def guards_present(connection) -> bool:
    """Whether every guard trigger is in place."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'core_audit%'"
            )
            return cursor.fetchone()[0] == 2 * len(GUARDED_TABLES)
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'core_audit%%_append_only'"
            )
            return cursor.fetchone()[0] == len(GUARDED_TABLES)
    return False


@contextlib.contextmanager
def guards_lifted(using: str):
    """Run the block without the triggers, in one transaction that puts them back before it commits.

    Only for wiping a whole database (``flush``); nothing else in Tongban uses it.
    """
    connection = connections[using]
    with transaction.atomic(using=using):
        remove_guards(connection)
        yield
        install_guards(connection)


# --- the append function (PostgreSQL) ----------------------------------------------------------------

# Advisory locks (LOCK_NAMESPACE, chain): "TBAU" as a 32-bit integer. The hash below must stay the one
# tongban.core.audit.keyed_message defines ("TBA2", the key id, U+001F, 64 zeros for the first prev_hash).
LOCK_NAMESPACE = 0x54424155
TEXT_COLUMNS = (
    "actor_kind",
    "actor_id",
    "actor_label",
    "actor_role",
    "actor_department",
    "action",
    "subject_type",
    "subject_id",
    "case_id",
    "ticket_id",
    "purpose",
    "details",
)

_PG_ARGS = ", ".join(f"p_{column} text" for column in TEXT_COLUMNS)
# Before chain keys (migration core.0003): the plain SHA-256 append, dropped by core.0005.
PG_APPEND_SIGNATURE_PLAIN = (
    f"tongban_audit_append(integer, integer, bigint, {', '.join(['text'] * len(TEXT_COLUMNS))})"
)
PG_APPEND_SIGNATURE = f"tongban_audit_append(integer, integer, bigint, {', '.join(['text'] * len(TEXT_COLUMNS))}, text, bytea, bytea)"

PG_APPEND_SQL = f"""
CREATE OR REPLACE FUNCTION tongban_audit_append(p_shards integer, p_preferred integer, p_at bigint, {_PG_ARGS},
    p_key_id text, p_inner bytea, p_outer bytea, OUT entry_id bigint, OUT entry_chain integer, OUT entry_seq bigint, OUT entry_prev text, OUT entry_hash text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- A free chain, the preferred one first (a transaction that holds it already gets it again);
    -- when all are busy, queue on the preferred one.
    entry_chain := p_preferred;
    IF NOT pg_try_advisory_xact_lock({LOCK_NAMESPACE}, entry_chain) THEN
        entry_chain := NULL;
        FOR k IN 1 .. p_shards - 1 LOOP
            IF pg_try_advisory_xact_lock({LOCK_NAMESPACE}, (p_preferred + k) % p_shards) THEN
                entry_chain := (p_preferred + k) % p_shards;
                EXIT;
            END IF;
        END LOOP;
        IF entry_chain IS NULL THEN
            entry_chain := p_preferred;
            PERFORM pg_advisory_xact_lock({LOCK_NAMESPACE}, entry_chain);
        END IF;
    END IF;
    -- A new snapshot for this statement (volatile function, READ COMMITTED): the head committed by
    -- the lock's previous holder is visible.
    SELECT e.seq + 1, e.hash INTO entry_seq, entry_prev
        FROM core_auditentry e WHERE e.chain = entry_chain ORDER BY e.seq DESC LIMIT 1;
    IF NOT FOUND THEN
        entry_seq := 1;
        entry_prev := repeat('0', 64);
    END IF;
    -- HMAC-SHA256 (RFC 2104) with the padded keys the caller passes: the key is never stored here.
    entry_hash := encode(sha256(p_outer || sha256(p_inner || convert_to(concat_ws(chr(31), 'TBA2', p_key_id,
        entry_prev, entry_chain, entry_seq, p_at, {", ".join(f"p_{column}" for column in TEXT_COLUMNS)}),
        'UTF8'))), 'hex');
    INSERT INTO core_auditentry (chain, seq, at, {", ".join(TEXT_COLUMNS)}, prev_hash, hash, key_id)
        VALUES (entry_chain, entry_seq, p_at, {", ".join(f"p_{column}" for column in TEXT_COLUMNS)},
                entry_prev, entry_hash, p_key_id)
        RETURNING id INTO entry_id;
END
$$
"""  # noqa: S608 - constants only


def install_append_function(connection) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"DROP FUNCTION IF EXISTS {PG_APPEND_SIGNATURE_PLAIN}")
            cursor.execute(PG_APPEND_SQL)


def remove_append_function(connection) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"DROP FUNCTION IF EXISTS {PG_APPEND_SIGNATURE}")
