"""The database's own refusal to change the audit log: triggers that abort UPDATE and DELETE.

Installed by migration ``core.0002_audit_triggers`` on SQLite and PostgreSQL. The code never
updates or deletes an audit row; these triggers make the database refuse it too, whoever asks
(a bug, the admin, someone with a database shell), so tampering needs a deliberate schema change.

On PostgreSQL the triggers are row-level, so ``TRUNCATE`` (which Django's ``flush`` and the test
runner use) is not caught by them: a production deployment grants its application role no
TRUNCATE (nor UPDATE, DELETE) on these tables, see ``docs/deployment.md``. On SQLite, ``flush``
deletes rows, so Tongban's ``flush`` command lifts the triggers for its own transaction
(:func:`guards_lifted`) and puts them back before it commits.

This module is imported by a migration: keep it free of model imports.
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
