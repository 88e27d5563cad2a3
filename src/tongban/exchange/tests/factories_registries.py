"""factory-boy factories and helpers for the registries' tests.

* ``HouseholdFactory`` — a household of a district (``identity.Household``).
* ``MemberFactory`` — a person registered in a household (``HouseholdMembership``; ``relation`` default head).
* ``BirthRecordFactory``, ``MarriageFactory``, ``UnitFactory`` (a valid 不动产单元号), ``OwnershipFactory``,
  ``MortgageFactory``, ``SeizureFactory``, ``BusinessRegistrationFactory``, ``DeedTaxFactory``.
* ``registry_staff(department_code, roles=...)`` — an active staff user of a department (or a branch).
* ``woman(...)`` / ``man(...)`` — a Person of a given age band (born in 1990 by default).
"""

import datetime
from decimal import Decimal

import factory

from tongban.exchange.models import (
    BirthRecord,
    BusinessRegistration,
    DeedTaxPayment,
    HouseholdMembership,
    MarriageRecord,
    Mortgage,
    PropertyOwnership,
    PropertyUnit,
    Seizure,
)
from tongban.identity.models import Household
from tongban.identity.tests.factories import (
    AdminUnitFactory,
    OrganisationFactory,
    PersonFactory,
    StaffFactory,
    UserFactory,
    department,
)


def woman(birth_date=datetime.date(1990, 3, 1), **kwargs):
    return PersonFactory(male=False, birth_date=birth_date, **kwargs)


def man(birth_date=datetime.date(1988, 7, 1), **kwargs):
    return PersonFactory(male=True, birth_date=birth_date, **kwargs)


def registry_staff(department_code, roles=("dept_handler",)):
    """An active staff user of ``department_code`` (created with the reference departments if missing)."""
    staff = StaffFactory(user=UserFactory(), department=department(department_code), roles=list(roles))
    return staff.user


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    number = factory.Sequence(lambda n: f"310101{n:09d}")
    district = factory.LazyFunction(lambda: AdminUnitFactory(code="310101"))
    address = factory.Sequence(lambda n: f"上海市黄浦区测试路{n}号")


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HouseholdMembership

    household = factory.SubFactory(HouseholdFactory)
    person = factory.SubFactory(PersonFactory)
    relation = HouseholdMembership.Relation.HEAD
    since = datetime.date(2015, 1, 1)


class BirthRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BirthRecord

    certificate_number = factory.Sequence(lambda n: f"Q{n:09d}")
    baby_name = "李小宝"
    baby_sex = "M"
    birth_date = datetime.date(2025, 10, 8)
    birth_time = datetime.time(8, 30)
    weight_g = 3400
    hospital = "上海市第一妇婴保健院"
    mother = factory.LazyFunction(woman)
    father = None
    baby = None
    recorded_at = factory.LazyFunction(lambda: datetime.datetime(2025, 10, 9, 10, 0, tzinfo=datetime.UTC))


class MarriageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MarriageRecord

    party_a = factory.LazyFunction(man)
    party_b = factory.LazyFunction(woman)
    registered_on = datetime.date(2018, 5, 20)
    certificate_number = factory.Sequence(lambda n: f"J310101-2018-F{n:07d}")
    office = factory.LazyFunction(lambda: AdminUnitFactory(code="310101"))


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PropertyUnit

    unit_number = factory.Sequence(lambda n: f"310101900{n % 1000:03d}GB{n:05d}F{n % 10000:04d}0101")
    district = factory.LazyFunction(lambda: AdminUnitFactory(code="310101"))
    address = factory.Sequence(lambda n: f"上海市黄浦区测试路{n}号101室")
    floor_area = Decimal("88.50")
    certificate_number = factory.Sequence(lambda n: f"沪(2020)黄字不动产权第{8_000_000 + n:07d}号")


class OwnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PropertyOwnership

    unit = factory.SubFactory(UnitFactory)
    owner_person = factory.SubFactory(PersonFactory)
    share = Decimal("100")
    since = datetime.date(2020, 6, 1)


class MortgageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mortgage

    unit = factory.SubFactory(UnitFactory)
    creditor = "上海银行股份有限公司"
    amount = Decimal("1000000")
    registered_on = datetime.date(2020, 6, 1)


class SeizureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Seizure

    unit = factory.SubFactory(UnitFactory)
    court = "上海市黄浦区人民法院"
    reference = "(2025)沪0101执1234号"
    ordered_on = datetime.date(2025, 3, 1)


class BusinessRegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessRegistration

    organisation = factory.SubFactory(OrganisationFactory)
    registered_on = datetime.date(2010, 1, 1)
    business_scope = "技术服务、技术开发。"
    registered_capital = Decimal("100")


class DeedTaxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeedTaxPayment

    unit = factory.SubFactory(UnitFactory)
    payer = factory.SubFactory(PersonFactory)
    amount = Decimal("30000")
    paid_on = datetime.date(2020, 6, 1)
    receipt_number = factory.Sequence(lambda n: f"202031{n:012d}F")
