"""``tongban catalog export FILE.xlsx`` / ``tongban catalog import FILE.xlsx [--dry-run]``."""

from django.core.management.base import BaseCommand, CommandError

from tongban.catalog.excel import catalog_export, catalog_import
from tongban.core.audit import Actor


class Command(BaseCommand):
    help = "Export the service catalogue to an Excel workbook, or import (upsert) it from one."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{export,import}")
        export = actions.add_parser(
            "export", help="Write items, materials, bundles and bundle items to FILE."
        )
        export.add_argument("file", help="The .xlsx file to write.")
        load = actions.add_parser(
            "import", help="Upsert the catalogue from FILE; bad rows are reported and skipped."
        )
        load.add_argument("file", help="The .xlsx file to read.")
        load.add_argument("--dry-run", action="store_true", help="Check every row, save nothing.")

    def handle(self, *args, **options):
        if options["action"] == "export":
            counts = catalog_export(options["file"])
            self.stdout.write(
                ", ".join(f"{sheet}: {n}" for sheet, n in counts.items()) + f" → {options['file']}"
            )
            return
        actor = Actor(kind="system", id="catalog-import", label="tongban catalog import")
        try:
            report = catalog_import(options["file"], actor=actor, dry_run=options["dry_run"])
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"cannot read {options['file']}: {exc}") from exc
        for line in report.errors:
            self.stderr.write(line)
        self.stdout.write(report.summary())
        if not report.ok:
            raise CommandError(f"{len(report.errors)} row(s) failed", returncode=1)
