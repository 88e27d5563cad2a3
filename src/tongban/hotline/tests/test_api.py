"""The hotline's REST endpoints."""

from rest_framework.test import APIClient

from tongban.hotline.models import Ticket
from tongban.hotline.tests.test_tickets import NOISE, people, routing  # noqa: F401
from tongban.identity.tests.fixtures import login_with_second_factor


def _client(user):
    client = APIClient()
    login_with_second_factor(client, user)
    return client


def test_the_loop_through_the_api(routing, people):  # noqa: F811
    operator = _client(people["operator"])
    created = operator.post(
        "/api/v1/tickets/", {"ticket_type": "complaint", "text": NOISE, "district": "310101"}, format="json"
    )
    assert created.status_code == 201, created.json()
    number = created.json()["number"]
    handler = _client(people["handler"])
    reply = "已责令该工地停止夜间施工，城管队员将到现场检查噪音。"
    answered = handler.post(f"/api/v1/tickets/{number}/reply/", {"reply": reply}, format="json")
    assert answered.status_code == 200 and answered.json()["status"] == "replied"
    closed = operator.post(f"/api/v1/tickets/{number}/callback/", {"satisfaction": 4}, format="json")
    assert closed.json()["status"] == "closed"


def test_bad_input_gets_field_errors_and_nothing_is_written(routing, people):  # noqa: F811
    operator = _client(people["operator"])
    response = operator.post(
        "/api/v1/tickets/", {"ticket_type": "complaint", "text": "", "district": "999999"}, format="json"
    )
    assert response.status_code == 400
    assert {"text", "district"} <= set(response.json()["errors"])
    assert not Ticket.objects.exists()


def test_another_department_gets_404_and_a_handler_cannot_take_requests(routing, people):  # noqa: F811
    operator = _client(people["operator"])
    number = operator.post(
        "/api/v1/tickets/", {"ticket_type": "complaint", "text": NOISE, "district": "310101"}, format="json"
    ).json()["number"]
    other = _client(people["other"])
    assert other.get(f"/api/v1/tickets/{number}/").status_code == 404
    assert (
        other.post("/api/v1/tickets/", {"ticket_type": "complaint", "text": NOISE}, format="json").status_code
        == 403
    )


def test_classify_returns_a_department_for_each_text(routing, people):  # noqa: F811
    response = _client(people["operator"]).post(
        "/api/v1/hotline/classify/", {"texts": [NOISE, "下水道堵了"]}, format="json"
    )
    assert response.status_code == 200
    assert [r["department"] for r in response.json()] == ["urban-management", "urban-management"]
