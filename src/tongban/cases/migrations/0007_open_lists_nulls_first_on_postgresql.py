from django.db import migrations

from tongban.core.pg_indexes import nulls_first

forward, backward = nulls_first("cases_case_open_due_cover", "cases_case_open_lead_cover")


class Migration(migrations.Migration):
    """PostgreSQL only: the supervision list's indexes sort NULL due dates first, as the list does."""

    dependencies = [("cases", "0006_status_filter_indexes")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
