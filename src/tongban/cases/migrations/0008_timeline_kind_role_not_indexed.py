from django.db import migrations, models

from tongban.core.field_indexes import field_index_drop


class Migration(migrations.Migration):
    """The timeline's ``kind`` and ``role`` lose the index a SlugField has by default: no query uses them, and every
    transition writes a line (two index entries fewer a line). Dropped without rebuilding the table."""

    dependencies = [("cases", "0007_open_lists_nulls_first_on_postgresql")]

    operations = [
        field_index_drop(
            "cases", "casestep", "kind", models.SlugField(db_index=False, max_length=32, verbose_name="kind")
        ),
        field_index_drop(
            "cases",
            "casestep",
            "role",
            models.SlugField(blank=True, db_index=False, max_length=32, verbose_name="role"),
        ),
    ]
