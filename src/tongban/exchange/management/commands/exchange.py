"""``tongban exchange sync-resources``: mirror the registries' resource specs into the data catalogue."""

from django.core.management.base import BaseCommand

from tongban.core.audit import Actor
from tongban.exchange.services import data_resources_sync


class Command(BaseCommand):
    help = "Data hub operations: sync-resources (create or update the data catalogue from the registries)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{sync-resources}")
        actions.add_parser(
            "sync-resources",
            help="Create or update one DataResource per registered resource spec; deactivate vanished ones.",
        )

    def handle(self, *args, **options):
        if options["action"] == "sync-resources":
            actor = Actor(kind="system", id="exchange-sync", label="tongban exchange sync-resources")
            counts = data_resources_sync(actor=actor)
            self.stdout.write(", ".join(f"{name}: {n}" for name, n in counts.items()))
