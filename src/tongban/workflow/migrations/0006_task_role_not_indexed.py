from django.db import migrations, models

from tongban.core.field_indexes import field_index_drop


class Migration(migrations.Migration):
    """A task's ``role`` loses the index a SlugField has by default: the inbox finds tasks by department (its own
    indexes) and a handful of roles makes it of no use to the admin's filter. Dropped without rebuilding the table."""

    dependencies = [("workflow", "0005_task_case_department_index")]

    operations = [
        field_index_drop(
            "workflow", "task", "role", models.SlugField(db_index=False, max_length=32, verbose_name="role")
        ),
    ]
