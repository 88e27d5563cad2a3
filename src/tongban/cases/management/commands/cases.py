"""``tongban cases sweep-files``: remove material files that no case names.

``tongban cases guided-measure``: the fields an applicant types per published bundle, before and after guided
application (reads the data hub as the prefill does: one data-use line a day per person and field set).
"""

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tongban.cases import files


class Command(BaseCommand):
    help = (
        "Cases: sweep-files [--all] [--days N] [--grace-minutes N] [--dry-run] | guided-measure [--as USER]."
    )

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

        measure = subparsers.add_parser(
            "guided-measure", help="fields typed per bundle before and after guided application"
        )
        measure.add_argument("--as", dest="username", default="li.ming", help="the applicant (a citizen)")

    def handle(self, *args, **options):
        if options["action"] == "guided-measure":
            return self._measure(options["username"])
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

    def _measure(self, username):
        from tongban.cases import guided
        from tongban.catalog.models import Bundle, PublicationStatus
        from tongban.identity.models import Person

        person = Person.objects.filter(user__username=username).first()
        if person is None:
            raise CommandError(f"no citizen {username!r}")
        self.stdout.write("service\tfields\tquestions\ttyped before\ttyped after\tleft to type")
        for bundle in Bundle.objects.filter(status=PublicationStatus.PUBLISHED).order_by("code"):
            answers = guided.default_answers(guided.questions_for(bundle))
            row = guided.measure(service=bundle, applicant_person=person, answers=answers)
            self.stdout.write(
                f"{row['service']}\t{row['fields']}\t{row['questions']}\t{row['before']}\t{row['after']}\t"
                + ",".join(row["typed_after"])
            )
