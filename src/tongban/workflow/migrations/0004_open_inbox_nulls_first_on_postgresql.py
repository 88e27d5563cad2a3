from django.db import migrations

from tongban.core.pg_indexes import nulls_first

forward, backward = nulls_first("workflow_task_open_inbox")


class Migration(migrations.Migration):
    """PostgreSQL only: the inbox's index sorts NULL due dates first, as the inbox does."""

    dependencies = [("workflow", "0003_task_name_en")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
