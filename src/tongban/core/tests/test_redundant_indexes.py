"""No index of the platform's tables is only written: none is the leading columns of another index of its table.

An index on (a) beside an index on (a, b) answers nothing the second does not, and every insert writes both (on the
case path, 36 such indexes cost a WAL page or more a transaction, docs/performance.md). Django adds one for every
foreign key unless ``db_index=False``; this test reads the migrated database, so a new composite index or a new foreign
key that makes one redundant fails here.
"""

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db


def _partial(name: str, table: str) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = %s", [name])
        else:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = %s AND tablename = %s", [name, table]
            )
        row = cursor.fetchone()
    return bool(row and row[0] and " WHERE " in row[0].upper())


def test_no_index_is_the_leading_columns_of_another():
    tables = sorted(
        {
            model._meta.db_table
            for model in apps.get_models()
            if model.__module__.startswith("tongban.") and model._meta.managed
        }
    )
    found = []
    with connection.cursor() as cursor:
        for table in tables:
            constraints = connection.introspection.get_constraints(cursor, table)
            indexes = {
                name: c["columns"]
                for name, c in constraints.items()
                if (c["index"] or c["unique"]) and c["columns"] and not c.get("primary_key")
            }
            for name, columns in indexes.items():
                c = constraints[name]
                if c["unique"] or _partial(name, table) or name.endswith("_like"):
                    continue
                wider = [
                    other
                    for other, cols in indexes.items()
                    if other != name
                    and len(cols) > len(columns)
                    and cols[: len(columns)] == columns
                    and not _partial(other, table)
                ]
                if wider:
                    found.append(f"{table}.{name} {columns} leads {wider[0]}")
    assert found == [], "\n".join(found)
