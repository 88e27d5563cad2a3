"""Keyed audit chain: each new entry names the HMAC key (``key_id``, held outside the database) that made its hash.

Entries already in the table keep ``key_id`` NULL and verify as before (plain SHA-256, scheme TBA1); entries
appended from now on are keyed (TBA2), and a plain entry after a keyed one in the same chain is reported as a
rewrite. The column is nullable so that adding it is a plain ALTER TABLE on SQLite too (no table rebuild, the
append-only triggers stay). PostgreSQL's append function is replaced by the keyed one.
"""

from django.db import migrations, models

from tongban.core.audit_sql import install_append_function


def install(apps, schema_editor):
    install_append_function(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_cache_table")]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="key_id",
            field=models.CharField(blank=True, max_length=16, null=True, verbose_name="key id"),
        ),
        migrations.RunPython(install, migrations.RunPython.noop, elidable=False),
    ]
