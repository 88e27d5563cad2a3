"""Reference data: the twelve roles, the city with its 16 districts, the municipal departments and their
district branches. The data lives in ``tongban.identity.reference`` (shared with the demo seed)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from tongban.identity.reference import load_departments, load_roles

    load_roles(apps.get_model("identity", "Role"))
    load_departments(apps.get_model("identity", "AdminUnit"), apps.get_model("identity", "Department"))


class Migration(migrations.Migration):
    dependencies = [("identity", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
