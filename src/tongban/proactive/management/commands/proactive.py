"""``tongban proactive sweep [--today DATE]``: run the daily milestone sweep now."""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from tongban.proactive.services import milestones_sweep


class Command(BaseCommand):
    help = "Proactive services: run the daily milestone sweep (life events reached today, then the rules)."

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="action", metavar="ACTION")
        subparsers.required = True
        sweep = subparsers.add_parser(
            "sweep", help="find today's milestones and expiring licences; apply rules"
        )
        sweep.add_argument("--today", default=None, help="the day to sweep for, YYYY-MM-DD (default: today)")
        sweep.add_argument("--batch-size", type=int, default=5000, help="persons per batch (default 5,000)")

    def handle(self, *args, **options):
        today = None
        if options.get("today"):
            try:
                today = dt.date.fromisoformat(options["today"])
            except ValueError as exc:
                raise CommandError(
                    f"--today must be a date like 2026-03-01, not {options['today']!r}"
                ) from exc
        figures = milestones_sweep(today=today, batch_size=options["batch_size"])
        self.stdout.write(
            f"swept {figures['today']}: {figures['life_events']} life events, {figures['offers']} offers and "
            f"notices, {figures['failures']} failures, in {figures['seconds']} s"
        )
        self.stdout.write(json.dumps(figures))
