"""法人一证通: certificates of organisations and their agents, sign-in challenges, uses, signed submissions.

Certificates' private keys are not here: the root's and the organisations' live in ``TONGBAN_ENTERPRISE_CA_DIR``
(``enterprise.ca``); an agent's lives in the agent's browser or key file. Rows keep the public certificate and
its state; every use re-checks the certificate's chain against the root read from the file.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.core.models import TimeStampedModel, UUIDModel

SCOPES = {
    "login": _("sign in for the enterprise"),
    "sign": _("sign submissions for the enterprise"),
}


class Certificate(TimeStampedModel):
    """One X.509 certificate the platform's enterprise CA issued: an organisation's, or one of its agents'."""

    class Kind(models.TextChoices):
        ORGANISATION = "organisation", _("organisation certificate")
        AGENT = "agent", _("agent certificate")

    organisation = models.ForeignKey(
        "identity.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="certificates",
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("issued under"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enterprise_certificates",
    )
    serial = models.CharField(_("serial number"), max_length=40, unique=True)
    subject = models.CharField(_("subject"), max_length=300)
    pem = models.TextField(_("certificate (PEM)"))
    key_sha256 = models.CharField(_("SHA-256 of the public key (SPKI)"), max_length=64, db_index=True)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid until"), db_index=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revocation_reason = models.CharField(_("reason for revocation"), max_length=200, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("enterprise certificate")
        verbose_name_plural = _("enterprise certificates")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="organisation", parent__isnull=True, holder__isnull=True)
                | Q(kind="agent", parent__isnull=False, holder__isnull=False),
                name="enterprise_certificate_kind_shape",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "kind"], name="enterprise_cert_org_kind")]

    def __str__(self):
        return f"{self.subject} ({self.serial})"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class SignInChallenge(UUIDModel):
    """A one-time nonce an agent's key signs to sign in; used once, within minutes."""

    nonce = models.CharField(_("nonce"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in challenge")
        verbose_name_plural = _("sign-in challenges")

    def __str__(self):
        return self.nonce[:8]


class CertificateUse(models.Model):
    """Who used a certificate, when, for what (a sign-in, a signature) and whether it was accepted."""

    class Purpose(models.TextChoices):
        LOGIN = "login", _("sign-in")
        SIGN = "sign", _("signature")

    certificate = models.ForeignKey(
        Certificate, verbose_name=_("certificate"), on_delete=models.PROTECT, related_name="uses"
    )
    purpose = models.CharField(_("purpose"), max_length=8, choices=Purpose.choices)
    accepted = models.BooleanField(_("accepted"))
    reason = models.CharField(_("reason"), max_length=32, blank=True)
    case_number = models.CharField(_("case number"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=64, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("certificate use")
        verbose_name_plural = _("certificate uses")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.certificate_id} {self.purpose} {self.at:%Y-%m-%d %H:%M}"


class CaseSignature(TimeStampedModel):
    """An agent's signature kept with a case (by id): made with the submission (over the form or API body as
    sent, checked before the case was written, in its transaction) or afterwards (over the case's canonical
    JSON). ``case_sha256`` is the case's canonical JSON when the signature was kept, so staff see whether the
    case changed since."""

    class Kind(models.TextChoices):
        SUBMISSION = "submission", _("signed with the submission")
        CASE = "case", _("signed after submission")

    case_id = models.UUIDField(_("case"), db_index=True)
    case_number = models.CharField(_("case number"), max_length=32)
    certificate = models.ForeignKey(
        Certificate, verbose_name=_("certificate"), on_delete=models.PROTECT, related_name="signatures"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.CASE)
    payload = models.TextField(_("signed text (canonical JSON)"))
    payload_sha256 = models.CharField(_("SHA-256 of the signed text"), max_length=64)
    case_sha256 = models.CharField(_("SHA-256 of the case when signed"), max_length=64, blank=True)
    signature = models.TextField(_("signature (base64)"))

    class Meta:
        verbose_name = _("signed submission")
        verbose_name_plural = _("signed submissions")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.case_number} {self.certificate_id}"


class CertificateRequest(TimeStampedModel):
    """An agent's request for a certificate for a key they hold (proved by a signed challenge)."""

    organisation = models.ForeignKey(
        "identity.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="certificate_requests",
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("agent"), on_delete=models.PROTECT, related_name="+"
    )
    public_key = models.TextField(_("public key (PEM)"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    refusal_reason = models.CharField(_("reason for refusal"), max_length=200, blank=True)
    certificate = models.OneToOneField(
        Certificate,
        verbose_name=_("certificate"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="request",
    )

    class Meta:
        verbose_name = _("certificate request")
        verbose_name_plural = _("certificate requests")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.organisation_id} {self.agent_id}"
