"""People, organisations, places, departments and staff (自然人 / 法人 / 行政区划 / 部门 / 工作人员)."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

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

    def __str__(self):
        return f"{self.name} ({self.code})"


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

    def __str__(self):
        return self.name_zh


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
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="staff"
    )
    roles = models.ManyToManyField(Role, verbose_name=_("roles"), related_name="staff")
    title = models.CharField(_("title"), max_length=64, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

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
    """自然人: a resident identified by an 18-character resident ID number (GB 11643)."""

    class Sex(models.TextChoices):
        MALE = "M", _("male")
        FEMALE = "F", _("female")

    resident_id = models.CharField(_("resident ID number"), max_length=18, unique=True)
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

    def __str__(self):
        return f"{self.name} {self.masked_resident_id}"

    @property
    def masked_resident_id(self):
        from tongban.core.masking import mask_resident_id

        return mask_resident_id(self.resident_id)

    @property
    def masked_phone(self):
        from tongban.core.masking import mask_phone

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

    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
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

    def __str__(self):
        return self.name
