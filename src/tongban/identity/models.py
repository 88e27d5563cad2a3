"""People, organisations, places, departments and staff (自然人 / 法人 / 行政区划 / 部门 / 工作人员)."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length, Upper
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from tongban.core.ids import validate_credit_code, validate_resident_id
from tongban.core.masking import mask_phone, mask_resident_id
from tongban.core.models import TimeStampedModel


class User(AbstractUser):
    """A login. A citizen's user is linked to a Person; a staff member's to a Staff record."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")


class AdminUnit(TimeStampedModel):
    """行政区划: city → district → street, identified by its GB/T 2260 (or street) code."""

    class Level(models.TextChoices):
        CITY = "city", _("city")
        DISTRICT = "district", _("district")
        STREET = "street", _("street / town")

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=64, blank=True)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("administrative unit")
        verbose_name_plural = _("administrative units")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__in=["city", "district", "street"]), name="identity_adminunit_level_valid"
            ),
            # The city is the root; every district and street hangs below another unit.
            models.CheckConstraint(
                condition=Q(level="city", parent__isnull=True) | (~Q(level="city") & Q(parent__isnull=False)),
                name="identity_adminunit_parent_by_level",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def clean(self):
        parent_level = {self.Level.DISTRICT: self.Level.CITY, self.Level.STREET: self.Level.DISTRICT}
        if self.level == self.Level.CITY and self.parent_id:
            raise ValidationError({"parent": _("A city has no parent unit.")})
        if self.level in parent_level:
            if self.parent is None:
                raise ValidationError({"parent": _("A district or street needs its parent unit.")})
            if self.parent.level != parent_level[self.level]:
                raise ValidationError(
                    {
                        "parent": _("The parent of a %(level)s must be a %(parent_level)s.")
                        % {"level": self.get_level_display(), "parent_level": parent_level[self.level].label}
                    }
                )


class Department(TimeStampedModel):
    """部门: a municipal department or one of its district branches."""

    class Level(models.TextChoices):
        CITY = "city", _("municipal")
        DISTRICT = "district", _("district")
        STREET = "street", _("street / town")

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=128)
    name_en = models.CharField(_("English name"), max_length=128)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    admin_unit = models.ForeignKey(AdminUnit, verbose_name=_("administrative unit"), on_delete=models.PROTECT)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("municipal department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="branches",
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__in=["city", "district", "street"]), name="identity_department_level_valid"
            ),
            # A municipal department is the top of its line; only district and street offices are branches.
            models.CheckConstraint(
                condition=~Q(level="city") | Q(parent__isnull=True), name="identity_department_city_no_parent"
            ),
        ]

    def __str__(self):
        return self.name_zh

    def clean(self):
        errors = {}
        if self.admin_unit_id and self.level and self.admin_unit.level != self.level:
            errors["admin_unit"] = _(
                "A %(level)s department works for an administrative unit of the same level."
            ) % {"level": self.get_level_display()}
        if self.parent_id:
            if self.level == self.Level.CITY:
                errors["parent"] = _("A municipal department is not a branch of another department.")
            elif self.parent.level != self.Level.CITY:
                errors["parent"] = _("A branch belongs to a municipal department.")
            elif self.parent_id == self.pk:
                errors["parent"] = _("A department cannot be its own branch.")
        if errors:
            raise ValidationError(errors)

    @property
    def name(self):
        """The name in the active language (zh-Hans unless English is active)."""
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "").startswith("en") else self.name_zh


class Role(models.Model):
    """A role a staff member holds; the permission table in ``identity.permissions`` maps roles to rights."""

    code = models.SlugField(_("code"), max_length=32, primary_key=True)
    name_zh = models.CharField(_("Chinese name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=64)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["code"]

    def __str__(self):
        return self.name_zh


class Staff(TimeStampedModel):
    """工作人员: a user working for a department in one or more roles."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="staff"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="staff",
        db_index=False,
    )
    roles = models.ManyToManyField(Role, verbose_name=_("roles"), related_name="staff")
    title = models.CharField(_("title"), max_length=64, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        indexes = [models.Index(fields=["department", "active"], name="identity_staff_dept_active")]

    def __str__(self):
        return f"{self.user.get_full_name() or self.user.username} ({self.department.code})"


class Household(TimeStampedModel):
    """户: a registered household with its number and address."""

    number = models.CharField(_("household number"), max_length=20, unique=True)
    district = models.ForeignKey(
        AdminUnit, verbose_name=_("district"), on_delete=models.PROTECT, related_name="+"
    )
    street = models.ForeignKey(
        AdminUnit, verbose_name=_("street"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("address"), max_length=200)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self):
        return self.number


class Person(TimeStampedModel):
    """自然人: a resident identified by an 18-character resident ID number (GB 11643).

    Sex and birth date are stored for queries, and ``clean()`` keeps them consistent with the ID number.
    """

    class Sex(models.TextChoices):
        MALE = "M", _("male")
        FEMALE = "F", _("female")

    resident_id = models.CharField(
        _("resident ID number"), max_length=18, unique=True, validators=[validate_resident_id]
    )
    name = models.CharField(_("name"), max_length=64)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    household_district = models.ForeignKey(
        AdminUnit,
        verbose_name=_("household district"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        constraints = [
            models.CheckConstraint(condition=Q(sex__in=["M", "F"]), name="identity_person_sex_valid"),
            # An ID number is stored in its canonical form: 18 characters, a capital X as check character.
            # (Plain SQL functions, no REGEXP: SQLite would need a Python callback per row on bulk inserts.)
            models.CheckConstraint(
                condition=Exact(Length("resident_id"), 18) & Exact(F("resident_id"), Upper("resident_id")),
                name="identity_person_resident_id_form",
            ),
        ]
        indexes = [models.Index(fields=["name"], name="identity_person_name")]

    def __str__(self):
        return f"{self.name} {self.masked_resident_id}"

    def clean(self):
        from tongban.core.ids import parse_resident_id

        try:
            parsed = parse_resident_id(self.resident_id)
        except ValidationError:
            return  # the field validator reports what is wrong with the number itself
        errors = {}
        if self.sex and self.sex != parsed.sex:
            errors["sex"] = _("The sex does not match the resident ID number (its 17th digit).")
        if self.birth_date and self.birth_date != parsed.birth_date:
            errors["birth_date"] = _("The birth date does not match the resident ID number.")
        if self.household_district_id and self.household_district.level != AdminUnit.Level.DISTRICT:
            errors["household_district"] = _("Choose a district.")
        if errors:
            raise ValidationError(errors)

    @property
    def masked_resident_id(self):
        return mask_resident_id(self.resident_id)

    @property
    def masked_phone(self):
        return mask_phone(self.phone)


class Organisation(TimeStampedModel):
    """法人: an enterprise or other organisation identified by its unified social credit code (GB 32100)."""

    class Type(models.TextChoices):
        ENTERPRISE = "enterprise", _("enterprise")
        INDIVIDUAL_BUSINESS = "individual", _("individual business")
        FARMERS_COOP = "coop", _("farmers' cooperative")
        INSTITUTION = "institution", _("public institution")
        SOCIAL_ORG = "social", _("social organisation")
        GOVERNMENT = "government", _("government agency")
        OTHER = "other", _("other")

    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_credit_code]
    )
    name = models.CharField(_("name"), max_length=200)
    org_type = models.CharField(_("type"), max_length=16, choices=Type.choices, default=Type.ENTERPRISE)
    legal_representative = models.ForeignKey(
        Person,
        verbose_name=_("legal representative"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="represented_organisations",
    )
    district = models.ForeignKey(
        AdminUnit,
        verbose_name=_("district"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("enterprise agents"), blank=True, related_name="agent_for"
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    org_type__in=[
                        "enterprise",
                        "individual",
                        "coop",
                        "institution",
                        "social",
                        "government",
                        "other",
                    ]
                ),
                name="identity_organisation_type_valid",
            ),
            models.CheckConstraint(
                condition=Exact(Length("credit_code"), 18) & Exact(F("credit_code"), Upper("credit_code")),
                name="identity_organisation_credit_code_form",
            ),
        ]
        indexes = [models.Index(fields=["name"], name="identity_organisation_name")]

    def __str__(self):
        return self.name

    def clean(self):
        if self.district_id and self.district.level != AdminUnit.Level.DISTRICT:
            raise ValidationError({"district": _("Choose a district.")})
