from django.db import migrations, models

import tongban.core.models.keys


class Migration(migrations.Migration):
    """New primary keys time-ordered (``core.models.keys.new_id``, UUID version 7): a Python default, so the
    migration state changes and the database does not (an ``AlterField`` of a primary key would rebuild each table on
    SQLite)."""

    dependencies = [
        ("enterprise", "0002_signature_with_submission"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="casesignature",
                    name="id",
                    field=models.UUIDField(
                        default=tongban.core.models.keys.new_id,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                migrations.AlterField(
                    model_name="certificate",
                    name="id",
                    field=models.UUIDField(
                        default=tongban.core.models.keys.new_id,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                migrations.AlterField(
                    model_name="certificaterequest",
                    name="id",
                    field=models.UUIDField(
                        default=tongban.core.models.keys.new_id,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                migrations.AlterField(
                    model_name="signinchallenge",
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
