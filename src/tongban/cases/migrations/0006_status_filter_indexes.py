from django.db import migrations, models


def _status_index_drop(apps, schema_editor):
    """Drop the single-column index on ``status`` (and PostgreSQL's ``_like`` twin) by its introspected name.

    It is a prefix of ``cases_case_status_list`` and tempted SQLite's planner into reading every case of a
    status and sorting them (a department head's supervision page with a warning filter: 122 ms at a million
    cases). Done by name rather than by ``AlterField``, which on SQLite would copy the whole table."""
    connection = schema_editor.connection
    table = "cases_case"
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    for name, details in constraints.items():
        if details["index"] and not details["unique"] and not details["primary_key"]:
            if details["columns"] == ["status"] and name != "cases_case_status_list":
                schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def _status_index_create(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    field = Case._meta.get_field("status")
    for statement in schema_editor._field_indexes_sql(Case, field):
        schema_editor.execute(statement)


def _statistics(apps, schema_editor):
    """SQLite: planner statistics for the new indexes (sampled), as 0004 does for its own."""
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit = 2000")
        for name in STATUS_INDEXES:
            cursor.execute(f"ANALYZE {name}")


STATUS_INDEXES = (
    "cases_case_lead_status",
    "cases_case_accept_status",
    "cases_case_bundle_status",
    "cases_case_item_status",
)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_case_items_skipped"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name="status",
                    field=models.CharField(
                        choices=[
                            ("draft", "Draft"),
                            ("submitted", "Submitted"),
                            ("accepted", "Accepted"),
                            ("in_progress", "In progress"),
                            ("supplement", "Supplement requested"),
                            ("resubmitted", "Resubmitted"),
                            ("rejected", "Refused"),
                            ("withdrawn", "Withdrawn"),
                            ("completed", "Completed"),
                        ],
                        default="draft",
                        max_length=12,
                        verbose_name="status",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(_status_index_drop, _status_index_create)],
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["lead_department", "status", "created_at", "id"], name="cases_case_lead_status"
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["accepting_department", "status", "created_at", "id"], name="cases_case_accept_status"
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["bundle", "status", "created_at", "id"], name="cases_case_bundle_status"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["item", "status", "created_at", "id"], name="cases_case_item_status"),
        ),
        migrations.RunPython(_statistics, migrations.RunPython.noop),
    ]
