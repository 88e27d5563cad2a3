from django.db import migrations, models

import tongban.core.models.keys


class Migration(migrations.Migration):
    """New primary keys time-ordered (``core.models.keys.new_id``, UUID version 7): a Python default, so the
    migration state changes and the database does not (an ``AlterField`` of a primary key would rebuild each table on
    SQLite)."""

    dependencies = [
        ("core", "0005_audit_chain_keys"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="calendaryear",
                    name="id",
                    field=models.UUIDField(
                        default=tongban.core.models.keys.new_id,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                migrations.AlterField(
                    model_name="eventdelivery",
                    name="id",
                    field=models.UUIDField(
                        default=tongban.core.models.keys.new_id,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                migrations.AlterField(
                    model_name="outboxevent",
                    name="id",
                    field=models.UUIDField(
                        default=tongban.core.models.keys.new_id,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                migrations.AlterField(
                    model_name="workdayoverride",
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
