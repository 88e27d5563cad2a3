"""Supervisors, department heads and cases driven with the case services, for supervision and evaluation tests.

Test packages import these fixtures (and the case fixtures they build on) into their ``conftest.py``.
"""

import pytest

from tongban.cases import services as cases
from tongban.cases.models import Case
from tongban.core.audit import SYSTEM
from tongban.identity import services as identity
from tongban.identity.selectors import actor_for, department_get
from tongban.workflow.models import Task
from tongban.workflow.tests.fixtures import newborn_files, newborn_form


def make_staff(username, department_code, roles):
    user = identity.user_create(actor=SYSTEM, username=username, password="x-pass-2026", check_password=False)
    identity.staff_create(actor=SYSTEM, user=user, department=department_get(department_code), roles=roles)
    return user


@pytest.fixture
def supervisor(city):
    """A supervisor (监察人员) of the Big Data Center: watches every department, closes rectifications."""
    return make_staff("s.supervisor", "big-data-center", ["supervisor"])


@pytest.fixture
def health_head(city):
    """The head of the municipal health department (the newborn bundle's lead department)."""
    return make_staff("head.health", "health", ["dept_head"])


@pytest.fixture
def hrss_head(city):
    return make_staff("head.hrss", "hrss", ["dept_head"])


@pytest.fixture
def clerk(city):
    """A window clerk of the Pudong branch of the big-data centre (accepts cases city-wide)."""
    from tongban.identity.reference import branch_code

    return make_staff("clerk.pudong", branch_code("big-data-center", "310115"), ["window_clerk"])


@pytest.fixture
def ps_head(city):
    """The head of the municipal public-security bureau: reads its district branches too."""
    return make_staff("head.ps", "public-security", ["dept_head"])


def submit(parent, newborn) -> Case:
    case = cases.case_submit(
        actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
    )
    case.refresh_from_db()
    return case


def open_task(case, step) -> Task:
    return Task.objects.get(case_id=case.pk, bpmn_id=step, state__in=Task.OPEN_STATES)


def complete(case, handlers) -> Case:
    """Drive an accepted newborn case through its four steps to completion."""
    steps = (
        ("birth_certificate", "health"),
        ("household_registration", "public-security"),
        ("medical_insurance", "medical-insurance"),
        ("social_security_card", "hrss"),
    )
    for step, lane in steps:
        cases.case_task_complete(
            actor=actor_for(handlers[lane]), task_id=open_task(case, step).pk, decision="approve"
        )
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    return case


@pytest.fixture
def completed_case(parent, newborn, handlers):
    return complete(submit(parent, newborn), handlers)


__all__ = ["completed_case", "health_head", "hrss_head", "ps_head", "supervisor"]
