from django.db import migrations, models

import tongban.core.models.keys


class Migration(migrations.Migration):
    """New primary keys time-ordered (``core.models.keys.new_id``, UUID version 7): a Python default, so the
    migration state changes and the database does not (an ``AlterField`` of a primary key would rebuild each table on
    SQLite)."""

    dependencies = [
        ("workflow", "0006_task_role_not_indexed"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="processdefinition",
                    name="id",
                    field=models.UUIDField(
                        default=tongban.core.models.keys.new_id,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                migrations.AlterField(
                    model_name="processinstance",
                    name="id",
                    field=models.UUIDField(
                        default=tongban.core.models.keys.new_id,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                migrations.AlterField(
                    model_name="task",
                    name="id",
                    field=models.UUIDField(
                        default=tongban.core.models.keys.new_id,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
            ],
        ),
    ]
