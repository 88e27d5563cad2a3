"""Migrations: drop the index Django keeps for a field's ``db_index`` without rebuilding its table.

Changing ``db_index`` with ``AlterField`` makes Django's SQLite schema editor copy the whole table into a new one
(its ``_alter_field`` remakes the table for any change but a rename): on a city's timeline table, millions of rows.
``field_index_drop`` gives the ``SeparateDatabaseAndState`` operation that changes the field in the migration state
and only drops its index (``DROP INDEX``; on PostgreSQL the ``_like`` index Django adds to a text field too), by
the names Django gave them; backwards it creates them again, as Django would.
"""

from __future__ import annotations

from django.db import migrations


def _names(schema_editor, model, field) -> list[str]:
    table, column = model._meta.db_table, field.column
    names = [schema_editor._create_index_name(table, [column], suffix="")]
    if schema_editor.connection.vendor == "postgresql":
        names.append(schema_editor._create_index_name(table, [column], suffix="_like"))
    return names


def field_index_drop(
    app_label: str, model_name: str, field_name: str, field
) -> migrations.SeparateDatabaseAndState:
    """The operation that sets ``field`` (the field as it now is, ``db_index=False``) on ``model_name`` in the
    migration state and drops the single-column index of its previous ``db_index=True`` from the database."""

    def forward(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        for name in _names(schema_editor, model, model._meta.get_field(field_name)):
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def backward(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        old = model._meta.get_field(field_name)
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[old]))
        if schema_editor.connection.vendor == "postgresql":
            like = schema_editor._create_like_index_sql(model, old)
            if like is not None:
                schema_editor.execute(like)

    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AlterField(model_name=model_name, name=field_name, field=field)],
        database_operations=[migrations.RunPython(forward, backward, elidable=False)],
    )
