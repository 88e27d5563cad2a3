"""Audit chain (留痕): append-only, hash-chained entries and the signed checkpoints of their chain heads.

The rules that make the log tamper-evident live in ``tongban.core.audit``; these models only hold
the rows. Both tables are append-only: the database itself refuses UPDATE and DELETE on them
(triggers installed by migration ``0002_audit_triggers``), and nothing in the code changes a row
after it is written.
"""

import json
from datetime import UTC, datetime, timedelta

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def epoch_microseconds(moment: datetime) -> int:
    """``moment`` as whole microseconds since 1970-01-01 UTC (exact: no floating point)."""
    return (moment - EPOCH) // MICROSECOND


class EpochMicrosecondsField(models.DateTimeField):
    """A moment stored as an integer: microseconds since 1970-01-01 UTC.

    In Python it is an aware datetime like any DateTimeField; in the database a bigint, which
    hashes and verifies without any date formatting, the same on SQLite and PostgreSQL. Comparisons
    (exact, lt, gt, range) work; date transforms such as ``__date`` or ``__year`` do not.
    """

    def get_internal_type(self):
        return "BigIntegerField"

    def get_db_prep_value(self, value, connection, prepared=False):
        if not prepared:
            value = self.get_prep_value(value)
        return None if value is None else epoch_microseconds(value)

    def from_db_value(self, value, expression, connection):
        return None if value is None else EPOCH + value * MICROSECOND


class AuditEntry(models.Model):
    """One action or personal-data read, chained by hash to the previous entry of its chain.

    The log is split into ``settings.TONGBAN_AUDIT_SHARDS`` chains so that concurrent writers do
    not queue on one lock; within a chain, ``seq`` counts 1, 2, 3 ... without gaps and ``hash``
    covers every field below plus ``prev_hash`` (see ``tongban.core.audit`` for the exact
    serialisation). The integer primary key only locates a row; an entry's identity is
    (``chain``, ``seq``), which the hash covers.
    """

    id = models.BigAutoField(primary_key=True)
    chain = models.PositiveSmallIntegerField(_("chain"))
    seq = models.PositiveBigIntegerField(_("sequence in chain"))
    at = EpochMicrosecondsField(_("time"))
    actor_kind = models.CharField(_("actor kind"), max_length=16)
    actor_id = models.CharField(_("actor id"), max_length=100)
    actor_label = models.CharField(_("actor"), max_length=200)
    actor_role = models.CharField(_("actor's role"), max_length=64, blank=True)
    actor_department = models.CharField(_("actor's department"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=100)
    subject_type = models.CharField(_("subject type"), max_length=100, blank=True)
    subject_id = models.CharField(_("subject id"), max_length=100, blank=True)
    case_id = models.CharField(_("case"), max_length=100, blank=True)
    ticket_id = models.CharField(_("ticket"), max_length=100, blank=True)
    purpose = models.CharField(_("purpose"), max_length=500, blank=True)
    # Canonical JSON text (sorted keys, no spaces), hashed exactly as stored: never re-serialised.
    details = models.TextField(_("details"), default="{}", blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)
    # The HMAC key (core.audit_keys) of a keyed entry; NULL for an entry of the plain SHA-256 scheme (TBA1)
    # written before keys existed, which verifies as before. Last field: the append builds rows in field order.
    key_id = models.CharField(_("key id"), max_length=16, null=True, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        # Newest first by id: ids grow with time, and every index below ends with id, so a filtered
        # list is one ordered index range. No index on ``at``: each index is paid on every append.
        ordering = ["-id"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="core_audit_chain_seq_unique"),
        ]
        indexes = [
            models.Index(fields=["actor_kind", "actor_id", "id"], name="core_audit_actor_idx"),
            models.Index(fields=["actor_department", "id"], name="core_audit_department_idx"),
            models.Index(
                fields=["subject_type", "subject_id", "id"],
                name="core_audit_subject_idx",
                condition=~Q(subject_id=""),
            ),
            models.Index(fields=["case_id", "id"], name="core_audit_case_idx", condition=~Q(case_id="")),
            models.Index(
                fields=["ticket_id", "id"], name="core_audit_ticket_idx", condition=~Q(ticket_id="")
            ),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} [{self.chain}:{self.seq}]"

    @property
    def details_data(self):
        """The details as a dict (parsed from the stored canonical JSON)."""
        return json.loads(self.details or "{}")


class AuditCheckpoint(models.Model):
    """A signed snapshot of every chain's head: truncating or rewriting a chain behind it is caught.

    ``heads`` is canonical JSON ``[[chain, seq, hash], ...]`` sorted by chain; ``signature`` is the
    Ed25519 signature (hex) by the key whose public-key fingerprint is ``key_fingerprint``.
    """

    id = models.BigAutoField(primary_key=True)
    at = EpochMicrosecondsField(_("time"))
    heads = models.TextField(_("chain heads"))
    entries = models.PositiveBigIntegerField(_("entries covered"))
    key_fingerprint = models.CharField(_("key fingerprint"), max_length=64)
    signature = models.CharField(_("signature"), max_length=128)

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        ordering = ["-id"]
        default_permissions = ("view",)

    def __str__(self):
        return f"#{self.pk} {self.at:%Y-%m-%d %H:%M:%S} ({self.entries})"

    @property
    def heads_data(self):
        """The heads as a list of ``(chain, seq, hash)`` tuples."""
        return [tuple(head) for head in json.loads(self.heads or "[]")]
