"""factory-boy factories for identity, for every app's tests.

* ``UserFactory`` — a login with password ``PASSWORD``.
* ``CityFactory`` / ``AdminUnitFactory`` (a district; cycles through the 16) / ``StreetFactory``.
* ``DepartmentFactory`` (municipal) / ``BranchFactory`` (a district branch of a municipal department);
  ``department("health")`` returns a reference department by code, creating the reference data if needed.
* ``StaffFactory(roles=["window_clerk"], department=...)`` — roles are role codes.
* ``PersonFactory`` — valid resident ID consistent with sex, birth date and district
  (``PersonFactory(area_code="310104", birth_date=date(1990, 5, 17), male=True)``).
* ``CitizenFactory`` — a user linked to a Person (holds the ``citizen`` role).
* ``OrganisationFactory`` — valid unified social credit code; ``agents=[user]`` makes enterprise agents.

Helpers: ``login_verified(client, user)`` logs a staff user in with a verified TOTP device in the session;
``totp_now(device)`` is the device's current code.
"""

import datetime

import factory
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tongban.core.ids import DISTRICTS, make_credit_code, make_resident_id, parse_resident_id
from tongban.identity.models import AdminUnit, Department, Organisation, Person, Role, Staff, User
from tongban.identity.reference import CITY_CODE, CITY_NAME_EN, CITY_NAME_ZH, ROLE_DEFINITIONS

PASSWORD = "factory-pass-2026"
DISTRICT_CODES = sorted(DISTRICTS)
_ROLE_NAMES = {r.code: r for r in ROLE_DEFINITIONS}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "测试"
    last_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.django.Password(PASSWORD)


class CityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdminUnit
        django_get_or_create = ("code",)

    code = CITY_CODE
    name = CITY_NAME_ZH
    name_en = CITY_NAME_EN
    level = AdminUnit.Level.CITY
    parent = None


class AdminUnitFactory(factory.django.DjangoModelFactory):
    """A district of the city (get-or-create by code; cycles through the 16 districts)."""

    class Meta:
        model = AdminUnit
        django_get_or_create = ("code",)

    code = factory.Iterator(DISTRICT_CODES)
    name = factory.LazyAttribute(lambda o: DISTRICTS.get(o.code, ("某区", ""))[0])
    name_en = factory.LazyAttribute(lambda o: DISTRICTS.get(o.code, ("", "Some District"))[1])
    level = AdminUnit.Level.DISTRICT
    parent = factory.SubFactory(CityFactory)


class StreetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdminUnit
        django_get_or_create = ("code",)

    parent = factory.SubFactory(AdminUnitFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.parent.code}{n % 1000:03d}")
    name = factory.Sequence(lambda n: f"第{n}街道")
    name_en = factory.Sequence(lambda n: f"Street {n}")
    level = AdminUnit.Level.STREET


class DepartmentFactory(factory.django.DjangoModelFactory):
    """A municipal department."""

    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"test-dept-{n}")
    name_zh = factory.Sequence(lambda n: f"测试局{n}")
    name_en = factory.Sequence(lambda n: f"Test Bureau {n}")
    level = Department.Level.CITY
    admin_unit = factory.SubFactory(CityFactory)
    parent = None


class BranchFactory(factory.django.DjangoModelFactory):
    """A district branch of a municipal department (code ``<parent code>-<district code>``)."""

    class Meta:
        model = Department
        django_get_or_create = ("code",)

    parent = factory.SubFactory(DepartmentFactory)
    admin_unit = factory.SubFactory(AdminUnitFactory)
    code = factory.LazyAttribute(lambda o: f"{o.parent.code}-{o.admin_unit.code}")
    name_zh = factory.LazyAttribute(lambda o: f"{o.admin_unit.name}{o.parent.name_zh}")
    name_en = factory.LazyAttribute(lambda o: f"{o.admin_unit.name_en} {o.parent.name_en}")
    level = Department.Level.DISTRICT


def department(code):
    """A reference department by code (``"health"``, ``"health-310104"``), creating the reference data if missing."""
    found = Department.objects.filter(code=code).first()
    if found is None:
        from tongban.core.audit import SYSTEM
        from tongban.identity.services import departments_ensure

        departments_ensure(actor=SYSTEM)
        found = Department.objects.get(code=code)
    return found


def role(code):
    """A Role row by code (created if a flushed test database lost the migration's rows)."""
    definition = _ROLE_NAMES[code]
    obj, _ = Role.objects.get_or_create(
        code=code, defaults={"name_zh": definition.name_zh, "name_en": definition.name_en}
    )
    return obj


class StaffFactory(factory.django.DjangoModelFactory):
    """``StaffFactory(roles=["dept_handler", "dept_approver"], department=...)``; default role: dept_handler."""

    class Meta:
        model = Staff
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    department = factory.SubFactory(DepartmentFactory)
    title = ""
    active = True

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if not create:
            return
        self.roles.set([role(code) for code in (extracted if extracted is not None else ["dept_handler"])])


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person
        exclude = ("area_code", "sequence", "male")

    area_code = factory.Iterator(DISTRICT_CODES)
    birth_date = factory.Sequence(lambda n: datetime.date(1950, 1, 1) + datetime.timedelta(days=n))
    male = factory.Sequence(lambda n: n % 2 == 0)
    sequence = factory.LazyAttributeSequence(
        lambda o, n: (2 * (n % 499) + 1) if o.male else (2 * (n % 499) + 2)
    )
    resident_id = factory.LazyAttribute(lambda o: make_resident_id(o.area_code, o.birth_date, o.sequence))
    name = factory.Sequence(lambda n: f"居民{n}")
    sex = factory.LazyAttribute(lambda o: parse_resident_id(o.resident_id).sex)
    phone = factory.Sequence(lambda n: f"139{n % 100000000:08d}")
    household_district = factory.LazyAttribute(
        lambda o: AdminUnitFactory(code=o.area_code) if o.area_code in DISTRICTS else None
    )
    user = None


class CitizenFactory(UserFactory):
    """A user with a Person record: holds the ``citizen`` role. ``CitizenFactory().person`` is the Person."""

    @factory.post_generation
    def person(self, create, extracted, **kwargs):
        if not create:
            return
        if extracted is not None:
            extracted.user = self
            extracted.save(update_fields=["user"])
        else:
            PersonFactory(user=self, **kwargs)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        exclude = ("area_code",)
        skip_postgeneration_save = True

    area_code = factory.Iterator(DISTRICT_CODES)
    credit_code = factory.LazyAttributeSequence(lambda o, n: make_credit_code(o.area_code, f"{n:08d}"))
    name = factory.Sequence(lambda n: f"测试有限公司{n}")
    org_type = Organisation.Type.ENTERPRISE
    district = factory.LazyAttribute(lambda o: AdminUnitFactory(code=o.area_code))
    legal_representative = None

    @factory.post_generation
    def agents(self, create, extracted, **kwargs):
        if create and extracted:
            self.agents.set(extracted)


def totp_now(device):
    """The current code of a TOTP device, as the staff member's phone would show it."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{code:0{device.digits}d}"


def login_verified(client, user):
    """Log ``user`` in on the test client with a confirmed TOTP device verified in the session."""
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="default", confirmed=True
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
