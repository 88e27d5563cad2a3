"""``tongban audit verify | checkpoint | keygen | rotate-chain-key``: operate the audit chain."""

import base64

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tongban.core.audit import (
    audit_checkpoint_create,
    audit_verify,
    checkpoint_as_json,
    generate_signing_key,
    key_fingerprint,
    public_key_bytes,
    signing_key,
)
from tongban.core.audit_keys import rotate_chain_key


class Command(BaseCommand):
    help = "Verify the audit log, sign a checkpoint of its chain heads, or make a signing key."

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="action", metavar="ACTION")
        subparsers.required = True
        verify = subparsers.add_parser(
            "verify", help="check every chain and checkpoint; exit 1 naming the first bad entry"
        )
        verify.add_argument(
            "--workers", type=int, default=None, help="processes verifying chains in parallel (default: auto)"
        )
        checkpoint = subparsers.add_parser("checkpoint", help="sign the current chain heads now")
        checkpoint.add_argument(
            "--force", action="store_true", help="sign even if nothing changed since the last checkpoint"
        )
        subparsers.add_parser("keygen", help="print a new Ed25519 key for TONGBAN_AUDIT_SIGNING_KEY")
        subparsers.add_parser(
            "rotate-chain-key",
            help="add a new HMAC key to TONGBAN_AUDIT_CHAIN_KEY_FILE for new entries (old keys stay to verify)",
        )

    def handle(self, *args, **options):
        getattr(self, f"handle_{options['action'].replace('-', '_')}")(**options)

    def handle_verify(self, *, workers, **options):
        report = audit_verify(workers=workers)
        summary = _(
            "Verified %(entries)s entries in %(chains)s chain(s) and %(checkpoints)s checkpoint(s) in "
            "%(seconds).2f s (%(rate)s entries/s, %(workers)s process(es))."
        ) % {
            "entries": f"{report.entries:,}",
            "chains": report.chains,
            "checkpoints": report.checkpoints,
            "seconds": report.seconds,
            "rate": f"{report.rate:,.0f}",
            "workers": report.workers,
        }
        self.stdout.write(summary)
        if report.witnessed is None:
            self.stdout.write(
                self.style.WARNING(_("No witness is configured: checkpoints are not anchored."))
            )
        else:
            self.stdout.write(_("%(count)s checkpoint(s) in the witness.") % {"count": report.witnessed})
        for warning in report.warnings:
            self.stdout.write(self.style.WARNING(warning))
        if report.ok:
            self.stdout.write(self.style.SUCCESS(_("The audit log is intact.")))
            return
        for problem in report.problems:
            self.stdout.write(self.style.ERROR(problem.message))
        first = report.problems[0]
        raise CommandError(
            _("The audit log has been tampered with: %(count)s problem(s), the first: %(message)s")
            % {"count": len(report.problems), "message": first.message}
        )

    def handle_checkpoint(self, *, force, **options):
        checkpoint = audit_checkpoint_create(force=force)
        if checkpoint is None:
            self.stdout.write(
                _("No checkpoint made: the log is empty or unchanged since the last checkpoint.")
            )
            return
        self.stdout.write(
            _("Checkpoint #%(id)s signed: %(entries)s entries, key %(fingerprint)s.")
            % {
                "id": checkpoint.pk,
                "entries": checkpoint.entries,
                "fingerprint": checkpoint.key_fingerprint[:16],
            }
        )
        # The checkpoint as one JSON line: keep a copy outside the database's reach.
        self.stdout.write(checkpoint_as_json(checkpoint))

    def handle_rotate_chain_key(self, **options):
        key_id = rotate_chain_key()
        self.stdout.write(
            _(
                "New entries now use chain key %(key)s; the older keys stay in the file so older entries verify."
            )
            % {"key": key_id}
        )

    def handle_keygen(self, **options):
        key, fingerprint = generate_signing_key()
        current = signing_key()
        self.stdout.write(
            _(
                "A new audit signing key. Put it in TONGBAN_AUDIT_SIGNING_KEY and keep it secret. So that the "
                "checkpoints signed by the current key (%(old)s) still verify, add that key's public half to "
                "TONGBAN_AUDIT_TRUSTED_KEYS."
            )
            % {"old": key_fingerprint(current)[:16]}
        )
        self.stdout.write(f"TONGBAN_AUDIT_SIGNING_KEY={key}")
        self.stdout.write(_("New key's fingerprint: %(fingerprint)s") % {"fingerprint": fingerprint})
        self.stdout.write(
            f"TONGBAN_AUDIT_TRUSTED_KEYS={base64.b64encode(public_key_bytes(current)).decode()}"
        )
