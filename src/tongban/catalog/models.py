"""The service catalogue (事项目录 / 实施清单): service items, their materials, and bundles (一件事).

Rules that concern one row live in ``clean()`` (and database constraints where the database can say them);
rules across rows (a bundle's merged form, publication) live in ``services``.
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.effects import step_effects_check
from tongban.core.i18n import in_language
from tongban.core.models.base import TimeStampedModel
from tongban.identity.models import Department


class ItemType(models.TextChoices):
    LICENCE = "licence", _("Administrative licence")  # 行政许可
    CONFIRMATION = "confirmation", _("Administrative confirmation")  # 行政确认
    PAYMENT = "payment", _("Administrative payment")  # 行政给付
    RULING = "ruling", _("Administrative ruling")  # 行政裁决
    REGISTRATION = "registration", _("Registration")  # 登记
    PUBLIC_SERVICE = "public_service", _("Public service")  # 公共服务
    OTHER = "other", _("Other administrative power")  # 其他行政权力


class Level(models.TextChoices):
    CITY = "city", _("City")
    DISTRICT = "district", _("District")
    STREET = "street", _("Street")


class ServiceObject(models.TextChoices):
    PERSON = "person", _("Natural persons")
    ORGANISATION = "organisation", _("Legal persons")
    BOTH = "both", _("Natural and legal persons")


class CaseType(models.TextChoices):
    IMMEDIATE = "immediate", _("Done on the spot")  # 即办件
    PROMISED = "promised", _("Promised time limit")  # 承诺件


class HandlingMode(models.TextChoices):
    ONLINE = "online", _("Online")
    WINDOW = "window", _("At a window")
    POST = "post", _("By post")


class OnlineDepth(models.IntegerChoices):
    """How far an item is handled online (网上办理深度)."""

    INFORMATION = 1, _("Level 1: guide online")
    DOWNLOAD = 2, _("Level 2: forms online")
    APPLY = 3, _("Level 3: apply online, collect at a window")
    FULL = 4, _("Level 4: fully online (全程网办)")


class ResultType(models.TextChoices):
    LICENCE = "licence", _("Licence or certificate")
    DOCUMENT = "document", _("Decision document")
    RECORD = "record", _("Registration record")
    NONE = "none", _("No result document")


class Acceptance(models.TextChoices):
    AUTOMATIC = "automatic", _("Accepted on complete online submission")
    MANUAL = "manual", _("Accepted by staff")


class PublicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


def time_saved_percent(legal, promised):
    """How much shorter the promised limit is than the legal one, in whole percent (减时间)."""
    if not legal:
        return 0
    return round((legal - promised) * 100 / legal)


def _check_limits(obj, errors):
    promised, legal = obj.promised_limit_days, obj.legal_limit_days
    if promised is not None and legal is not None and promised > legal:
        errors["promised_limit_days"] = _(
            "The promised limit (%(promised)s working days) cannot exceed the legal limit (%(legal)s)."
        ) % {"promised": promised, "legal": legal}


CHECK_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _check_submission_checks(obj, errors) -> None:
    """``submission_checks`` is a list of distinct check names (which names exist is the registering app's
    business: ``cases`` refuses a submission to a service that names an unknown one)."""
    names = obj.submission_checks
    if names in (None, ""):
        obj.submission_checks = []
        return
    if not isinstance(names, list) or not all(isinstance(n, str) and CHECK_NAME.match(n) for n in names):
        errors["submission_checks"] = _('List the checks by name, e.g. ["newborn-parents"].')
    elif len(set(names)) != len(names):
        errors["submission_checks"] = _("Name each check once.")


class ServiceItem(TimeStampedModel):
    """One government service with its implementation list (实施清单) and guide (办事指南)."""

    code = models.CharField(
        _("implementation code"), max_length=40, unique=True, help_text=_("实施编码, unique in the city.")
    )
    basic_code = models.CharField(
        _("basic code"), max_length=40, help_text=_("基本编码 of the national list.")
    )
    name_zh = models.CharField(_("Chinese name"), max_length=128)
    name_en = models.CharField(_("English name"), max_length=160, blank=True)
    item_type = models.CharField(_("item type"), max_length=20, choices=ItemType.choices)
    legal_basis = models.TextField(
        _("legal basis"), help_text=_("设定依据: laws and regulations, one per line.")
    )
    legal_basis_en = models.TextField(_("legal basis in English"), blank=True)
    level = models.CharField(_("exercising level"), max_length=10, choices=Level.choices, default=Level.CITY)
    department = models.ForeignKey(
        Department,
        verbose_name=_("implementing department"),
        on_delete=models.PROTECT,
        related_name="service_items",
    )
    service_object = models.CharField(
        _("service object"), max_length=16, choices=ServiceObject.choices, default=ServiceObject.PERSON
    )
    case_type = models.CharField(
        _("case type"), max_length=10, choices=CaseType.choices, default=CaseType.PROMISED
    )
    legal_limit_days = models.PositiveSmallIntegerField(_("legal limit (working days)"))
    promised_limit_days = models.PositiveSmallIntegerField(_("promised limit (working days)"))
    fee = models.DecimalField(_("fee (yuan)"), max_digits=10, decimal_places=2, default=0)
    fee_basis = models.TextField(_("fee basis"), blank=True)
    fee_basis_en = models.TextField(_("fee basis in English"), blank=True)
    handling_modes = models.JSONField(_("handling modes"), default=list)
    visits_required = models.PositiveSmallIntegerField(_("visits required"), default=0)
    visits_reason = models.CharField(_("reason for visits"), max_length=200, blank=True)
    visits_reason_en = models.CharField(_("reason for visits in English"), max_length=300, blank=True)
    online_depth = models.PositiveSmallIntegerField(
        _("online depth"), choices=OnlineDepth.choices, default=OnlineDepth.FULL
    )
    acceptance = models.CharField(
        _("acceptance"), max_length=10, choices=Acceptance.choices, default=Acceptance.AUTOMATIC
    )
    result_type = models.CharField(_("result type"), max_length=10, choices=ResultType.choices)
    result_name = models.CharField(_("result"), max_length=128, blank=True)
    result_name_en = models.CharField(_("result in English"), max_length=200, blank=True)
    result_licence_type = models.SlugField(
        _("licence type code"), max_length=64, blank=True, help_text=_("When the result is an e-licence.")
    )
    conditions = models.TextField(_("conditions"), blank=True, help_text=_("受理条件"))
    procedure = models.TextField(_("procedure"), blank=True, help_text=_("办理流程, one step per line."))
    location = models.CharField(_("where to apply"), max_length=200, blank=True)
    conditions_en = models.TextField(_("conditions in English"), blank=True)
    procedure_en = models.TextField(_("procedure in English"), blank=True, help_text=_("One step per line."))
    location_en = models.CharField(_("where to apply in English"), max_length=300, blank=True)
    phone = models.CharField(_("enquiry phone"), max_length=40, blank=True)
    form_schema = models.JSONField(_("form schema"), default=dict, blank=True, help_text=_("JSON Schema."))
    form_ui = models.JSONField(_("form UI hints"), default=dict, blank=True)
    process_key = models.SlugField(_("process key"), max_length=64, blank=True)
    submission_checks = models.JSONField(
        _("submission checks"),
        default=list,
        blank=True,
        help_text=_(
            "Names of the cross-field checks against the registers run at submission (e.g. newborn-parents, "
            "seller-owns-unit); a bundle runs its own and its items'."
        ),
    )
    # What approving a process step changes in the owning departments' data: {step id: [effect name, ...]}, the
    # names registered by the owning apps (core.effects), e.g. {"birth_certificate": ["birth.record"]}.
    step_effects = models.JSONField(
        _("step effects"),
        default=dict,
        blank=True,
        validators=[step_effects_check],
        help_text=_(
            '{"step id": ["effect name", ...]}: what approving the step changes, e.g. "birth.record".'
        ),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=PublicationStatus.choices, default=PublicationStatus.DRAFT
    )
    search_text = models.TextField(_("search tokens"), blank=True, editable=False)

    class Meta:
        verbose_name = _("service item")
        verbose_name_plural = _("service items")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(promised_limit_days__lte=models.F("legal_limit_days")),
                name="catalog_item_promise_within_legal_limit",
            ),
        ]

    def __str__(self):
        return f"{self.name_zh} ({self.code})"

    def clean(self):
        errors = {}
        _check_limits(self, errors)
        _check_submission_checks(self, errors)
        modes = self.handling_modes or []
        unknown = [m for m in modes if m not in HandlingMode.values]
        if unknown:
            errors["handling_modes"] = _("Unknown handling mode: %(modes)s.") % {
                "modes": ", ".join(map(str, unknown))
            }
        elif not modes:
            errors["handling_modes"] = _("Choose at least one handling mode.")
        fully_online = self.online_depth == OnlineDepth.FULL
        if fully_online and self.visits_required:
            errors["visits_required"] = _("A fully online item (全程网办) requires no visit.")
        if fully_online and HandlingMode.ONLINE not in modes and "handling_modes" not in errors:
            errors["handling_modes"] = _("A fully online item must offer online handling.")
        if self.visits_required and not self.visits_reason.strip():
            errors["visits_reason"] = _("Say why the applicant must come in person.")
        if self.case_type == CaseType.PROMISED and self.promised_limit_days == 0:
            errors["promised_limit_days"] = _("A promised item needs a limit of at least one working day.")
        if self.result_type == ResultType.LICENCE and not self.result_licence_type:
            errors["result_licence_type"] = _("Name the licence type the item issues.")
        if self.fee and not self.fee_basis.strip():
            errors["fee_basis"] = _("A fee needs its legal basis.")
        if errors:
            raise ValidationError(errors)

    @property
    def name(self):
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "").startswith("en") and self.name_en else self.name_zh

    @property
    def is_fully_online(self):
        return self.online_depth == OnlineDepth.FULL

    @property
    def time_saved_percent(self):
        """减时间: how much shorter the promise is than the legal limit, in percent."""
        return time_saved_percent(self.legal_limit_days, self.promised_limit_days)


class SatisfiedBy(models.TextChoices):
    UPLOAD = "upload", _("Uploaded by the applicant")
    REGISTRY = "registry", _("Looked up in a department's registry")
    LICENCE = "licence", _("Taken from an e-licence")
    PLEDGE = "pledge", _("Personal pledge")


class Material(models.Model):
    """A material an item asks for (申请材料), with how it may be provided."""

    class Source(models.TextChoices):
        APPLICANT = "applicant", _("Applicant")  # 申请人自备
        GOVERNMENT = "government", _("Issued by a government department")  # 政府部门核发
        THIRD_PARTY = "third_party", _("Third party")  # 中介机构 / 其他

    class Form(models.TextChoices):
        ORIGINAL = "original", _("Original")
        COPY = "copy", _("Copy")
        ELECTRONIC = "electronic", _("Electronic")

    class Necessity(models.TextChoices):
        REQUIRED = "required", _("Required")
        CONDITIONAL = "conditional", _("Required when a condition holds")
        OPTIONAL = "optional", _("Optional")

    item = models.ForeignKey(
        ServiceItem,
        verbose_name=_("service item"),
        on_delete=models.CASCADE,
        related_name="materials",
        db_index=False,
    )
    code = models.SlugField(_("code"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=240, blank=True)
    source = models.CharField(
        _("source channel"), max_length=16, choices=Source.choices, default=Source.APPLICANT
    )
    form = models.CharField(_("form"), max_length=12, choices=Form.choices, default=Form.ELECTRONIC)
    copies = models.PositiveSmallIntegerField(_("copies"), default=1)
    necessity = models.CharField(
        _("necessity"), max_length=12, choices=Necessity.choices, default=Necessity.REQUIRED
    )
    condition = models.CharField(
        _("condition"),
        max_length=300,
        blank=True,
        help_text=_("When the material is required, in words; optionally a form field that must be true."),
    )
    condition_en = models.CharField(_("condition in English"), max_length=400, blank=True)
    condition_field = models.CharField(
        _("condition field"),
        max_length=64,
        blank=True,
        help_text=_("A boolean form field that makes it required."),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    note_en = models.CharField(_("note in English"), max_length=400, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    # 免提交: how the platform can obtain the material instead of the applicant (a department holds it).
    satisfied_by = models.CharField(
        _("satisfied by"), max_length=10, choices=SatisfiedBy.choices, default=SatisfiedBy.UPLOAD
    )
    evidence = models.SlugField(
        _("evidence"),
        max_length=64,
        blank=True,
        help_text=_("The data resource code (registry) or licence type code (e-licence) that stands for it."),
    )
    evidence_subject = models.CharField(
        _("evidence subject"),
        max_length=64,
        blank=True,
        help_text=_(
            "The form field holding whose record it is (an ID number, a unit number); blank: the applicant."
        ),
    )

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["item", "position", "code"]
        constraints = [models.UniqueConstraint(fields=["item", "code"], name="catalog_material_code_unique")]

    def __str__(self):
        return self.name

    @property
    def display_name(self) -> str:
        """The name in the page's language: the English one on an English page when recorded."""
        return in_language(self, "name")

    @property
    def display_note(self) -> str:
        return in_language(self, "note")

    @property
    def display_condition(self) -> str:
        return in_language(self, "condition")

    def clean(self):
        if self.necessity == self.Necessity.CONDITIONAL and not self.condition.strip():
            raise ValidationError({"condition": _("A conditional material needs its condition.")})
        if self.satisfied_by in (SatisfiedBy.REGISTRY, SatisfiedBy.LICENCE) and not self.evidence:
            raise ValidationError(
                {"evidence": _("Name the data resource or licence type that stands for it.")}
            )


class Bundle(TimeStampedModel):
    """A bundle (一件事): items applied for together with one form, one submission and one result package."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=128)
    name_en = models.CharField(_("English name"), max_length=160, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description in English"), blank=True)
    items = models.ManyToManyField(
        ServiceItem, through="BundleItem", verbose_name=_("service items"), related_name="bundles"
    )
    lead_department = models.ForeignKey(
        Department, verbose_name=_("lead department"), on_delete=models.PROTECT, related_name="led_bundles"
    )
    service_object = models.CharField(
        _("service object"), max_length=16, choices=ServiceObject.choices, default=ServiceObject.PERSON
    )
    legal_limit_days = models.PositiveSmallIntegerField(_("legal limit (working days)"))
    promised_limit_days = models.PositiveSmallIntegerField(
        _("promised limit (working days)"), validators=[MinValueValidator(1)]
    )
    visits_required = models.PositiveSmallIntegerField(_("visits required"), default=0)
    visits_reason = models.CharField(_("reason for visits"), max_length=200, blank=True)
    visits_reason_en = models.CharField(_("reason for visits in English"), max_length=300, blank=True)
    form_schema = models.JSONField(_("merged form schema"), default=dict, blank=True)
    form_ui = models.JSONField(_("form UI hints"), default=dict, blank=True)
    process_key = models.SlugField(_("process key"), max_length=64, blank=True)
    submission_checks = models.JSONField(
        _("submission checks"),
        default=list,
        blank=True,
        help_text=_(
            "Names of the cross-field checks against the registers run at submission (e.g. newborn-parents, "
            "seller-owns-unit); a bundle runs its own and its items'."
        ),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=PublicationStatus.choices, default=PublicationStatus.DRAFT
    )
    search_text = models.TextField(_("search tokens"), blank=True, editable=False)

    class Meta:
        verbose_name = _("bundle")
        verbose_name_plural = _("bundles")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(promised_limit_days__lte=models.F("legal_limit_days")),
                name="catalog_bundle_promise_within_legal_limit",
            ),
        ]

    def __str__(self):
        return f"{self.name_zh} ({self.code})"

    def clean(self):
        errors = {}
        _check_limits(self, errors)
        _check_submission_checks(self, errors)
        if self.visits_required and not self.visits_reason.strip():
            errors["visits_reason"] = _("Say why the applicant must come in person.")
        if errors:
            raise ValidationError(errors)

    @property
    def name(self):
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "").startswith("en") and self.name_en else self.name_zh

    @property
    def time_saved_percent(self):
        """减时间: how much shorter the promise is than the legal limit, in percent."""
        return time_saved_percent(self.legal_limit_days, self.promised_limit_days)


class BundleItem(models.Model):
    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="bundle_items", db_index=False)
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("bundle item")
        verbose_name_plural = _("bundle items")
        ordering = ["bundle", "position"]
        constraints = [models.UniqueConstraint(fields=["bundle", "item"], name="catalog_bundle_item_unique")]

    def __str__(self):
        return f"{self.bundle.code} · {self.item.code}"
