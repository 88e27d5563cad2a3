"""E-licences (电子证照): licence types, the departments' signing keys and the licences they sign.

Private keys are never stored here: a SigningKey row holds the public half, the private half lives in the key
storage (``tongban.licences.keys``). A Licence keeps what its signature covers (``signing.canonical_payload``),
so the register itself can be checked against the signature.
"""

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.core.models.base import TimeStampedModel, UUIDModel
from tongban.identity.models import Department, Organisation, Person

__all__ = ["SENSITIVITIES", "Licence", "LicenceType", "SigningKey"]

# How widely a field of a licence may be shown: on the public verification page (public), on the licence and
# to staff (internal), to the holder (personal), masked even on the licence (sensitive).
SENSITIVITIES = ("public", "internal", "personal", "sensitive")


class Algorithm(models.TextChoices):
    ED25519 = "ed25519", "Ed25519"
    SM2 = "sm2", _("SM2 with SM3")


class LicenceType(TimeStampedModel):
    """A kind of licence (证照类型), e.g. 出生医学证明, with the fields its licences carry."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=128)
    name_en = models.CharField(_("English name"), max_length=128)
    number_prefix = models.CharField(
        _("number prefix"),
        max_length=6,
        validators=[RegexValidator(r"^[A-Z]{2,6}$", _("Two to six capital letters."))],
        help_text=_("Licence numbers start with it: <prefix>-<year>-<random>."),
    )
    department_code = models.SlugField(
        _("issuing department code"),
        max_length=64,
        help_text=_("The municipal department that issues it; its district branches may issue it too."),
    )
    fields = models.JSONField(
        _("fields"),
        default=list,
        blank=True,
        help_text=_(
            'A list of {"name", "label_zh", "label_en", "sensitivity": public|internal|personal|sensitive, '
            '"required": true|false}.'
        ),
    )
    validity_years = models.PositiveSmallIntegerField(
        _("validity in years"), null=True, blank=True, help_text=_("Empty: the licence does not expire.")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("licence type")
        verbose_name_plural = _("licence types")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name_zh} ({self.code})"

    @property
    def name(self):
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    def clean(self):
        from django.core.exceptions import ValidationError

        if not isinstance(self.fields, list):
            raise ValidationError({"fields": _("Give the fields as a list.")})
        seen = set()
        for position, spec in enumerate(self.fields, start=1):
            if not isinstance(spec, dict) or not spec.get("name") or not isinstance(spec.get("name"), str):
                raise ValidationError({"fields": _("Field %(n)s needs a name.") % {"n": position}})
            if spec["name"] in seen:
                raise ValidationError({"fields": _("Field %(name)s appears twice.") % {"name": spec["name"]}})
            seen.add(spec["name"])
            if spec.get("sensitivity", "internal") not in SENSITIVITIES:
                raise ValidationError(
                    {"fields": _("Field %(name)s has an unknown sensitivity.") % {"name": spec["name"]}}
                )


class SigningKey(UUIDModel):
    """The public half of a department's signing key (签章密钥); the private half is in the key storage."""

    Algorithm = Algorithm

    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="licence_keys"
    )
    key_id = models.CharField(_("key id"), max_length=32, unique=True, help_text=_("Fingerprint."))
    algorithm = models.CharField(_("algorithm"), max_length=8, choices=Algorithm.choices)
    public_key = models.TextField(_("public key"), help_text=_("PEM (Ed25519) or hex 04||x||y (SM2)."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        ordering = ["department", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["department"], condition=Q(active=True), name="licences_one_active_key_per_department"
            ),
            models.CheckConstraint(
                condition=Q(active=True, retired_at__isnull=True) | Q(active=False, retired_at__isnull=False),
                name="licences_key_retired_when_inactive",
            ),
            models.CheckConstraint(
                condition=Q(algorithm__in=["ed25519", "sm2"]), name="licences_key_algorithm_valid"
            ),
        ]

    def __str__(self):
        return f"{self.department.code} {self.algorithm} {self.key_id}"


class Licence(UUIDModel):
    """One electronic licence (电子证照), signed by its issuing department's key."""

    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        REVOKED = "revoked", _("Revoked")

    number = models.CharField(_("licence number"), max_length=40, unique=True)
    type = models.ForeignKey(
        LicenceType, verbose_name=_("licence type"), on_delete=models.PROTECT, related_name="licences"
    )
    holder_person = models.ForeignKey(
        Person,
        verbose_name=_("holder (person)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="licences",
        db_index=False,
    )
    holder_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("holder (organisation)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="licences",
        db_index=False,
    )
    # "person:<uuid>" or "organisation:<uuid>": one column for the idempotency constraint below.
    holder_key = models.CharField(_("holder key"), max_length=60, editable=False)
    holder_name = models.CharField(_("holder name"), max_length=200)
    holder_id_number = models.CharField(_("holder ID number"), max_length=18)
    data = models.JSONField(_("data"), default=dict, blank=True)
    issued_at = models.DateTimeField(_("issued at"), db_index=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("issuing department"), on_delete=models.PROTECT, related_name="licences"
    )
    case_id = models.UUIDField(_("case"), null=True, blank=True, db_index=True)
    key = models.ForeignKey(
        SigningKey, verbose_name=_("signing key"), on_delete=models.PROTECT, related_name="licences"
    )
    algorithm = models.CharField(_("algorithm"), max_length=8, choices=Algorithm.choices)
    signature = models.CharField(_("signature"), max_length=200, help_text=_("base64url"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.VALID)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_reason = models.TextField(_("reason for revocation"), blank=True)
    revoked_by = models.CharField(_("revoked by"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("licence")
        verbose_name_plural = _("licences")
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(holder_person__isnull=False, holder_organisation__isnull=True)
                    | Q(holder_person__isnull=True, holder_organisation__isnull=False)
                ),
                name="licences_licence_one_holder",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["valid", "revoked"]), name="licences_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="valid", revoked_at__isnull=True)
                | Q(status="revoked", revoked_at__isnull=False),
                name="licences_revoked_has_time",
            ),
            # A retried issuance for the same case result returns the first licence.
            models.UniqueConstraint(
                fields=["case_id", "type", "holder_key"],
                condition=Q(case_id__isnull=False),
                name="licences_one_per_case_type_holder",
            ),
        ]
        indexes = [
            models.Index(fields=["holder_person", "-issued_at"], name="licences_holder_person"),
            models.Index(fields=["holder_organisation", "-issued_at"], name="licences_holder_org"),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("licences:detail", args=[self.number])

    @property
    def is_revoked(self):
        return self.status == self.Status.REVOKED

    @property
    def is_expired(self):
        from django.utils import timezone

        return self.valid_until is not None and self.valid_until < timezone.localdate()
