"""The web channel: a resident sends a request in the portal, follows it, and reopens it when not satisfied; nobody
else's tickets are visible."""

from tongban.hotline import services
from tongban.hotline.models import Ticket
from tongban.hotline.tests.test_loop_more import NOISE, REPLY, people, routing  # noqa: F401
from tongban.identity.selectors import actor_for


def _login(client, citizen):
    client.cookies["django_language"] = "en"
    client.force_login(citizen)


def test_a_resident_sends_a_request_on_the_web_and_reopens_it(routing, people, citizen, client):  # noqa: F811
    _login(client, citizen)
    bad = client.post("/12345/new/", {"ticket_type": "report", "text": ""})
    assert bad.status_code == 200 and "Choose what kind of request" in bad.content.decode()
    assert not Ticket.objects.exists()
    response = client.post(
        "/12345/new/",
        {"ticket_type": "complaint", "text": NOISE, "district": "310101", "address": "南京东路"},
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/12345/{ticket.number}/"
    assert ticket.channel == "web" and ticket.caller.name == "李明" and ticket.contact_phone == "13812345678"
    assert ticket.number in client.get("/12345/").content.decode()

    services.ticket_reply(actor=actor_for(people["handler"]), ticket=ticket, reply=REPLY)
    services.ticket_callback(actor=actor_for(people["operator"]), ticket=ticket, satisfaction=2)
    page = client.get(f"/12345/{ticket.number}/").content.decode()
    assert REPLY in page and "Reopen my request" in page and "um.huangpu" not in page  # no staff names
    assert client.post(f"/12345/{ticket.number}/", {"reason": " "}).status_code == 200
    reopened = client.post(f"/12345/{ticket.number}/", {"reason": "晚上还在施工"})
    assert reopened.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.DISPATCHED and ticket.steps.filter(kind="reopened").exists()


def test_a_resident_sees_only_their_own_tickets_and_staff_are_sent_away(routing, people, citizen, client):  # noqa: F811
    other = services.ticket_create(
        actor=actor_for(people["operator"]),
        channel="phone",
        ticket_type="complaint",
        text=NOISE,
        district_code="310101",
    )
    _login(client, citizen)
    assert client.get(f"/12345/{other.number}/").status_code == 404
    assert other.number not in client.get("/12345/").content.decode()
    client.logout()
    assert client.get("/12345/").status_code == 302  # to the login page
    from tongban.identity.tests.fixtures import login_with_second_factor

    login_with_second_factor(client, people["operator"])  # staff, verified, but no resident record
    assert client.get("/12345/new/").status_code == 403


def test_staff_who_are_residents_give_their_second_factor_first(people, client):  # noqa: F811
    client.force_login(people["operator"])
    response = client.get("/12345/")
    assert response.status_code == 302 and "/accounts/" in response["Location"]
