from django.db import migrations, models


def _case_index_drop(apps, schema_editor):
    """Drop the single-column index on ``case_id`` by its introspected name (``workflow_task_case_dept`` starts
    with the same column and serves its lookups). By name rather than by ``AlterField``, which on SQLite would copy
    the whole table."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "workflow_task")
    for name, details in constraints.items():
        if details["index"] and not details["unique"] and not details["primary_key"]:
            if details["columns"] == ["case_id"]:
                schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def _case_index_create(apps, schema_editor):
    Task = apps.get_model("workflow", "Task")
    field = Task._meta.get_field("case_id")
    field.db_index = True
    try:
        for statement in schema_editor._field_indexes_sql(Task, field):
            schema_editor.execute(statement)
    finally:
        field.db_index = False


def _statistics(apps, schema_editor):
    """SQLite: planner statistics for the new index (sampled), as cases' 0004 and 0006 do for theirs."""
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit = 2000")
        cursor.execute("ANALYZE workflow_task_case_dept")


class Migration(migrations.Migration):
    dependencies = [("workflow", "0004_open_inbox_nulls_first_on_postgresql")]

    operations = [
        migrations.AddIndex(
            model_name="task",
            index=models.Index(fields=["case_id", "department"], name="workflow_task_case_dept"),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="task",
                    name="case_id",
                    field=models.UUIDField(verbose_name="case"),
                ),
            ],
            database_operations=[migrations.RunPython(_case_index_drop, _case_index_create)],
        ),
        migrations.RunPython(_statistics, migrations.RunPython.noop),
    ]
