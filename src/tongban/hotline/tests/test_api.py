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


def test_ticket_rows_are_what_the_serializer_gives(routing, people):  # noqa: F811
    """The API's ticket rows are made without DRF's fields: the same output, for every kind of value."""
    import datetime as dt

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from tongban.hotline.api import TicketSerializer, ticket_rows
    from tongban.hotline.models import TicketAttachment
    from tongban.hotline.tests.test_tickets import _take

    plain = _take(people)
    full = _take(people, text="南京东路的工地半夜施工 太吵了", address="南京东路100号")
    now = timezone.now()
    Ticket.objects.filter(pk=full.pk).update(
        duplicate_of=plain,
        merged_into=plain,
        supervised_at=now,
        extension="approved",
        warning="yellow",
        answer="已转交",
        reply="已处理完毕，工地已停工整改。",
        satisfaction=4,
        suggestion_confidence=None,
        due_date=now.date() + dt.timedelta(days=5),
    )
    attachment = TicketAttachment(
        ticket=full, name="照片.jpg", content_type="image/jpeg", size=3, sha256="ab" * 32, uploaded_at=now
    )
    attachment.file.save("x.jpg", ContentFile(b"abc"), save=False)
    attachment.save()
    tickets = list(
        Ticket.objects.select_related("district", "department", "duplicate_of", "merged_into")
        .prefetch_related("attachments")
        .order_by("created_at")
    )
    assert ticket_rows(tickets) == TicketSerializer(tickets, many=True).data
    row = ticket_rows(tickets)[1]
    assert row["attachments"][0]["name"] == "照片.jpg" and row["merged_into"] == plain.number
    assert row["supervised_at"] and row["due_date"] and row["satisfaction"] == 4
