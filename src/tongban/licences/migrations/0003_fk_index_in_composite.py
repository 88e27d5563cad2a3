import django.db.models.deletion
from django.db import migrations, models

from tongban.core.field_indexes import field_index_drop


class Migration(migrations.Migration):
    """Foreign keys (and a slug) whose own index is the first column of a composite index of the same table: the
    composite one answers every query by them, so the single-column index was only written, at each insert, never
    read. Dropped without rebuilding the tables (``core.field_indexes``); ``core/tests/test_redundant_indexes.py`` finds no more."""

    dependencies = [
        ("identity", "0004_fk_index_in_composite"),
        ("licences", "0002_ids_time_ordered"),
    ]

    operations = [
        field_index_drop(
            "licences",
            "licence",
            "holder_organisation",
            models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="licences",
                to="identity.organisation",
                verbose_name="holder (organisation)",
            ),
        ),
        field_index_drop(
            "licences",
            "licence",
            "holder_person",
            models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="licences",
                to="identity.person",
                verbose_name="holder (person)",
            ),
        ),
    ]
