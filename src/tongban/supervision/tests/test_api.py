"""The supervision API: warnings, compliance, rectifications, with the callers' rights."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from tongban.core.audit import SYSTEM
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.supervision import services
from tongban.supervision.tests.fixtures import submit

DAY = dt.timedelta(days=1)


@pytest.fixture
def client():
    return Client(headers={"accept-language": "en"})


def _url(name, *args):
    return reverse(f"api:supervision-api:{name}", args=args)


def test_warnings_for_a_supervisor_and_none_for_another_department(
    client, parent, newborn, handlers, supervisor, hrss_head
):
    case = submit(parent, newborn)
    services.deadlines_check(today=case.due_date + DAY)
    login_with_second_factor(client, supervisor)
    body = client.get(_url("warning-list")).json()
    assert body["count"] == 2
    assert {item["department"] for item in body["results"]} == {"health"}
    assert {item["case_number"] for item in body["results"]} == {case.number}
    assert client.get(_url("warning-list"), {"level": "purple"}).status_code == 400
    steps = client.get(_url("warning-list"), {"subject_type": "task"}).json()
    assert steps["count"] == 1 and steps["results"][0]["subject_type"] == "task"
    assert client.get(_url("warning-list"), {"subject_type": "accept"}).json()["count"] == 0
    assert client.get(_url("warning-list"), {"subject_type": "anything"}).status_code == 400
    client.logout()
    login_with_second_factor(client, hrss_head)
    assert client.get(_url("warning-list")).json()["count"] == 0
    assert client.get(_url("warning-list"), {"department": "health"}).json()["count"] == 0


def test_citizens_and_handlers_get_403(client, parent, handlers):
    client.force_login(parent)
    assert client.get(_url("warning-list")).status_code == 403
    client.logout()
    login_with_second_factor(client, handlers["health"])
    assert client.get(_url("compliance")).status_code == 403
    assert client.get(_url("rectification-list")).status_code == 403


def test_compliance_by_department(client, completed_case, supervisor):
    login_with_second_factor(client, supervisor)
    body = client.get(_url("compliance"), {"days": 7}).json()
    assert body["days"] == 7
    health = next(row for row in body["departments"] if row["department"] == "health")
    assert health["cases_completed"] == 1 and health["cases_on_time_pct"] == 100.0
    assert client.get(_url("compliance"), {"days": 0}).status_code == 400


def test_rectifications_are_closed_by_a_supervisor_only(
    client, completed_case, supervisor, health_head, hrss_head
):
    rectification = services.rectification_open(actor=SYSTEM, case=completed_case, reason="态度差")
    close = _url("rectification-close", rectification.pk)

    login_with_second_factor(client, hrss_head)
    assert client.get(_url("rectification-list")).json()["count"] == 0
    client.logout()

    login_with_second_factor(client, health_head)
    assert client.get(_url("rectification-list")).json()["count"] == 1
    assert client.post(close, {"resolution": "已整改"}).status_code == 403
    respond = client.post(_url("rectification-respond", rectification.pk), {"response": "已整改"})
    assert respond.status_code == 200 and respond.json()["response"] == "已整改"
    client.logout()

    login_with_second_factor(client, supervisor)
    assert client.post(close, {"resolution": ""}).status_code == 400
    response = client.post(close, {"resolution": "已核实整改"})
    assert response.status_code == 200
    assert response.json()["status"] == "closed"
    again = client.post(close, {"resolution": "已核实整改"})
    assert again.status_code == 409 and again.json()["code"] == "rectification_closed"
    assert client.get(_url("rectification-list"), {"status": "closed"}).json()["count"] == 1


def test_the_endpoints_are_in_the_openapi_schema(client):
    paths = client.get(reverse("api:schema"), {"format": "json"}).json()["paths"]
    for path in (
        "/api/v1/warnings/",
        "/api/v1/compliance/",
        "/api/v1/rectifications/",
        "/api/v1/rectifications/{id}/close/",
        "/api/v1/cases/{number}/rating/",
        "/api/v1/ratings/summary/",
    ):
        assert path in paths
