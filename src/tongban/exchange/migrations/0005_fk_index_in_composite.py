import django.db.models.deletion
from django.db import migrations, models

from tongban.core.field_indexes import field_index_drop


class Migration(migrations.Migration):
    """Foreign keys (and a slug) whose own index is the first column of a composite index of the same table: the
    composite one answers every query by them, so the single-column index was only written, at each insert, never
    read. Dropped without rebuilding the tables (``core.field_indexes``); ``core/tests/test_redundant_indexes.py`` finds no more."""

    dependencies = [
        ("exchange", "0004_ids_time_ordered"),
        ("identity", "0004_fk_index_in_composite"),
    ]

    operations = [
        field_index_drop(
            "exchange",
            "employerquarterheadcount",
            "organisation",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="headcount_quarters",
                to="identity.organisation",
                verbose_name="employer",
            ),
        ),
        field_index_drop(
            "exchange",
            "enterprisequalification",
            "organisation",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="qualifications",
                to="identity.organisation",
                verbose_name="organisation",
            ),
        ),
        field_index_drop(
            "exchange",
            "marriagerecord",
            "party_a",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="identity.person",
                verbose_name="party A",
            ),
        ),
        field_index_drop(
            "exchange",
            "marriagerecord",
            "party_b",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="identity.person",
                verbose_name="party B",
            ),
        ),
        field_index_drop(
            "exchange",
            "mortgage",
            "unit",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="mortgages",
                to="exchange.propertyunit",
                verbose_name="unit",
            ),
        ),
        field_index_drop(
            "exchange",
            "propertyownership",
            "owner_person",
            models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="identity.person",
                verbose_name="owner (person)",
            ),
        ),
        field_index_drop(
            "exchange",
            "propertyownership",
            "unit",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="ownerships",
                to="exchange.propertyunit",
                verbose_name="unit",
            ),
        ),
        field_index_drop(
            "exchange",
            "seizure",
            "unit",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="seizures",
                to="exchange.propertyunit",
                verbose_name="unit",
            ),
        ),
        field_index_drop(
            "exchange",
            "sharinggrant",
            "resource",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="grants",
                to="exchange.dataresource",
                verbose_name="data resource",
            ),
        ),
        field_index_drop(
            "exchange",
            "taxquarterfiling",
            "organisation",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="tax_quarters",
                to="identity.organisation",
                verbose_name="organisation",
            ),
        ),
    ]
