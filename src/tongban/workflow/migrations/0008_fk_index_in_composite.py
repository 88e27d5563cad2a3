import django.db.models.deletion
from django.db import migrations, models

from tongban.core.field_indexes import field_index_drop


class Migration(migrations.Migration):
    """Foreign keys (and a slug) whose own index is the first column of a composite index of the same table: the
    composite one answers every query by them, so the single-column index was only written, at each insert, never
    read. Dropped without rebuilding the tables (``core.field_indexes``); ``core/tests/test_redundant_indexes.py`` finds no more."""

    dependencies = [
        ("identity", "0004_fk_index_in_composite"),
        ("workflow", "0007_ids_time_ordered"),
    ]

    operations = [
        field_index_drop(
            "workflow",
            "processdefinition",
            "key",
            models.SlugField(db_index=False, max_length=64, verbose_name="process key"),
        ),
        field_index_drop(
            "workflow",
            "task",
            "department",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="tasks",
                to="identity.department",
                verbose_name="department",
            ),
        ),
    ]
