"""``tongban messages``: failed deliveries, send what is due now, retry failures, set up the demo templates."""

from django.core.management.base import BaseCommand

from tongban.core.audit import Actor
from tongban.messaging import selectors, services
from tongban.messaging.demo import message_templates_demo_ensure

OPERATOR = Actor(kind="system", id="cli", label="tongban messages")


class Command(BaseCommand):
    help = "Messaging: failed [--limit N], deliver, retry-failed, templates."

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="action", metavar="ACTION")
        subparsers.required = True
        failed = subparsers.add_parser("failed", help="list deliveries that failed after every attempt")
        failed.add_argument("--limit", type=int, default=100)
        subparsers.add_parser("deliver", help="send every delivery that is due now")
        subparsers.add_parser("retry-failed", help="queue every failed delivery again with fresh attempts")
        subparsers.add_parser("templates", help="create or update the demo message templates")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "failed":
            failed = selectors.delivery_list_failed()
            total = failed.count()
            for delivery in failed[: options["limit"]]:
                message = delivery.message
                recipient = message.person.name if message.person_id else message.organisation.name
                error = (delivery.last_error or "").splitlines()[-1:] or [""]
                self.stdout.write(
                    f"{delivery.pk} {delivery.channel} {delivery.masked_address} "
                    f"attempts={delivery.attempts} {delivery.updated_at:%Y-%m-%d %H:%M} "
                    f"{message.template_code} {recipient}: {error[0][:200]}"
                )
            self.stdout.write(f"{total} failed deliveries")
        elif action == "deliver":
            counts = services.deliveries_run()
            self.stdout.write(f"{counts['sent']} sent, {counts['failed']} failed attempts")
        elif action == "retry-failed":
            ids = list(selectors.delivery_list_failed().values_list("pk", flat=True))
            count = services.delivery_retry(actor=OPERATOR, delivery_ids=ids)
            self.stdout.write(f"{count} deliveries queued again")
        elif action == "templates":
            count = message_templates_demo_ensure(actor=OPERATOR)
            self.stdout.write(f"{count} message templates")
