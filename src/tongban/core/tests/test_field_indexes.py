"""The migrations that drop a field's default index (``core.field_indexes``): the indexes are gone from a migrated
database, and backwards they come again under the names Django gives them."""

import importlib

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

DROPPED = (
    ("cases", "0008_timeline_kind_role_not_indexed", "cases_casestep", ("kind", "role")),
    ("workflow", "0006_task_role_not_indexed", "workflow_task", ("role",)),
    # Foreign keys whose index leads a composite one (field names; their columns end in _id).
    (
        "cases",
        "0011_fk_index_in_composite",
        "cases_case",
        ("accepting_department", "applicant_person", "bundle", "item", "lead_department"),
    ),
    ("licences", "0003_fk_index_in_composite", "licences_licence", ("holder_organisation", "holder_person")),
)


def _column(field: str, app: str, migration: str) -> str:
    """The column of a field the migration alters: a foreign key's ends in ``_id``."""
    module = importlib.import_module(f"tongban.{app}.migrations.{migration}")
    altered = next(
        op.state_operations[0] for op in module.Migration.operations if op.state_operations[0].name == field
    )
    return f"{field}_id" if altered.field.is_relation else field


def _indexed(table: str, column: str) -> list[str]:
    """The names of the non-unique indexes on ``column`` alone (``_like`` included on PostgreSQL)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [
        name
        for name, info in constraints.items()
        if info["index"] and not info["unique"] and not info["primary_key"] and info["columns"] == [column]
    ]


@pytest.mark.parametrize(("app", "migration", "table", "columns"), DROPPED)
def test_a_migrated_database_keeps_no_index_on_the_fields_no_query_uses(db, app, migration, table, columns):
    for column in columns:
        assert _indexed(table, _column(column, app, migration)) == []


@pytest.mark.parametrize(("app", "migration", "table", "columns"), DROPPED)
def test_the_dropped_indexes_come_back_backwards_under_django_names_and_go_again_forwards(
    db, app, migration, table, columns
):
    module = importlib.import_module(f"tongban.{app}.migrations.{migration}")
    before = MigrationLoader(connection).graph.node_map[(app, migration)].parents
    state = MigrationLoader(connection).project_state([p.key for p in before])
    editor = connection.schema_editor()  # not entered: its statements join the test's transaction
    operations = module.Migration.operations
    assert [op.state_operations[0].name for op in operations] == list(columns)
    for operation in operations:
        operation.database_operations[0].reverse_code(state.apps, editor)
    for column in columns:
        names = _indexed(table, _column(column, app, migration))
        model = state.apps.get_model(app, operations[0].state_operations[0].model_name)
        expected = editor._create_index_name(
            model._meta.db_table, [_column(column, app, migration)], suffix=""
        )
        assert expected in names
    for operation in operations:
        operation.database_operations[0].code(state.apps, editor)
    for column in columns:
        assert _indexed(table, _column(column, app, migration)) == []
