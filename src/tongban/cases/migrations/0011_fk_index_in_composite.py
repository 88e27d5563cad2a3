import django.db.models.deletion
from django.db import migrations, models

from tongban.core.field_indexes import field_index_drop


class Migration(migrations.Migration):
    """Foreign keys (and a slug) whose own index is the first column of a composite index of the same table: the
    composite one answers every query by them, so the single-column index was only written, at each insert, never
    read. Dropped without rebuilding the tables (``core.field_indexes``); ``core/tests/test_redundant_indexes.py`` finds no more."""

    dependencies = [
        ("cases", "0010_ids_time_ordered"),
        ("catalog", "0007_fk_index_in_composite"),
        ("identity", "0004_fk_index_in_composite"),
    ]

    operations = [
        field_index_drop(
            "cases",
            "case",
            "accepting_department",
            models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="identity.department",
                verbose_name="accepting unit",
            ),
        ),
        field_index_drop(
            "cases",
            "case",
            "applicant_person",
            models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cases",
                to="identity.person",
                verbose_name="applicant",
            ),
        ),
        field_index_drop(
            "cases",
            "case",
            "bundle",
            models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cases",
                to="catalog.bundle",
                verbose_name="bundle",
            ),
        ),
        field_index_drop(
            "cases",
            "case",
            "item",
            models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cases",
                to="catalog.serviceitem",
                verbose_name="service item",
            ),
        ),
        field_index_drop(
            "cases",
            "case",
            "lead_department",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="led_cases",
                to="identity.department",
                verbose_name="lead department",
            ),
        ),
    ]
