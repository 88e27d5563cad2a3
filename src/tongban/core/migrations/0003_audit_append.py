"""PostgreSQL: the function that appends an audit entry in one round trip (see tongban.core.audit_sql)."""

from django.db import migrations

from tongban.core.audit_sql import install_append_function, remove_append_function


def install(apps, schema_editor):
    install_append_function(schema_editor.connection)


def remove(apps, schema_editor):
    remove_append_function(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_triggers")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
