"""``tongban licences``: rotate a department's signing key, verify a token, set up the demo licence types."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tongban.core.audit import Actor
from tongban.licences import crypto, services

OPERATOR = Actor(kind="system", id="cli", label="tongban licences")


class Command(BaseCommand):
    help = "E-licences: rotate-key DEPT_CODE [--algorithm sm2], verify TOKEN, types."

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="action", metavar="ACTION")
        subparsers.required = True
        rotate = subparsers.add_parser(
            "rotate-key", help="give a department a new signing key; the old one keeps verifying its licences"
        )
        rotate.add_argument("department", help="department code, e.g. health or public-security-310104")
        rotate.add_argument(
            "--algorithm",
            choices=crypto.ALGORITHMS,
            help="algorithm of the new key (default: the current key's, else TONGBAN_LICENCE_ALGORITHM)",
        )
        verify = subparsers.add_parser("verify", help="verify a licence token (or verification link)")
        verify.add_argument("token")
        subparsers.add_parser("types", help="create or update the demo licence types")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "rotate-key":
            try:
                key = services.key_rotate(
                    actor=OPERATOR, department=options["department"], algorithm=options["algorithm"]
                )
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
            self.stdout.write(f"{key.department.code}: new {key.algorithm} key {key.key_id}")
        elif action == "verify":
            result = services.licence_verify(options["token"])
            line = result.status
            if result.licence is not None:
                line += (
                    f" {result.licence.number} {result.licence.type.code} {result.licence.department.code}"
                )
                if result.expired:
                    line += " (expired)"
            self.stdout.write(line)
            if result.status != services.VALID:
                raise SystemExit(1)
        elif action == "types":
            count = services.licence_types_demo_ensure(actor=OPERATOR)
            self.stdout.write(f"{count} licence types")
