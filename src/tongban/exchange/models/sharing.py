"""Data resources, sharing grants and data-use records (政务信息资源目录 / 共享授权 / 数据使用记录).

``DataResource`` rows mirror the registries' ``ResourceSpec`` objects (``exchange.resources``): they are written
only by ``services.data_resources_sync``. A ``SharingGrant`` lets a requesting department read some fields of
one resource for one purpose during a validity period. A ``DataUse`` is what a person sees under "who used my
data": one row per person concerned by a lookup, allowed or refused.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.core.models import TimeStampedModel
from tongban.identity.models import Department, Organisation, Person

__all__ = ["DataResource", "DataUse", "SharingGrant"]


class DataResource(TimeStampedModel):
    """数据资源: a catalogued data set of a department's registry, with its sharing class."""

    class Subject(models.TextChoices):
        PERSON = "person", _("person")
        ORGANISATION = "organisation", _("organisation")
        PROPERTY_UNIT = "property_unit", _("property unit")

    class Sharing(models.TextChoices):
        UNCONDITIONAL = "unconditional", _("unconditional sharing")  # 无条件共享
        CONDITIONAL = "conditional", _("conditional sharing")  # 有条件共享
        NOT_SHARED = "not_shared", _("not shared")  # 不予共享

    code = models.SlugField(_("code"), max_length=64, unique=True)
    owner = models.ForeignKey(
        Department, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="data_resources"
    )
    name_zh = models.CharField(_("Chinese name"), max_length=128)
    name_en = models.CharField(_("English name"), max_length=128, blank=True)
    subject = models.CharField(_("subject"), max_length=16, choices=Subject.choices)
    # [{"name": ..., "type": ..., "sensitivity": ..., "label": ..., "label_en": ...}] in the spec's order.
    fields = models.JSONField(_("fields"), default=list)
    sharing = models.CharField(_("sharing class"), max_length=16, choices=Sharing.choices)
    frequency = models.CharField(_("update frequency"), max_length=32, blank=True)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("data resource")
        verbose_name_plural = _("data resources")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sharing__in=["unconditional", "conditional", "not_shared"]),
                name="exchange_dataresource_sharing_valid",
            ),
            models.CheckConstraint(
                condition=Q(subject__in=["person", "organisation", "property_unit"]),
                name="exchange_dataresource_subject_valid",
            ),
        ]

    def __str__(self):
        return f"{self.name_zh} ({self.code})"

    @property
    def field_names(self) -> list[str]:
        return [f["name"] for f in self.fields]

    def field_labels(self, names) -> list[str]:
        """The labels of ``names`` in the page's language (the English label on an English page when the resource
        has one; the name itself when the resource has no label for it)."""
        from django.utils.translation import get_language

        english = (get_language() or "").startswith("en")
        labels = {
            f["name"]: (english and f.get("label_en")) or f.get("label") or f["name"] for f in self.fields
        }
        return [labels.get(name, name) for name in names]


class SharingGrant(TimeStampedModel):
    """共享授权: a requesting department may read ``fields`` of ``resource`` for ``purpose`` while valid."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")
        REVOKED = "revoked", _("revoked")

    department = models.ForeignKey(
        Department,
        verbose_name=_("requesting department"),
        on_delete=models.PROTECT,
        related_name="data_grants",
    )
    resource = models.ForeignKey(
        DataResource,
        verbose_name=_("data resource"),
        on_delete=models.PROTECT,
        related_name="grants",
        db_index=False,
    )
    fields = models.JSONField(_("fields"), default=list)
    purpose = models.CharField(_("purpose"), max_length=200)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.CharField(_("requested by"), max_length=200, blank=True)
    decided_by = models.CharField(_("decided by"), max_length=200, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("sharing grant")
        verbose_name_plural = _("sharing grants")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["requested", "approved", "refused", "revoked"]),
                name="exchange_sharinggrant_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="exchange_sharinggrant_valid_period",
            ),
            # One pending request per department, resource and purpose.
            models.UniqueConstraint(
                fields=["department", "resource", "purpose"],
                condition=Q(status="requested"),
                name="exchange_sharinggrant_one_pending",
            ),
        ]
        indexes = [
            # The lookup's grant check: department(s) × resource × status × purpose.
            models.Index(
                fields=["resource", "department", "status", "purpose"], name="exchange_grant_lookup"
            ),
            models.Index(fields=["status", "-created_at"], name="exchange_grant_status"),
        ]

    def __str__(self):
        return f"{self.department.code} → {self.resource.code} ({self.purpose})"

    def is_valid_on(self, day) -> bool:
        return (
            self.status == self.Status.APPROVED
            and self.valid_from <= day
            and (self.valid_until is None or day <= self.valid_until)
        )


class DataUseOutcome(models.TextChoices):
    """What became of the work a data use served, when that is worth telling the person (blank: as recorded)."""

    SUBMISSION_REFUSED = "submission_refused", _("submission refused")


class DataUse(models.Model):
    """数据使用记录: one lookup that concerned a person (or organisation), allowed or refused."""

    Outcome = DataUseOutcome

    id = models.BigAutoField(primary_key=True)
    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="data_uses",
        db_index=False,  # the (person, -at) index serves
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="data_uses",
        db_index=False,  # the partial (organisation, -at) index serves
    )
    at = models.DateTimeField(_("at"))
    department = models.ForeignKey(
        Department,
        verbose_name=_("requesting department"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # one index fewer on the lookup's hot insert; no query filters by it alone
    )
    resource_code = models.CharField(_("data resource"), max_length=64)
    fields = models.JSONField(_("fields"), default=list)
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    case_id = models.UUIDField(_("case"), null=True, blank=True)
    case_number = models.CharField(_("case number"), max_length=40, blank=True)
    allowed = models.BooleanField(_("allowed"))
    refused_reason = models.CharField(_("reason for refusal"), max_length=300, blank=True)
    # What became of the work the lookup was made for, when it did not become what ``case_number`` says: a
    # lookup for a submission that was then refused keeps its line (it happened) without a case number.
    # ``db_default`` so that the lookup's hand-written INSERT need not name the column.
    outcome = models.CharField(
        _("outcome"), max_length=24, blank=True, default="", db_default="", choices=DataUseOutcome.choices
    )

    class Meta:
        verbose_name = _("data use")
        verbose_name_plural = _("data uses")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False) | Q(organisation__isnull=False),
                name="exchange_datause_has_subject",
            ),
        ]
        indexes = [
            models.Index(fields=["person", "-at"], name="exchange_datause_person"),
            models.Index(
                fields=["organisation", "-at"],
                name="exchange_datause_org",
                condition=Q(organisation__isnull=False),
            ),
            models.Index(
                fields=["case_id"], name="exchange_datause_case", condition=Q(case_id__isnull=False)
            ),
        ]

    def __str__(self):
        return f"{self.resource_code} by {self.department_id} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def display_purpose(self) -> str:
        """The purpose in the page's language (``purpose`` stays as recorded: grants are matched by it)."""
        from tongban.exchange.purposes import purpose_label

        return purpose_label(self.purpose)
