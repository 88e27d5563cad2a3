"""Staff of the workbench tests: a window clerk of a district service centre and a service designer."""

import pytest

from tongban.core.audit import SYSTEM
from tongban.identity import services as identity
from tongban.identity.reference import branch_code
from tongban.identity.selectors import department_get


def make_staff(username, department_code, roles):
    user = identity.user_create(actor=SYSTEM, username=username, password="x-pass-2026", check_password=False)
    identity.staff_create(actor=SYSTEM, user=user, department=department_get(department_code), roles=roles)
    return user


@pytest.fixture
def clerk(city):
    """A window clerk of the Pudong branch of the big-data centre (a district service centre)."""
    return make_staff("clerk.pudong", branch_code("big-data-center", "310115"), ["window_clerk"])


@pytest.fixture
def designer(city):
    """A service designer of the big-data centre."""
    return make_staff("designer", "big-data-center", ["service_designer"])
