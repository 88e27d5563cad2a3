"""Django's ``flush``, able to empty the append-only audit tables too.

The audit triggers refuse DELETE (SQLite's way of emptying a table), which would make ``flush``,
and so every transactional test, fail once an audit entry exists. Wiping the whole database is
the one deliberate exception: the triggers are lifted inside flush's transaction and restored
before it commits.
"""

from django.core.management.commands import flush

from tongban.core.audit_sql import guards_lifted


class Command(flush.Command):
    def handle(self, **options):
        with guards_lifted(options["database"]):
            return super().handle(**options)
