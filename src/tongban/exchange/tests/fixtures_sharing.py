"""Fixtures of the sharing-layer tests: test-only data resources over ``identity.Person``, departments' data
stewards and handlers, a citizen whose data is looked up.

The resources are registered for the test only (``test-person-basic`` conditional, ``test-person-public``
unconditional, ``test-person-secret`` not shared, all owned by public-security), so the sharing layer is tested
apart from the real registries.
"""

import datetime

import pytest

from tongban.core.audit import SYSTEM
from tongban.core.ids import make_resident_id
from tongban.exchange import resources
from tongban.exchange.resources import Field, ResourceSpec
from tongban.exchange.services import data_resources_sync
from tongban.identity import services as identity
from tongban.identity.models import Person
from tongban.identity.reference import branch_code
from tongban.identity.selectors import department_get
from tongban.identity.tests.factories import UserFactory

PURPOSE = "出生登记核验"
FIELDS = {
    "name": Field("string", "personal", "姓名"),
    "sex": Field("string", "personal", "性别"),
    "birth_date": Field("date", "personal", "出生日期"),
    "phone": Field("string", "sensitive", "手机号码"),
}


def fetch_person(subject_key, fields):
    row = Person.objects.filter(resident_id=subject_key).values(*fields).first()
    if row and "birth_date" in row:
        row["birth_date"] = row["birth_date"].isoformat()
    return row


def _spec(code, sharing):
    return ResourceSpec(
        code=code,
        owner="public-security",
        name_zh=f"测试人口信息 {code}",
        name_en=f"Test population data {code}",
        subject="person",
        fields=FIELDS,
        sharing=sharing,
        frequency="realtime",
        legal_basis="《居民身份证法》",
        fetch=fetch_person,
    )


TEST_SPECS = (
    _spec("test-person-basic", "conditional"),
    _spec("test-person-public", "unconditional"),
    _spec("test-person-secret", "not_shared"),
)


@pytest.fixture
def test_resources(city):
    """The three test resources, registered and synced into the catalogue; unregistered afterwards."""
    resources._load()
    saved = dict(resources.RESOURCES)
    for spec in TEST_SPECS:
        resources.register_resource(spec)
    data_resources_sync(actor=SYSTEM)
    yield {spec.code: spec for spec in TEST_SPECS}
    resources.RESOURCES.clear()
    resources.RESOURCES.update(saved)


def staff(username, department_code, roles):
    user = identity.user_create(actor=SYSTEM, username=username, password=None, check_password=False)
    identity.staff_create(actor=SYSTEM, user=user, department=department_get(department_code), roles=roles)
    return user


@pytest.fixture
def ps_steward(city):
    """The data steward of public-security, the owner of the test resources."""
    return staff("steward.ps", "public-security", ["data_steward"])


@pytest.fixture
def health_steward(city):
    """The data steward of health, which requests the test resources."""
    return staff("steward.health", "health", ["data_steward"])


@pytest.fixture
def health_handler(city):
    return staff("handler.health", "health", ["dept_handler"])


@pytest.fixture
def ps_branch_handler(city):
    return staff("handler.ps.xuhui", branch_code("public-security", "310104"), ["dept_handler"])


@pytest.fixture
def other_citizen(city):
    user = UserFactory(username="zhao.lei")
    identity.person_create(
        actor=SYSTEM,
        resident_id=make_resident_id("310105", datetime.date(1985, 3, 2), 231),
        name="赵磊",
        user=user,
    )
    return user
