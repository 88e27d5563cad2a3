"""The hotline pages: the operator takes a request, the department replies, the operator calls back."""

import re

import pytest
from django.urls import reverse

from tongban.hotline.models import Ticket
from tongban.hotline.tests.test_tickets import NOISE, people, routing  # noqa: F401
from tongban.identity.selectors import actor_for
from tongban.identity.tests.fixtures import login_with_second_factor


def test_a_ticket_travels_the_loop_through_the_pages(client, routing, people):  # noqa: F811
    login_with_second_factor(client, people["operator"])
    assert client.get(reverse("hotline:console")).status_code == 200
    suggestion = client.get(reverse("hotline:suggest"), {"text": NOISE, "district": "310101"})
    assert "(93%)" in suggestion.content.decode()  # the confidence as a percentage, not 0.93
    response = client.post(
        reverse("hotline:console"),
        {
            "text": NOISE,
            "ticket_type": "complaint",
            "urgency": "general",
            "channel": "phone",
            "district": "310101",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    client.logout()
    login_with_second_factor(client, people["handler"])
    assert ticket.number in client.get(reverse("hotline:tickets")).content.decode()
    url = reverse("hotline:ticket", args=[ticket.number])
    reply = "已责令该工地停止夜间施工，城管队员将到现场检查噪音。"
    assert client.post(url, {"action": "reply", "reply": reply}).status_code == 302
    client.logout()
    login_with_second_factor(client, people["operator"])
    assert ticket.number in client.get(reverse("hotline:callbacks")).content.decode()
    client.post(url, {"action": "callback", "satisfaction": "5"})
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED


def test_a_bad_request_shows_the_messages_and_writes_nothing(client, routing, people):  # noqa: F811
    login_with_second_factor(client, people["operator"])
    response = client.post(
        reverse("hotline:console"),
        {"text": "", "ticket_type": "complaint", "channel": "phone", "district": "999"},
    )
    assert response.status_code == 200
    assert not Ticket.objects.exists()


def test_a_department_cannot_see_another_departments_ticket(client, routing, people):  # noqa: F811
    login_with_second_factor(client, people["operator"])
    client.post(
        reverse("hotline:console"),
        {
            "text": NOISE,
            "ticket_type": "complaint",
            "urgency": "general",
            "channel": "phone",
            "district": "310101",
        },
    )
    ticket = Ticket.objects.get()
    client.logout()
    login_with_second_factor(client, people["other"])
    assert client.get(reverse("hotline:ticket", args=[ticket.number])).status_code == 404


@pytest.mark.parametrize("name", ["hotline:console", "hotline:dispatch", "hotline:callbacks"])
def test_a_department_handler_may_not_open_the_operators_pages(client, people, name):  # noqa: F811
    login_with_second_factor(client, people["handler"])
    assert client.get(reverse(name)).status_code == 403


def test_the_console_suggests_service_guides_and_shows_the_first_contact_rate(client, routing, people):  # noqa: F811
    from tongban.demo.catalog import catalog_demo_ensure
    from tongban.hotline import services

    catalog_demo_ensure()
    login_with_second_factor(client, people["operator"])
    # Routed elsewhere (the stand-in says urban management), the birth guides are not offered: none rather
    # than guides of another department than the call's.
    html = client.get(reverse("hotline:suggest"), {"text": "孩子出生了怎么办出生医学证明"}).content.decode()
    assert "/services/" not in html
    routing.update(department="health")
    html = client.get(reverse("hotline:suggest"), {"text": "孩子出生了怎么办出生医学证明"}).content.decode()
    assert "/services/" in html and "出生" in html
    routing.update(department="urban-management")
    services.ticket_create(
        actor=actor_for(people["operator"]),
        channel="phone",
        ticket_type="consult",
        text="出生证明怎么办？",
        answer="网上申请出生一件事。",
    )
    services.ticket_create(
        actor=actor_for(people["operator"]), channel="phone", ticket_type="consult", text="居住证怎么办理？"
    )
    from tongban.hotline.selectors import first_contact_rate

    assert first_contact_rate() == {"consultations": 2, "answered": 1, "rate": 0.5}
    client.cookies["django_language"] = "en"
    assert (
        "answered at first contact today: 1 of 2" in client.get(reverse("hotline:console")).content.decode()
    )
    import datetime as dt

    from django.utils import timezone

    from tongban.core import calendar

    old = services.ticket_create(
        actor=actor_for(people["operator"]), channel="phone", ticket_type="consult", text="社保卡怎么补办？"
    )
    Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    assert first_contact_rate()["consultations"] == 3
    assert first_contact_rate(since=calendar.today()) == {"consultations": 2, "answered": 1, "rate": 0.5}


@pytest.mark.parametrize("value", ["five", "4.5", "Ⅴ"])
def test_a_non_numeric_satisfaction_is_a_field_error(client, routing, people, value):  # noqa: F811
    from tongban.hotline import services

    ticket = services.ticket_create(
        actor=actor_for(people["operator"]),
        channel="phone",
        ticket_type="complaint",
        text=NOISE,
        district_code="310101",
    )
    services.ticket_accept(actor=actor_for(people["handler"]), ticket=ticket)
    services.ticket_reply(
        actor=actor_for(people["handler"]),
        ticket=ticket,
        reply="已责令该工地停止夜间施工，城管队员将到现场检查噪音。",
    )
    login_with_second_factor(client, people["operator"])
    response = client.post(
        reverse("hotline:ticket", args=[ticket.number]), {"action": "callback", "satisfaction": value}
    )
    assert response.status_code == 200
    assert "satisfaction" in response.context["errors"]
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.REPLIED


def test_the_dispatch_queue_shows_the_classifiers_top_three_first(client, routing, people):  # noqa: F811
    """A ticket below the auto-dispatch threshold waits for a dispatcher with the classifier's three best
    departments (kept at intake), the best one chosen in the form; all departments stay choosable."""
    from tongban.hotline.tests.test_tickets import Prediction

    top3 = [("water", 0.41), ("housing", 0.33), ("urban-management", 0.12)]
    module = __import__("sys").modules["tongban.hotline.routing"]
    module.classify = lambda texts, districts=None: [Prediction("water", 0.41, top3) for _ in texts]
    login_with_second_factor(client, people["operator"])
    client.post(
        reverse("hotline:console"),
        {
            "text": NOISE,
            "ticket_type": "complaint",
            "urgency": "general",
            "channel": "phone",
            "district": "310101",
        },
    )
    ticket = Ticket.objects.get()
    assert ticket.status == Ticket.Status.DISPATCHING
    assert ticket.suggested_top3 == [["water", 0.41], ["housing", 0.33], ["urban-management", 0.12]]
    client.logout()
    login_with_second_factor(client, people["dispatcher"])
    page = client.get(reverse("hotline:dispatch")).content.decode()
    suggested = re.search(r'<optgroup label="[^"]+">(.*?)</optgroup>', page).group(1)  # the first group
    assert [code for code in ("water", "housing", "urban-management") if f'value="{code}"' in suggested] == [
        "water",
        "housing",
        "urban-management",
    ]
    assert suggested.index('value="water" selected') < suggested.index('value="housing"')
    assert "41%" in page and "33%" in page and "12%" in page
    assert page.count('value="tax"') == 1  # every department is still offered, once
    # the ticket's own page tells the dispatcher the same three, with a way back to the queue's form
    ticket_page = client.get(reverse("hotline:ticket", args=[ticket.number])).content.decode()
    suggested = re.search(r'aria-label="[^"]*">(.*?)</ol>', ticket_page.split("<dl", 1)[1]).group(1)
    assert re.findall(r"(\d+%)", suggested) == ["41%", "33%", "12%"]
    assert f'#dept-{ticket.number}"' in ticket_page
    client.logout()
    login_with_second_factor(client, people["operator"])  # takes calls, does not dispatch: not shown
    response = client.get(reverse("hotline:ticket", args=[ticket.number]))
    assert response.status_code == 200 and ticket.number in response.content.decode()
    assert "41%" not in response.content.decode()


@pytest.mark.parametrize(
    ("ratio", "shown"),
    [(0.41, "41%"), (0.996, ">99%"), (0.99, "99%"), (0.002, "<1%"), (0.01, "1%"), (None, "—"), (1.0, ">99%")],
)
def test_a_classifiers_probability_never_reads_as_certainty(ratio, shown):
    """The queue's percentages: a rounded 0.996 read "100%" (certain) and its neighbours "0%" (impossible)."""
    from tongban.portal.templatetags.tongban import probability

    assert probability(ratio) == shown
