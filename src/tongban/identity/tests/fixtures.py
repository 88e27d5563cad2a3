"""Users for the web and API tests of every app: the city, a citizen with a person record, a staff member.

A pytest plugin (``src/tongban/conftest.py`` registers it): tests ask for ``city``, ``citizen`` or
``staff_user`` by name; they import only the helpers and constants (``login_with_second_factor``,
``CITIZEN_RESIDENT_ID`` ...). It needs only core and identity, so tests of any app may use it.
"""

import datetime

import pytest
from django_otp import DEVICE_ID_SESSION_KEY

from tongban.core.audit import SYSTEM
from tongban.core.ids import make_resident_id
from tongban.identity import services
from tongban.identity.selectors import department_get

CITIZEN_PASSWORD = "citizen-pass-2026"
STAFF_PASSWORD = "staff-pass-2026"
CITIZEN_RESIDENT_ID = make_resident_id("310104", datetime.date(1990, 5, 17), 123)


@pytest.fixture
def city(db):
    """The city's districts, municipal departments, branches and roles (a migration loads them; a
    transactional test's flush removes them)."""
    if department_get("health") is None:
        services.departments_ensure(actor=SYSTEM)


@pytest.fixture
def citizen(city):
    """A citizen user linked to a person of Xuhui district."""
    user = services.user_create(
        actor=SYSTEM, username="li.ming", password=CITIZEN_PASSWORD, check_password=False
    )
    services.person_create(
        actor=SYSTEM, resident_id=CITIZEN_RESIDENT_ID, name="李明", phone="13812345678", user=user
    )
    return user


@pytest.fixture
def staff_user(city):
    """A handler and approver of the municipal health department."""
    user = services.user_create(
        actor=SYSTEM,
        username="wang.fang",
        password=STAFF_PASSWORD,
        first_name="芳",
        last_name="王",
        check_password=False,
    )
    services.staff_create(
        actor=SYSTEM, user=user, department=department_get("health"), roles=["dept_handler", "dept_approver"]
    )
    return user


def login_with_second_factor(client, user):
    """Log a staff user in with a verified TOTP device in the session, as after the code page."""
    client.force_login(user)
    device = services.totp_device_ensure(actor=SYSTEM, user=user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
