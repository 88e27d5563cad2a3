"""Departmental registries (基础库): the base data each department owns.

A registry changes only through its owner's services (``exchange.registry_services``), each writing an audit
entry and an event. Other departments read registry data only through the sharing layer
(``exchange.resources`` specs, defined per registry in ``exchange/registries/*.py``).

| registry                 | owner                | models                                                 |
|--------------------------|----------------------|--------------------------------------------------------|
| population & households  | public-security      | HouseholdMembership (with identity's Person, Household) |
| births                   | health               | BirthRecord                                            |
| marriages                | civil-affairs        | MarriageRecord                                         |
| social insurance         | hrss                 | SocialInsuranceRecord                                  |
| medical insurance        | medical-insurance    | MedicalInsuranceRecord                                 |
| real estate              | planning-resources   | PropertyUnit, PropertyOwnership, Mortgage, Seizure     |
| business register        | market-regulation    | BusinessRegistration, EnterpriseQualification          |
| tax                      | tax                  | TaxRegistration, DeedTaxPayment, TaxQuarterFiling      |
| social insurance (units) | hrss                 | EmployerQuarterHeadcount                               |
"""

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from tongban.core.models import TimeStampedModel

__all__ = [
    "BirthRecord",
    "BusinessRegistration",
    "DeedTaxPayment",
    "EmployerQuarterHeadcount",
    "EnterpriseQualification",
    "HouseholdMembership",
    "MarriageRecord",
    "MedicalInsuranceRecord",
    "Mortgage",
    "PropertyOwnership",
    "PropertyUnit",
    "Seizure",
    "SocialInsuranceRecord",
    "TaxQuarterFiling",
    "TaxRegistration",
]

# 不动产单元号 (GB/T 37346): 6-digit district + 6-digit cadastral zone/sub-zone, 2 letters (parcel kind, e.g. GB
# state-owned construction land), 5-digit parcel number, 1 letter (fixture kind, F = building), 8 digits (building
# and unit).
UNIT_NUMBER_RE = r"^\d{12}[A-Z]{2}\d{5}[A-Z]\d{8}$"
validate_unit_number = RegexValidator(UNIT_NUMBER_RE, _("Enter a real-estate unit number (不动产单元号)."))
# 出生医学证明编号: one capital letter and nine digits.
BIRTH_CERTIFICATE_RE = r"^[A-Z]\d{9}$"
validate_birth_certificate = RegexValidator(
    BIRTH_CERTIFICATE_RE, _("Enter a birth certificate number: a letter and nine digits.")
)


class Sex(models.TextChoices):
    MALE = "M", _("male")
    FEMALE = "F", _("female")


# --- population & households (public-security) ---------------------------------------------------


class HouseholdMembership(TimeStampedModel):
    """户籍成员: a person registered in a household, with the relation to its head (与户主关系)."""

    class Relation(models.TextChoices):
        HEAD = "head", _("head of household")  # 户主
        SPOUSE = "spouse", _("spouse")  # 配偶
        CHILD = "child", _("child")  # 子女
        PARENT = "parent", _("parent")  # 父母
        GRANDCHILD = "grandchild", _("grandchild")  # 孙子女
        OTHER = "other", _("other")  # 其他

    household = models.ForeignKey(
        "identity.Household",
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    person = models.OneToOneField(
        "identity.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="household_membership",
    )
    relation = models.CharField(_("relation to the head"), max_length=16, choices=Relation.choices)
    since = models.DateField(_("registered since"))

    class Meta:
        verbose_name = _("household membership")
        verbose_name_plural = _("household memberships")
        constraints = [
            models.CheckConstraint(
                condition=Q(relation__in=["head", "spouse", "child", "parent", "grandchild", "other"]),
                name="exchange_membership_relation_valid",
            ),
            models.UniqueConstraint(
                fields=["household"], condition=Q(relation="head"), name="exchange_membership_one_head"
            ),
        ]

    def __str__(self):
        return f"{self.household_id} {self.relation}"


# --- births (health) -----------------------------------------------------------------------------


class BirthRecord(TimeStampedModel):
    """出生医学证明: the birth medical certificate data that a hospital records and health issues."""

    certificate_number = models.CharField(
        _("birth certificate number"), max_length=10, unique=True, validators=[validate_birth_certificate]
    )
    baby_name = models.CharField(_("baby's name"), max_length=64)
    baby_sex = models.CharField(_("baby's sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    birth_time = models.TimeField(_("birth time"), null=True, blank=True)
    weight_g = models.PositiveIntegerField(_("birth weight (g)"), validators=[MinValueValidator(300)])
    hospital = models.CharField(_("hospital"), max_length=100)
    mother = models.ForeignKey(
        "identity.Person", verbose_name=_("mother"), on_delete=models.PROTECT, related_name="+"
    )
    father = models.ForeignKey(
        "identity.Person",
        verbose_name=_("father"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Set when public security registers the baby into a household (with a resident ID number).
    baby = models.OneToOneField(
        "identity.Person",
        verbose_name=_("baby"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="birth_record",
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("birth record")
        verbose_name_plural = _("birth records")
        constraints = [
            models.CheckConstraint(condition=Q(baby_sex__in=["M", "F"]), name="exchange_birth_sex_valid"),
            models.CheckConstraint(
                condition=Exact(Length("certificate_number"), 10), name="exchange_birth_certificate_length"
            ),
            models.CheckConstraint(
                condition=Q(father__isnull=True) | ~Q(father=F("mother")), name="exchange_birth_two_parents"
            ),
        ]

    def __str__(self):
        return self.certificate_number


# --- marriages (civil-affairs) -------------------------------------------------------------------


class MarriageRecord(TimeStampedModel):
    """婚姻登记: a marriage registered by a civil-affairs registry office, and its dissolution."""

    class Status(models.TextChoices):
        MARRIED = "married", _("married")
        DIVORCED = "divorced", _("divorced")

    party_a = models.ForeignKey(
        "identity.Person",
        verbose_name=_("party A"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    party_b = models.ForeignKey(
        "identity.Person",
        verbose_name=_("party B"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    registered_on = models.DateField(_("registered on"))
    certificate_number = models.CharField(_("certificate number"), max_length=32, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.MARRIED)
    dissolved_on = models.DateField(_("dissolved on"), null=True, blank=True)
    office = models.ForeignKey(
        "identity.AdminUnit",
        verbose_name=_("registry office (district)"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("marriage record")
        verbose_name_plural = _("marriage records")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["married", "divorced"]), name="exchange_marriage_status_valid"
            ),
            models.CheckConstraint(condition=~Q(party_a=F("party_b")), name="exchange_marriage_two_parties"),
            models.CheckConstraint(
                condition=Q(status="married", dissolved_on__isnull=True)
                | Q(status="divorced", dissolved_on__isnull=False),
                name="exchange_marriage_dissolved_on_by_status",
            ),
        ]
        indexes = [
            models.Index(fields=["party_a", "status"], name="exchange_marriage_a_status"),
            models.Index(fields=["party_b", "status"], name="exchange_marriage_b_status"),
        ]

    def __str__(self):
        return self.certificate_number


# --- social and medical insurance (hrss, medical-insurance) --------------------------------------


class InsuranceStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    SUSPENDED = "suspended", _("suspended")
    ENDED = "ended", _("ended")


class SocialInsuranceRecord(TimeStampedModel):
    """社会保险参保: a person's social insurance enrolment (with employer) and social-security card."""

    Status = InsuranceStatus

    person = models.OneToOneField(
        "identity.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="social_insurance"
    )
    employer = models.ForeignKey(
        "identity.Organisation",
        verbose_name=_("employer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=16, choices=InsuranceStatus.choices)
    since = models.DateField(_("since"))
    card_number = models.CharField(
        _("social security card number"), max_length=20, null=True, blank=True, unique=True
    )
    card_issued_on = models.DateField(_("card issued on"), null=True, blank=True)

    class Meta:
        verbose_name = _("social insurance record")
        verbose_name_plural = _("social insurance records")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["active", "suspended", "ended"]), name="exchange_si_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.person_id} {self.status}"


class MedicalInsuranceRecord(TimeStampedModel):
    """医疗保险参保: employee (职工医保) or resident (城乡居民医保) scheme."""

    class Scheme(models.TextChoices):
        EMPLOYEE = "employee", _("employee scheme")
        RESIDENT = "resident", _("resident scheme")

    Status = InsuranceStatus

    person = models.OneToOneField(
        "identity.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="medical_insurance",
    )
    scheme = models.CharField(_("scheme"), max_length=16, choices=Scheme.choices)
    status = models.CharField(_("status"), max_length=16, choices=InsuranceStatus.choices)
    since = models.DateField(_("since"))

    class Meta:
        verbose_name = _("medical insurance record")
        verbose_name_plural = _("medical insurance records")
        constraints = [
            models.CheckConstraint(
                condition=Q(scheme__in=["employee", "resident"]), name="exchange_mi_scheme_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "suspended", "ended"]), name="exchange_mi_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.person_id} {self.scheme}"


# --- real estate (planning-resources) ------------------------------------------------------------


class PropertyUnit(TimeStampedModel):
    """不动产单元: a registered real-estate unit (here: a flat, office or shop) and its current certificate."""

    class Use(models.TextChoices):
        RESIDENTIAL = "residential", _("residential")
        COMMERCIAL = "commercial", _("commercial")
        OFFICE = "office", _("office")
        INDUSTRIAL = "industrial", _("industrial")
        OTHER = "other", _("other")

    unit_number = models.CharField(
        _("real-estate unit number"), max_length=28, unique=True, validators=[validate_unit_number]
    )
    district = models.ForeignKey(
        "identity.AdminUnit", verbose_name=_("district"), on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("address"), max_length=200)
    use = models.CharField(_("use"), max_length=16, choices=Use.choices, default=Use.RESIDENTIAL)
    floor_area = models.DecimalField(_("floor area (m²)"), max_digits=10, decimal_places=2)
    # 不动产权证书号 of the current owners, e.g. 沪(2019)黄字不动产权第0012345号; a transfer issues a new one.
    certificate_number = models.CharField(_("certificate number"), max_length=40, blank=True, db_index=True)

    class Meta:
        verbose_name = _("property unit")
        verbose_name_plural = _("property units")
        constraints = [
            models.CheckConstraint(
                condition=Q(use__in=["residential", "commercial", "office", "industrial", "other"]),
                name="exchange_unit_use_valid",
            ),
            models.CheckConstraint(
                condition=Exact(Length("unit_number"), 28), name="exchange_unit_number_length"
            ),
            models.CheckConstraint(condition=Q(floor_area__gt=0), name="exchange_unit_area_positive"),
        ]

    def __str__(self):
        return self.unit_number


class PropertyOwnership(TimeStampedModel):
    """A share of a unit held by a person or an organisation, from ``since`` until ``ended_at`` (transfer)."""

    unit = models.ForeignKey(
        PropertyUnit,
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="ownerships",
        db_index=False,
    )
    owner_person = models.ForeignKey(
        "identity.Person",
        verbose_name=_("owner (person)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    owner_organisation = models.ForeignKey(
        "identity.Organisation",
        verbose_name=_("owner (organisation)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    share = models.DecimalField(_("share (%)"), max_digits=5, decimal_places=2)
    since = models.DateField(_("since"))
    ended_at = models.DateField(_("ended on"), null=True, blank=True)
    case_id = models.UUIDField(_("case"), null=True, blank=True)

    class Meta:
        verbose_name = _("property ownership")
        verbose_name_plural = _("property ownerships")
        constraints = [
            models.CheckConstraint(
                condition=Q(owner_person__isnull=False, owner_organisation__isnull=True)
                | Q(owner_person__isnull=True, owner_organisation__isnull=False),
                name="exchange_ownership_one_owner",
            ),
            models.CheckConstraint(
                condition=Q(share__gt=0) & Q(share__lte=100), name="exchange_ownership_share_range"
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "ended_at"], name="exchange_ownership_unit"),
            models.Index(fields=["owner_person", "ended_at"], name="exchange_ownership_person"),
        ]

    def __str__(self):
        return f"{self.unit_id} {self.share}%"


class Mortgage(TimeStampedModel):
    """抵押权登记: a mortgage on a unit until it is released (注销)."""

    unit = models.ForeignKey(
        PropertyUnit,
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="mortgages",
        db_index=False,
    )
    creditor = models.CharField(_("creditor"), max_length=100)
    amount = models.DecimalField(_("secured amount (CNY)"), max_digits=14, decimal_places=2)
    registered_on = models.DateField(_("registered on"))
    released_on = models.DateField(_("released on"), null=True, blank=True)

    class Meta:
        verbose_name = _("mortgage")
        verbose_name_plural = _("mortgages")
        indexes = [models.Index(fields=["unit", "released_on"], name="exchange_mortgage_unit")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="exchange_mortgage_amount_positive")
        ]

    def __str__(self):
        return f"{self.unit_id} {self.creditor}"


class Seizure(TimeStampedModel):
    """查封登记: a court's seizure of a unit until it is lifted (解封)."""

    unit = models.ForeignKey(
        PropertyUnit,
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="seizures",
        db_index=False,
    )
    court = models.CharField(_("court"), max_length=100)
    reference = models.CharField(_("ruling reference"), max_length=64, blank=True)
    ordered_on = models.DateField(_("ordered on"))
    lifted_on = models.DateField(_("lifted on"), null=True, blank=True)

    class Meta:
        verbose_name = _("seizure")
        verbose_name_plural = _("seizures")
        indexes = [models.Index(fields=["unit", "lifted_on"], name="exchange_seizure_unit")]

    def __str__(self):
        return f"{self.unit_id} {self.court}"


# --- business register (market-regulation) -------------------------------------------------------


class BusinessRegistration(TimeStampedModel):
    """市场主体登记: an enterprise's registration with market regulation (the data on its business licence)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")  # 存续
        REVOKED = "revoked", _("revoked")  # 吊销
        CANCELLED = "cancelled", _("cancelled")  # 注销

    organisation = models.OneToOneField(
        "identity.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="business_registration",
    )
    registered_on = models.DateField(_("registered on"))
    business_scope = models.TextField(_("business scope"))
    registered_capital = models.DecimalField(
        _("registered capital (10,000 CNY)"), max_digits=14, decimal_places=2, default=0
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # 国民经济行业分类 (GB/T 4754-2017): a section letter and up to four digits, e.g. C3913.
    industry_code = models.CharField(
        _("industry code"),
        max_length=5,
        blank=True,
        default="",
        validators=[
            RegexValidator(r"^[A-T]([0-9]{2,4})?$", _("A section letter and 2 to 4 digits, e.g. C3913."))
        ],
    )

    class Meta:
        verbose_name = _("business registration")
        verbose_name_plural = _("business registrations")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["active", "revoked", "cancelled"]),
                name="exchange_business_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.organisation_id} {self.status}"


# --- tax (tax) -----------------------------------------------------------------------------------


class TaxRegistration(TimeStampedModel):
    """税务登记: an organisation (taxpayer number = credit code) or a person (= resident ID number)."""

    organisation = models.OneToOneField(
        "identity.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tax_registration",
    )
    person = models.OneToOneField(
        "identity.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tax_registration",
    )
    taxpayer_number = models.CharField(_("taxpayer number"), max_length=18, unique=True)
    registered_on = models.DateField(_("registered on"))
    # 纳税信用等级 (A, B, M, C, D), rated yearly; blank when not rated yet.
    credit_rating = models.CharField(
        _("tax credit rating"),
        max_length=1,
        blank=True,
        default="",
        choices=[("A", "A"), ("B", "B"), ("M", "M"), ("C", "C"), ("D", "D")],
    )

    class Meta:
        verbose_name = _("tax registration")
        verbose_name_plural = _("tax registrations")
        constraints = [
            models.CheckConstraint(
                condition=Q(organisation__isnull=False, person__isnull=True)
                | Q(organisation__isnull=True, person__isnull=False),
                name="exchange_tax_one_taxpayer",
            ),
        ]

    def __str__(self):
        return self.taxpayer_number


class DeedTaxPayment(TimeStampedModel):
    """契税缴纳: deed tax paid by the buyer of a unit, with the tax receipt (完税凭证) and the case it served."""

    unit = models.ForeignKey(
        PropertyUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="deed_tax_payments"
    )
    payer = models.ForeignKey(
        "identity.Person", verbose_name=_("payer"), on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(_("amount (CNY)"), max_digits=14, decimal_places=2)
    paid_on = models.DateField(_("paid on"))
    case_id = models.UUIDField(_("case"), null=True, blank=True, db_index=True)
    receipt_number = models.CharField(_("tax receipt number"), max_length=32, unique=True)

    class Meta:
        verbose_name = _("deed tax payment")
        verbose_name_plural = _("deed tax payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="exchange_deed_tax_amount_positive")
        ]

    def __str__(self):
        return self.receipt_number


def _quarter_start(value) -> bool:
    return value.day == 1 and value.month in (1, 4, 7, 10)


class EmployerQuarterHeadcount(TimeStampedModel):
    """单位参保人数 (hrss): how many people an employer insured in a quarter, as reported for contributions."""

    organisation = models.ForeignKey(
        "identity.Organisation",
        verbose_name=_("employer"),
        on_delete=models.PROTECT,
        related_name="headcount_quarters",
        db_index=False,
    )
    quarter = models.DateField(_("quarter (its first day)"))
    insured = models.PositiveIntegerField(_("insured people"))

    class Meta:
        verbose_name = _("employer's insured head-count")
        verbose_name_plural = _("employers' insured head-counts")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "quarter"], name="exchange_headcount_one_quarter"
            ),
        ]

    def __str__(self):
        return f"{self.organisation_id} {self.quarter} {self.insured}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.quarter and not _quarter_start(self.quarter):
            raise ValidationError({"quarter": _("A quarter starts on 1 January, April, July or October.")})


class TaxQuarterFiling(TimeStampedModel):
    """季度纳税申报 (tax): an enterprise's revenue and tax paid in a quarter (10,000 CNY)."""

    organisation = models.ForeignKey(
        "identity.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="tax_quarters",
        db_index=False,
    )
    quarter = models.DateField(_("quarter (its first day)"))
    revenue = models.DecimalField(
        _("revenue (10,000 CNY)"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    tax_paid = models.DecimalField(
        _("tax paid (10,000 CNY)"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )

    class Meta:
        verbose_name = _("quarterly tax filing")
        verbose_name_plural = _("quarterly tax filings")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "quarter"], name="exchange_taxfiling_one_quarter"
            ),
            models.CheckConstraint(
                condition=Q(revenue__gte=0) & Q(tax_paid__gte=0), name="exchange_taxfiling_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.organisation_id} {self.quarter}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.quarter and not _quarter_start(self.quarter):
            raise ValidationError({"quarter": _("A quarter starts on 1 January, April, July or October.")})


class EnterpriseQualification(TimeStampedModel):
    """企业资质认定: a recognition an enterprise holds (high-tech enterprise, specialised SME, ...)."""

    class Kind(models.TextChoices):
        HIGH_TECH = "high_tech", _("high-tech enterprise")  # 高新技术企业
        SPECIALISED = "specialised", _("specialised and innovative SME")  # 专精特新中小企业
        LITTLE_GIANT = "little_giant", _("specialised 'little giant'")  # 专精特新“小巨人”
        TECH_SME = "tech_sme", _("technology-based SME")  # 科技型中小企业

    organisation = models.ForeignKey(
        "identity.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="qualifications",
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    number = models.CharField(_("certificate number"), max_length=40)
    valid_until = models.DateField(_("valid until"))

    class Meta:
        verbose_name = _("enterprise qualification")
        verbose_name_plural = _("enterprise qualifications")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "kind"], name="exchange_qualification_one_kind"),
            models.CheckConstraint(
                condition=Q(kind__in=["high_tech", "specialised", "little_giant", "tech_sme"]),
                name="exchange_qualification_kind_valid",
            ),
        ]

    def __str__(self):
        return f"{self.organisation_id} {self.kind}"
