"""``tongban calendar``: look at and keep the working-day calendar.

tongban calendar check 2027-01-04 [2027-10-01..2027-10-08 ...]
tongban calendar add 2027-01-01..2027-01-03 holiday "元旦" [--note "国办发明电〔2026〕X号"]
tongban calendar remove 2027-01-04
tongban calendar import FILE.csv [--dry-run] [--declare 2027]     # rows: date,kind,name,note
tongban calendar export [--year 2027]
tongban calendar declare 2027 [--note ...]  /  tongban calendar undeclare 2027
tongban calendar coverage
tongban calendar add-days 2026-09-30 5      /  tongban calendar between 2026-09-30 2026-10-13
"""

import csv
import getpass
import logging
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tongban.core import calendar
from tongban.core.models.calendar import validate_calendar_year


def _validation_text(error: ValidationError) -> str:
    return "; ".join(error.messages)


class Command(BaseCommand):
    help = "Look at and keep the working-day calendar (holidays, adjusted working days, declared years)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", metavar="ACTION")
        sub.required = True

        check = sub.add_parser("check", help="say whether days are working days, and why")
        check.add_argument("dates", nargs="+", metavar="DATE[..DATE]")

        add = sub.add_parser("add", help="set an override for a day or a range of days")
        add.add_argument("dates", metavar="DATE[..DATE]")
        add.add_argument("kind", metavar="KIND", help="holiday or workday")
        add.add_argument("name", nargs="?", default="", help="the holiday, e.g. 元旦")
        add.add_argument("--note", default="", help="the source, e.g. the notice number")

        remove = sub.add_parser("remove", help="remove the overrides of a day or a range of days")
        remove.add_argument("dates", metavar="DATE[..DATE]")

        imp = sub.add_parser("import", help="set overrides from a CSV file: date,kind,name,note")
        imp.add_argument("file", help="the CSV file, or - for standard input")
        imp.add_argument(
            "--encoding", default="utf-8-sig", help="of the file (default utf-8-sig; gb18030 for Excel)"
        )
        imp.add_argument("--dry-run", action="store_true", help="check the file, change nothing")
        imp.add_argument(
            "--declare",
            type=int,
            action="append",
            default=[],
            metavar="YEAR",
            help="then declare YEAR complete",
        )

        export = sub.add_parser("export", help="write the overrides as CSV to standard output")
        export.add_argument("--year", type=int)

        declare = sub.add_parser(
            "declare", help="declare that a year's official schedule is entered completely"
        )
        declare.add_argument("year", type=int)
        declare.add_argument("--note", default="")

        undeclare = sub.add_parser("undeclare", help="withdraw a year's declaration")
        undeclare.add_argument("year", type=int)

        sub.add_parser("coverage", help="list the years the calendar knows, and how")

        add_days = sub.add_parser("add-days", help="the date N working days after DATE")
        add_days.add_argument("date")
        add_days.add_argument("n", type=int)

        between = sub.add_parser("between", help="working days in (START, END]")
        between.add_argument("start")
        between.add_argument("end")

    def handle(self, *args, **options):
        # The command says itself which years are guessed; the calendar's log line would repeat it.
        logger = logging.getLogger("tongban.calendar")
        level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            getattr(self, "handle_" + options["action"].replace("-", "_"))(options)
        except ValidationError as error:
            raise CommandError(_validation_text(error)) from None
        finally:
            logger.setLevel(level)

    def _actor(self):
        from tongban.core.audit import Actor

        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        return Actor(kind="system", id="cli", label=f"tongban calendar ({user})")

    def _warn_guessed_years(self, years):
        for year in sorted(set(years)):
            coverage = calendar.year_coverage(year)
            if not coverage.certain:
                self.stderr.write(
                    self.style.WARNING(f"warning: {calendar.fallback_warning(year, coverage.overrides)}")
                )

    # --- actions

    def handle_check(self, options):
        infos = []
        for value in options["dates"]:
            for day in calendar.parse_date_range(value):
                info = calendar.day_info(day)
                infos.append(info)
                status = "working" if info.working else "off"
                name = f"  {info.name}" if info.name else ""
                guessed = "  (guessed)" if info.guessed else ""
                self.stdout.write(f"{day.isoformat()} {day:%a}  {status:<7}  {info.source}{name}{guessed}")
        self._warn_guessed_years(info.date.year for info in infos if info.guessed)

    def handle_add(self, options):
        days = calendar.parse_date_range(options["dates"])
        kind = calendar.parse_kind(options["kind"])
        actor = self._actor()
        for day in days:
            calendar.validate_override_year(day)
        for day in days:
            calendar.workday_override_set(
                actor=actor, date=day, kind=kind, name=options["name"], note=options["note"]
            )
        self.stdout.write(self.style.SUCCESS(f"{len(days)} override(s) set as {kind}."))
        self._remind_undeclared({day.year for day in days})

    def handle_remove(self, options):
        actor = self._actor()
        removed = sum(
            calendar.workday_override_delete(actor=actor, date=day)
            for day in calendar.parse_date_range(options["dates"])
        )
        self.stdout.write(f"{removed} override(s) removed.")

    def handle_import(self, options):
        # Before anything is imported: a bad --declare year after the import would leave it half done.
        for year in options["declare"]:
            validate_calendar_year(year)
        try:
            if options["file"] == "-":
                rows, errors = calendar.parse_override_csv(sys.stdin)
            else:
                with open(options["file"], encoding=options["encoding"], newline="") as handle:
                    rows, errors = calendar.parse_override_csv(handle)
        except OSError as error:
            raise CommandError(f"cannot read {options['file']}: {error.strerror}") from None
        except UnicodeDecodeError as error:
            raise CommandError(
                f"{options['file']} is not {options['encoding']} text ({error.reason} at byte {error.start}); "
                "try --encoding gb18030"
            ) from None
        if errors:
            for message in errors:
                self.stderr.write(message)
            raise CommandError(f"{len(errors)} error(s) in {options['file']}; nothing was imported.")
        if options["dry_run"]:
            self.stdout.write(f"{len(rows)} row(s) are valid; nothing was changed (--dry-run).")
            return
        actor = self._actor()
        counts = calendar.workday_overrides_import(actor=actor, rows=rows)
        for year in options["declare"]:
            calendar.calendar_year_declare(actor=actor, year=year, note=f"import of {options['file']}")
        self.stdout.write(
            self.style.SUCCESS(
                "{created} created, {updated} updated, {unchanged} unchanged.".format(**counts)
                + (f" Declared: {', '.join(map(str, options['declare']))}." if options["declare"] else "")
            )
        )
        self._remind_undeclared({row.date.year for row in rows} - set(options["declare"]))

    def handle_export(self, options):
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(["date", "kind", "name", "note"])
        for override in calendar.workday_override_list(year=options["year"]):
            writer.writerow([override.date.isoformat(), override.kind, override.name, override.note])

    def handle_declare(self, options):
        calendar.calendar_year_declare(actor=self._actor(), year=options["year"], note=options["note"])
        count = calendar.workday_override_list(year=options["year"]).count()
        self.stdout.write(self.style.SUCCESS(f"{options['year']} declared complete ({count} override(s))."))

    def handle_undeclare(self, options):
        if calendar.calendar_year_undeclare(actor=self._actor(), year=options["year"]):
            self.stdout.write(f"{options['year']} is no longer declared.")
        else:
            self.stdout.write(f"{options['year']} was not declared.")

    def handle_coverage(self, options):
        this_year = calendar.today().year
        rows = calendar.coverage_list(extra_years=(this_year, this_year + 1))
        package = [row for row in rows if row.source == calendar.SOURCE_PACKAGE]
        if package:
            extra = sum(row.overrides for row in package)
            self.stdout.write(
                f"{package[0].year}–{package[-1].year}  package (chinesecalendar)"
                + (f", {extra} override(s)" if extra else "")
            )
        for row in rows:
            if row.source == calendar.SOURCE_PACKAGE:
                continue
            if row.source == calendar.SOURCE_DECLARED:
                self.stdout.write(
                    f"{row.year}       declared by an administrator, {row.overrides} override(s)"
                )
            else:
                self.stdout.write(
                    self.style.WARNING(
                        f"{row.year}       NOT KNOWN: weekends assumed ({row.overrides} override(s), not declared)"
                    )
                )

    def handle_add_days(self, options):
        start = calendar.parse_date(options["date"])
        try:
            result = calendar.add_working_days(start, options["n"])
        except (ValueError, OverflowError):
            raise CommandError(
                f"{options['n']} working day(s) from {start.isoformat()} fall outside the years 1–9999."
            ) from None
        self.stdout.write(f"{result.isoformat()} {result:%a}")
        self._warn_guessed_years(calendar.fallback_years(start, result))

    def handle_between(self, options):
        start, end = calendar.parse_date(options["start"]), calendar.parse_date(options["end"])
        self.stdout.write(str(calendar.working_days_between(start, end)))
        self._warn_guessed_years(calendar.fallback_years(start, end))

    def _remind_undeclared(self, years):
        for year in sorted(years):
            if calendar.year_coverage(year).source == calendar.SOURCE_FALLBACK:
                self.stdout.write(
                    f"{year} is not declared complete yet: once all its holidays and adjusted working days "
                    f"are in, run `tongban calendar declare {year}`."
                )
