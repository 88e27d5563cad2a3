"""The database refuses UPDATE and DELETE on the audit log (hand-written; see tongban.core.audit_sql).

To regenerate core's 0001_initial.py: move this file and 0003_audit_append.py out of the folder,
delete 0001_initial.py, run ``tongban makemigrations core``, then move both back.
"""

from django.db import migrations

from tongban.core.audit_sql import install_guards, remove_guards


def install(apps, schema_editor):
    install_guards(schema_editor.connection)


def remove(apps, schema_editor):
    remove_guards(schema_editor.connection, drop_function=True)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
