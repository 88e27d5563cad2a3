"""``tongban deadlines [--today YYYY-MM-DD]``: raise the time-limit warnings now and print what was raised."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tongban.core.calendar import parse_date
from tongban.supervision.services import deadlines_check


class Command(BaseCommand):
    help = "Raise the yellow warnings and red cards due today (or on --today) on tasks, cases (their handling and their acceptance) and tickets."

    def add_arguments(self, parser):
        parser.add_argument(
            "--today", help="the day to check as, YYYY-MM-DD (default: today in Asia/Shanghai)"
        )

    def handle(self, *args, today=None, **options):
        day = None
        if today:
            try:
                day = parse_date(today)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
        counts = deadlines_check(today=day)
        self.stdout.write(
            _(
                "Tasks: %(tasks_checked)s looked at, %(tasks_yellow)s yellow warnings and %(tasks_red)s red "
                "cards raised. Cases: %(cases_checked)s looked at, %(cases_yellow)s yellow warnings and "
                "%(cases_red)s red cards raised. Cases waiting for acceptance: %(acceptances_checked)s looked at, "
                "%(acceptances_yellow)s yellow warnings and %(acceptances_red)s red cards raised, %(acceptances_deemed)s "
                "deemed accepted by law. 12345 tickets: "
                "%(tickets_checked)s looked at, "
                "%(tickets_yellow)s yellow warnings and %(tickets_red)s red cards raised."
            )
            % counts
        )
