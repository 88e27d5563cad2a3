"""``tongban cases sweep-files``: remove material files that no case names."""

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand

from tongban.cases import files


class Command(BaseCommand):
    help = "Cases: sweep-files [--all] [--days N] [--grace-minutes N] [--dry-run]."

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="action", metavar="ACTION")
        subparsers.required = True
        sweep = subparsers.add_parser(
            "sweep-files",
            help="remove material files that no case names and that are older than the grace period "
            "(left by a crash between writing a file and committing its case)",
        )
        sweep.add_argument("--all", action="store_true", help="look at every file (default: the last --days)")
        sweep.add_argument("--days", type=int, default=2, help="look at files written in the last N days")
        sweep.add_argument(
            "--grace-minutes",
            type=int,
            default=None,
            help="keep files younger than this "
            f"(default TONGBAN_CASE_FILES_GRACE_MINUTES, now {settings.TONGBAN_CASE_FILES_GRACE_MINUTES})",
        )
        sweep.add_argument(
            "--dry-run", action="store_true", help="list what would be removed, remove nothing"
        )

    def handle(self, *args, **options):
        grace = options["grace_minutes"]
        result = files.sweep(
            grace=dt.timedelta(minutes=grace) if grace is not None else None,
            lookback=None if options["all"] else dt.timedelta(days=options["days"]),
            dry_run=options["dry_run"],
        )
        for name in result.removed:
            self.stdout.write(("would remove " if options["dry_run"] else "removed ") + name)
        self.stdout.write(
            f"{result.checked} files checked: {len(result.removed)} "
            f"{'to remove' if options['dry_run'] else 'removed'}, {result.referenced} named by a case, "
            f"{result.young} too young to judge"
        )
