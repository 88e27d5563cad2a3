"""``tongban webhooks relay | deliver | replay | status``: the webhook deliveries by hand."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tongban.core.audit import Actor
from tongban.integrations import selectors, services

OPERATOR = Actor(kind="system", id="cli", label="tongban webhooks")


class Command(BaseCommand):
    help = (
        "Relay outbox events to webhook subscribers, send due deliveries, replay dead ones, or list failures."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", metavar="ACTION")
        sub.required = True
        sub.add_parser("relay", help="offer the outbox's new events to the subscribers (writes deliveries)")
        sub.add_parser("deliver", help="relay, then send every due delivery now")
        replay = sub.add_parser("replay", help="send dead deliveries again (with fresh attempts)")
        replay.add_argument("--subscriber", help="only this subscriber (its name)")
        replay.add_argument("--since", help="only events recorded since this date (YYYY-MM-DD)")
        replay.add_argument(
            "--delivered", action="store_true", help="also deliveries that succeeded (a receiver lost them)"
        )
        sub.add_parser("status", help="each subscriber's deliveries: delivered, pending, dead; failing ones")

    def handle(self, *args, action, **options):
        if action == "relay":
            self.stdout.write(f"{services.webhooks_relay()} deliveries written")
        elif action == "deliver":
            services.webhooks_relay()
            self.stdout.write(f"{services.webhooks_deliver()} deliveries attempted")
        elif action == "replay":
            since = None
            if options["since"]:
                try:
                    since = dt.datetime.combine(dt.date.fromisoformat(options["since"]), dt.time.min)
                except ValueError as exc:
                    raise CommandError("--since takes a date as YYYY-MM-DD") from exc
                since = timezone.make_aware(since)
            ids = selectors.replayable_deliveries(
                subscriber=options["subscriber"], since=since, delivered=options["delivered"]
            )
            count = services.webhook_replay(actor=OPERATOR, delivery_ids=ids, checked=True)
            self.stdout.write(f"{count} deliveries put back to pending")
        else:
            for row in selectors.subscriber_summaries():
                flag = (
                    f"  FAILING since {row['failing_since']:%Y-%m-%d %H:%M}" if row["failing_since"] else ""
                )
                self.stdout.write(
                    f"{row['name']}: {row['delivered']} delivered, {row['pending']} pending, {row['dead']} dead, "
                    f"{row['consecutive_failures']} failures in a row{flag}"
                )
