"""The table of Django's database cache (``TONGBAN_CACHE_URL=db``, the default on PostgreSQL), made here so that no
deployment needs a separate ``createcachetable`` step; on the embedded SQLite layout it stays empty."""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "tongban_cache"


def create(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_append")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
