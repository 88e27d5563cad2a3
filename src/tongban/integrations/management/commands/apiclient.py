"""``tongban apiclient create NAME --department CODE --scope S ...``: register another system as an API client."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tongban.catalog.selectors import item_get
from tongban.identity.models import User
from tongban.identity.selectors import actor_for, department_get
from tongban.integrations import services
from tongban.integrations.models import ApiClient
from tongban.integrations.scopes import scope_names


class Command(BaseCommand):
    help = "Register an API client (OAuth 2 client credentials) and print its client id and secret, or list them."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", metavar="ACTION")
        sub.required = True
        create = sub.add_parser("create", help="register a client; its secret is printed once")
        create.add_argument("name")
        create.add_argument("--department", required=True, help="the department code the system works for")
        create.add_argument("--scope", action="append", required=True, choices=scope_names(), dest="scopes")
        create.add_argument("--also", action="append", default=[], help="another department code it may read")
        create.add_argument("--item", action="append", default=[], help="limit to this service item code")
        create.add_argument(
            "--sensitivity", default="internal", choices=["public", "internal", "personal", "sensitive"]
        )
        create.add_argument("--rate", default="", help="e.g. 120/minute (default: TONGBAN_API_CLIENT_RATE)")
        create.add_argument(
            "--admin", required=True, help="the platform administrator's user name (on record)"
        )
        sub.add_parser("list", help="the clients with their scopes and limits")

    def handle(self, *args, action, **options):
        if action == "list":
            for client in ApiClient.objects.select_related("department", "application"):
                state = "" if client.active else " (inactive)"
                self.stdout.write(
                    f"{client.name}{state}: {client.application.client_id} {client.department.code} "
                    f"{' '.join(client.scopes)} up to {client.max_sensitivity}"
                )
            return
        admin = User.objects.filter(username=options["admin"]).first()
        if admin is None:
            raise CommandError(f"no user {options['admin']!r}")
        departments = []
        for code in [options["department"], *options["also"]]:
            department = department_get(code)
            if department is None:
                raise CommandError(f"no department {code!r}")
            departments.append(department)

        items = [item_get(code, published=False) for code in options["item"]]
        if None in items:
            raise CommandError("an --item code names no service item")
        try:
            client, secret = services.api_client_create(
                actor=actor_for(admin, second_factor=True),
                name=options["name"],
                department=departments[0],
                scopes=options["scopes"],
                departments=departments[1:],
                service_items=items,
                max_sensitivity=options["sensitivity"],
                rate=options["rate"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"client_id={client.application.client_id}")
        self.stdout.write(f"client_secret={secret}")
