"""PostgreSQL: list indexes whose first nullable column sorts its NULLs first, as the lists ask.

The supervision list and the inbox are ordered ``due_date ASC NULLS FIRST`` (SQLite's own order of NULLs, asked of
every database: ``core.keyset.Keyset(nullable_first=True)``). A PostgreSQL B-tree sorts NULLs last by default, so
with the index as Django creates it PostgreSQL read every open case (or task) of the scope and sorted them for each
page (332 ms for the supervisor's first page at 200,000 cases). SQLite's ``CREATE INDEX`` has no ``NULLS FIRST``
and Django's ``Index`` cannot say it for one database only, so the migrations that need it re-create those indexes
on PostgreSQL with the same name and columns, the nullable column marked ``NULLS FIRST`` (``nulls_first``).
"""

from __future__ import annotations

import re


def _definition(schema_editor, name: str) -> str | None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [name])
        row = cursor.fetchone()
    return row[0] if row else None


def _recreate(schema_editor, name: str, column: str, first: bool) -> None:
    definition = _definition(schema_editor, name)
    if definition is None:
        return
    head, sep, tail = definition.partition(" USING btree (")
    if not sep:
        return
    columns, _paren, rest = tail.partition(")")
    parts = [part.strip() for part in columns.split(",")]
    marked = [
        (f"{column} NULLS FIRST" if first else column)
        if re.fullmatch(rf"{column}( NULLS FIRST)?", part)
        else part
        for part in parts
    ]
    if marked == parts:
        return
    quoted = schema_editor.quote_name(name)
    schema_editor.execute(f"DROP INDEX {quoted}")
    schema_editor.execute(f"{head}{sep}{', '.join(marked)}){rest}")


def nulls_first(*names: str, column: str = "due_date"):
    """A ``RunPython`` pair: mark ``column`` NULLS FIRST in the indexes ``names`` on PostgreSQL (and undo it)."""

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for name in names:
                _recreate(schema_editor, name, column, first=True)

    def backward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for name in names:
                _recreate(schema_editor, name, column, first=False)

    return forward, backward
