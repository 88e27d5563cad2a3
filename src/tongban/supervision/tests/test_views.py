"""Supervision pages: who sees what, and the rectification forms."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from tongban.core.audit import SYSTEM
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.supervision import services
from tongban.supervision.models import Rectification
from tongban.supervision.tests.fixtures import submit

DAY = dt.timedelta(days=1)


@pytest.fixture
def client():
    return Client(headers={"accept-language": "en"})


@pytest.fixture
def red_case(parent, newborn, handlers):
    case = submit(parent, newborn)
    services.deadlines_check(today=case.due_date + DAY)
    return case


def test_a_supervisor_sees_the_warnings_of_every_department(client, supervisor, red_case):
    login_with_second_factor(client, supervisor)
    response = client.get(reverse("supervision:warnings"))
    assert response.status_code == 200
    assert response.content.decode().count(red_case.number) == 2  # the step and the case
    filtered = client.get(reverse("supervision:warnings"), {"level": "yellow"})
    assert red_case.number not in filtered.content.decode()


def test_the_head_of_another_department_sees_none_of_its_warnings(client, hrss_head, red_case):
    login_with_second_factor(client, hrss_head)
    response = client.get(reverse("supervision:warnings"))
    assert response.status_code == 200
    assert red_case.number not in response.content.decode()
    filtered = client.get(reverse("supervision:warnings"), {"department": "health"})
    assert red_case.number not in filtered.content.decode()


def test_the_lead_departments_head_sees_its_warnings(client, health_head, red_case):
    login_with_second_factor(client, health_head)
    assert red_case.number in client.get(reverse("supervision:warnings")).content.decode()


def test_handlers_and_citizens_may_not_open_the_supervision_pages(client, handlers, parent, city):
    login_with_second_factor(client, handlers["health"])
    assert client.get(reverse("supervision:warnings")).status_code == 403
    assert client.get(reverse("supervision:compliance")).status_code == 403
    client.logout()
    client.force_login(parent)
    assert client.get(reverse("supervision:rectifications")).status_code == 403
    client.logout()
    assert client.get(reverse("supervision:warnings")).status_code == 302


def test_the_compliance_page_shows_a_row_and_a_bar_per_department(client, supervisor, hrss_head, red_case):
    login_with_second_factor(client, supervisor)
    html = client.get(reverse("supervision:compliance"), {"days": "90"}).content.decode()
    assert 'data-department="health"' in html
    assert 'role="progressbar"' in html
    client.logout()
    login_with_second_factor(client, hrss_head)
    assert 'data-department="health"' not in client.get(reverse("supervision:compliance")).content.decode()


def test_a_supervisor_closes_a_rectification_from_the_list(client, supervisor, completed_case):
    rectification = services.rectification_open(actor=SYSTEM, case=completed_case, reason="态度差")
    login_with_second_factor(client, supervisor)
    html = client.get(reverse("supervision:rectifications")).content.decode()
    close_url = reverse("supervision:rectification-close", args=[rectification.pk])
    assert close_url in html
    response = client.post(close_url, {"resolution": "已约谈并整改"})
    assert response.status_code == 302
    rectification.refresh_from_db()
    assert rectification.status == Rectification.Status.CLOSED


def test_a_department_head_responds_but_cannot_close(client, health_head, completed_case):
    rectification = services.rectification_open(actor=SYSTEM, case=completed_case, reason="态度差")
    login_with_second_factor(client, health_head)
    html = client.get(reverse("supervision:rectifications")).content.decode()
    assert reverse("supervision:rectification-respond", args=[rectification.pk]) in html
    assert reverse("supervision:rectification-close", args=[rectification.pk]) not in html
    close = client.post(
        reverse("supervision:rectification-close", args=[rectification.pk]), {"resolution": "x"}
    )
    assert close.status_code == 403
    client.post(reverse("supervision:rectification-respond", args=[rectification.pk]), {"response": "已整改"})
    rectification.refresh_from_db()
    assert rectification.status == Rectification.Status.OPEN and rectification.response == "已整改"


def test_the_head_of_another_department_sees_no_rectification_of_this_one(client, hrss_head, completed_case):
    rectification = services.rectification_open(actor=SYSTEM, case=completed_case, reason="态度差")
    login_with_second_factor(client, hrss_head)
    assert completed_case.number not in client.get(reverse("supervision:rectifications")).content.decode()
    response = client.post(
        reverse("supervision:rectification-respond", args=[rectification.pk]), {"response": "x"}
    )
    assert response.status_code == 404
