"""``tongban indicators recompute [--from --to]`` and ``tongban indicators report --month YYYY-MM``."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from tongban.core import calendar
from tongban.indicators.compute import catalog_snapshot, days_recompute, history_bounds
from tongban.indicators.report import monthly_report_make


def _month(value: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()  # noqa: DTZ007 - a calendar month, no time
    except ValueError:
        raise CommandError(f"--month: expected YYYY-MM, not {value!r}") from None


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"expected a day as YYYY-MM-DD, not {value!r}") from None


class Command(BaseCommand):
    help = "Indicators: recompute the daily and monthly rows from the raw records, or write a monthly report."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", metavar="ACTION")
        sub.required = True
        recompute = sub.add_parser(
            "recompute", help="recompute the rows of a range of days (default: all history)"
        )
        recompute.add_argument("--from", dest="start", type=str, default=None, help="first day, YYYY-MM-DD")
        recompute.add_argument("--to", dest="end", type=str, default=None, help="last day, YYYY-MM-DD")
        recompute.add_argument("--quiet", action="store_true", help="no progress bar")
        report = sub.add_parser("report", help="write the monthly report PDF of a month")
        report.add_argument("--month", required=True, help="YYYY-MM")

    def handle(self, *args, action, **options):
        if action == "recompute":
            self.recompute(options)
        else:
            self.report(_month(options["month"]))

    def recompute(self, options):
        bounds = history_bounds()
        start = _day(options["start"]) if options["start"] else (bounds[0] if bounds else calendar.today())
        end = _day(options["end"]) if options["end"] else (bounds[1] if bounds else calendar.today())
        if start > end:
            raise CommandError("--from comes after --to.")
        began = time.monotonic()
        days = (end - start).days + 1
        bar = tqdm(total=days, unit=" days", file=sys.stderr, disable=options["quiet"] or None)
        try:
            count = days_recompute(start, end, progress=bar.update)
        finally:
            bar.close()
        versions = catalog_snapshot(calendar.today())
        seconds = time.monotonic() - began
        self.stdout.write(
            self.style.SUCCESS(
                f"Indicators recomputed for {count} days ({start} to {end}) in {seconds:.1f} s."
            )
        )
        self.stdout.write(json.dumps({"days": count, "seconds": round(seconds, 2), "new_versions": versions}))

    def report(self, month: dt.date):
        if month > calendar.today():
            raise CommandError("That month has not begun.")
        report = monthly_report_make(month=month, by="tongban indicators report")
        self.stdout.write(self.style.SUCCESS(f"Monthly report {month:%Y-%m} written: {report.file.name}"))
