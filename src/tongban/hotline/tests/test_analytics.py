"""The hotline's analytics: hotspots, spikes, blind spots, the overview page, the API."""

import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from tongban.core import calendar
from tongban.core.models import AuditEntry, OutboxEvent
from tongban.hotline import analytics
from tongban.hotline.models import SpikeAlert, Ticket
from tongban.hotline.tasks import hotline_spikes
from tongban.hotline.tests.test_tickets import _staff
from tongban.identity.models import AdminUnit, Department
from tongban.identity.tests.fixtures import login_with_second_factor

TODAY = dt.date(2026, 3, 16)  # a Monday


def _at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=calendar.SHANGHAI)


def _make(n: int = 1, *, at, topic="", district=None, department=None, **extra) -> list[Ticket]:
    """``n`` tickets created at ``at`` (bulk-created; created_at put back after the insert's auto_now_add)."""
    values = {"channel": "phone", "ticket_type": "complaint", "status": "closed", "text": "测试工单"}
    values.update(extra)
    tickets = [
        Ticket(
            number=uuid.uuid4().hex[:20],
            topic=topic,
            district=AdminUnit.objects.get(code=district) if district else None,
            department=Department.objects.get(code=department) if department else None,
            **values,
        )
        for _ in range(n)
    ]
    Ticket.objects.bulk_create(tickets)
    for ticket in tickets:
        ticket.created_at = at
    Ticket.objects.bulk_update(tickets, ["created_at"])
    return tickets


@pytest.fixture
def people(city):
    return {
        "supervisor": _staff("sup", "big-data-center", ["supervisor"]),
        "um_head": _staff("um.head", "urban-management", ["dept_head"]),
        "water_head": _staff("water.pudong.head", "water-310115", ["dept_head"]),
        "handler": _staff("um.huangpu", "urban-management-310101", ["dept_handler"]),
        "designer": _staff("designer", "big-data-center", ["service_designer"]),
    }


# --- hotspots ------------------------------------------------------------------------------------------------


@pytest.fixture
def week(city):
    """Tickets of the week up to TODAY, and some just outside it."""
    _make(
        3, at=_at(TODAY), topic="noise-construction", district="310101", department="urban-management-310101"
    )
    _make(
        2,
        at=_at(TODAY - dt.timedelta(days=2)),
        topic="noise-construction",
        district="310104",
        department="urban-management",
    )
    # 00:30 in Shanghai on the first day of the window is 16:30 UTC the day before: inside.
    _make(
        1,
        at=_at(TODAY - dt.timedelta(days=6), 0, 30),
        topic="water-supply",
        district="310115",
        department="water-310115",
    )
    _make(
        1,
        at=_at(TODAY - dt.timedelta(days=1)),
        topic="water-supply",
        ticket_type="consult",
        status="answered",
    )
    # 23:30 in Shanghai the day before the window: outside; and a ticket of ten days ago.
    _make(
        1,
        at=_at(TODAY - dt.timedelta(days=7), 23, 30),
        topic="water-supply",
        district="310115",
        department="water-310115",
    )
    _make(4, at=_at(TODAY - dt.timedelta(days=10)), topic="tax", district="310101", department="tax-310101")


def _by(rows, key):
    return {row[key]: row["count"] for row in rows}


def test_hotspots_count_by_topic_municipal_department_and_district_in_shanghai_days(week):
    hot = analytics.hotspots(days=7, today=TODAY)
    assert hot["total"] == 7 and hot["since"] == TODAY - dt.timedelta(days=6)
    assert _by(hot["topics"], "topic") == {"noise-construction": 5, "water-supply": 2}
    # The Huangpu branch counts to the municipal urban-management department.
    assert _by(hot["departments"], "department") == {"urban-management": 5, "water": 1, None: 1}
    assert _by(hot["districts"], "district") == {"310101": 3, "310104": 2, "310115": 1, None: 1}
    series = hot["series"]
    assert len(series["days"]) == 7 and series["days"][-1] == TODAY
    noise = next(line for line in series["topics"] if line["topic"] == "noise-construction")
    assert noise["counts"] == [0, 0, 0, 0, 2, 0, 3] and noise["total"] == 5


def test_a_department_head_counts_only_their_department(week, people):
    municipal = analytics.hotspots(
        days=7, today=TODAY, departments=analytics.analytics_scope(people["um_head"])
    )
    # A municipal head reads the branches too, each department on its own row.
    assert _by(municipal["departments"], "department") == {
        "urban-management-310101": 3,
        "urban-management": 2,
    }
    assert municipal["total"] == 5
    branch = analytics.hotspots(
        days=7, today=TODAY, departments=analytics.analytics_scope(people["water_head"])
    )
    assert branch["total"] == 1 and _by(branch["topics"], "topic") == {"water-supply": 1}
    assert analytics.analytics_scope(people["supervisor"]) is None
    assert analytics.analytics_scope(people["handler"]) == frozenset()


# --- spikes --------------------------------------------------------------------------------------------------


def _history(topic, district, department, counts):
    """Tickets a day over the 28 days before TODAY, ``counts`` repeated."""
    for offset in range(1, 29):
        n = counts[offset % len(counts)]
        if n:
            _make(
                n,
                at=_at(TODAY - dt.timedelta(days=offset)),
                topic=topic,
                district=district,
                department=department,
            )


@pytest.fixture
def spiky(city):
    # Usual level 1 a day (std 0): 5 today is a spike (the minimum count).
    _history("sewer-blocked", "310101", "water-310101", [1])
    _make(5, at=_at(TODAY, 9), topic="sewer-blocked", district="310101", department="water-310101")
    # Mean 2, std 2: the threshold is 2 + 3·2 = 8; 7 is not a spike, 8 is.
    _history("noise-neighbour", "310104", "public-security-310104", [0, 4])
    _make(
        7, at=_at(TODAY, 9), topic="noise-neighbour", district="310104", department="public-security-310104"
    )
    _history("noise-neighbour", "310105", "public-security-310105", [0, 4])
    _make(
        8, at=_at(TODAY, 9), topic="noise-neighbour", district="310105", department="public-security-310105"
    )
    # A flat, busy topic: 6 every day, 6 today.
    _history("tax", "310106", "tax-310106", [6])
    _make(6, at=_at(TODAY, 9), topic="tax", district="310106", department="tax-310106")
    # Four today without history: under the minimum of five.
    _make(4, at=_at(TODAY, 9), topic="fire", district="310107", department="fire-rescue-310107")


def test_the_spike_threshold():
    assert analytics.spike_threshold(0, 0) == 5
    assert analytics.spike_threshold(2, 2) == 8
    assert analytics.spike_threshold(6, 0) == 12  # twice the usual level


def test_spikes_are_raised_once_audited_and_announced(spiky):
    alerts = analytics.spikes_detect(today=TODAY)
    assert {(a.topic, a.district.code, a.count) for a in alerts} == {
        ("sewer-blocked", "310101", 5),
        ("noise-neighbour", "310105", 8),
    }
    sewer = next(a for a in alerts if a.topic == "sewer-blocked")
    assert sewer.baseline == 1.0 and sewer.day == TODAY
    assert AuditEntry.objects.filter(action="hotline.spike").count() == 2
    assert OutboxEvent.objects.filter(name="hotline.spike").count() == 2
    # A rerun finds the same spikes and adds nothing.
    assert analytics.spikes_detect(today=TODAY) == []
    assert SpikeAlert.objects.count() == 2
    assert AuditEntry.objects.filter(action="hotline.spike").count() == 2


def test_recent_spikes_of_a_department_are_those_its_tickets_belong_to(spiky, people):
    analytics.spikes_detect(today=TODAY)
    assert len(analytics.spikes_recent(today=TODAY)) == 2
    water_pudong = analytics.analytics_scope(people["water_head"])
    assert analytics.spikes_recent(today=TODAY, departments=water_pudong) == []
    water_huangpu = frozenset(Department.objects.filter(code="water-310101").values_list("pk", flat=True))
    [alert] = analytics.spikes_recent(today=TODAY, departments=water_huangpu)
    assert alert.topic == "sewer-blocked" and alert.topic_label


def test_the_hourly_task_raises_todays_spikes(city):
    _make(6, at=timezone.now(), topic="water-supply", district="310115", department="water-310115")
    hotline_spikes.call_local()
    assert SpikeAlert.objects.filter(topic="water-supply", day=calendar.today()).count() == 1


# --- blind spots ---------------------------------------------------------------------------------------------


@pytest.fixture
def knowledge(monkeypatch):
    """A stand-in knowledge base: an FAQ entry on social insurance cards, a tax guide, and a loose catalogue
    match for anything else (a guide whose name has nothing to do with the question)."""

    def knowledge_for(text, limit=3):
        if "社保卡" in text:
            return [{"kind": "faq", "code": "1", "name": "社保卡丢了怎么补办？", "url": ""}]
        if "所得税" in text:
            return [
                {
                    "kind": "item",
                    "code": "tax-refund",
                    "name": "个人所得税综合所得年度汇算退税",
                    "url": "/services/items/tax-refund/",
                }
            ]
        return [{"kind": "item", "code": "birth", "name": "出生户口登记", "url": "/services/items/birth/"}]

    monkeypatch.setattr("tongban.hotline.selectors.knowledge_for", knowledge_for)


def _consultations(topic, text, *, total, answered, guide=False, days_ago=3, today=TODAY):
    """Consultations of a topic, ``answered`` of them at first contact (pointed to a guide when ``guide``)."""
    at = _at(today - dt.timedelta(days=days_ago))
    code = "a-guide" if guide else ""
    _make(
        answered, at=at, topic=topic, text=text, ticket_type="consult", status="answered", service_code=code
    )
    _make(total - answered, at=at, topic=topic, text=text, ticket_type="consult", status="dispatched")


def test_blind_spots_tell_missing_from_unclear(city, knowledge):
    _consultations("social-security", "请问社保卡丢了怎么补办", total=25, answered=20)  # the FAQ answers it
    _consultations(
        "water-supply", "请问小区停水什么时候恢复供水", total=30, answered=24
    )  # nothing answers it
    # Nothing found for the callers' words either, but operators point callers to a guide: not missing.
    _consultations("leak-property", "请问楼上漏水物业不管怎么办", total=22, answered=20, guide=True)
    _consultations(
        "tax", "请问个人所得税退税怎么操作", total=25, answered=5, guide=True
    )  # a guide, rarely enough
    _consultations("school", "请问入学报名什么时候开始", total=5, answered=0)  # too few to judge
    _make(30, at=_at(TODAY - dt.timedelta(days=2)), topic="transport", status="closed")  # complaints only
    rows = {row["topic"]: row for row in analytics.blind_spots(days=30, min_consultations=20, today=TODAY)}
    assert list(rows) == ["water-supply", "tax"]  # most consultations first
    water, tax = rows["water-supply"], rows["tax"]
    assert water["reasons"] == ["missing"] and water["found"] == []
    assert water["consultations"] == 30 and water["answered"] == 24 and water["answered_pct"] == 80.0
    assert water["with_guide"] == water["with_faq"] == water["with_knowledge"] == 0
    assert tax["reasons"] == ["unclear"] and tax["answered_pct"] == 20.0 and tax["with_guide"] == 5
    assert [hit["code"] for hit in tax["found"]] == ["tax-refund"]
    assert all(row["explanations"] for row in rows.values())


# --- pages ---------------------------------------------------------------------------------------------------


@pytest.fixture
def today_tickets(city):
    now = timezone.now()
    _make(
        2,
        at=now,
        topic="noise-construction",
        district="310101",
        department="urban-management-310101",
        status="dispatched",
        warning="red",
        due_date=calendar.today() - dt.timedelta(days=1),
    )
    _make(
        1,
        at=now,
        topic="noise-construction",
        district="310101",
        department="urban-management-310101",
        status="in_hand",
        supervised_at=now,
        extension="requested",
    )
    _make(
        3,
        at=now,
        topic="water-supply",
        district="310115",
        department="water-310115",
        status="dispatched",
        warning="yellow",
    )
    SpikeAlert.objects.create(
        topic="water-supply",
        district=AdminUnit.objects.get(code="310115"),
        day=calendar.today(),
        count=9,
        baseline=0.5,
        raised_at=now,
    )


def _page(client, user, **params):
    login_with_second_factor(client, user)
    client.cookies["django_language"] = "en"
    return client.get(reverse("hotline:overview"), params)


def test_the_overview_shows_warnings_spikes_and_charts_to_a_supervisor(client, people, today_tickets):
    response = _page(client, people["supervisor"])
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        'data-count="open">6<' in html and 'data-count="red">2<' in html and 'data-count="yellow">3<' in html
    )
    assert 'data-count="supervised">1<' in html and 'data-count="extensions">1<' in html
    assert 'role="img"' in html and '<title id="chart-title">' in html and "<polyline" in html
    assert "data-chart-table" in html and 'data-bars="department"' in html and 'data-bars="district"' in html
    assert "data-spikes" in html and "Pudong New Area" in html
    assert 'hx-get="/workbench/hotline/blind-spots/?days=30"' in html
    assert 'value="30" selected' in html


@pytest.mark.parametrize(("value", "chosen"), [("7", 7), ("90", 90), ("abc", 30), ("-1", 30), ("8", 30)])
def test_the_period_is_one_of_the_choices(client, people, today_tickets, value, chosen):
    response = _page(client, people["supervisor"], days=value)
    assert response.status_code == 200
    assert f'value="{chosen}" selected' in response.content.decode()


def test_a_department_head_sees_only_their_department_on_the_overview(client, people, today_tickets):
    html = _page(client, people["water_head"]).content.decode()
    assert 'data-count="open">3<' in html and 'data-count="red">0<' in html
    assert "Counting the tickets of your department" in html


def test_the_overview_is_refused_to_a_citizen_a_handler_and_a_designer(client, people, citizen):
    client.force_login(citizen)
    assert client.get(reverse("hotline:overview")).status_code == 403
    client.logout()
    for name in ("handler", "designer"):
        assert _page(client, people[name]).status_code == 403
        client.logout()
    assert client.get(reverse("hotline:overview")).status_code == 302  # anonymous: to the login page


def test_the_blind_spots_page_for_service_designers_and_its_htmx_part(client, people, knowledge):
    _consultations(
        "water-supply",
        "请问小区停水什么时候恢复供水",
        total=25,
        answered=5,
        days_ago=1,
        today=calendar.today(),
    )
    login_with_second_factor(client, people["designer"])
    client.cookies["django_language"] = "en"
    page = client.get(reverse("hotline:blind-spots"), {"days": "x"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<html" in html and 'data-topic="water-supply"' in html
    assert 'data-reason="missing"' in html and 'data-reason="unclear"' in html
    part = client.get(reverse("hotline:blind-spots"), HTTP_HX_REQUEST="true")
    assert "<html" not in part.content.decode() and "data-blind-spots" in part.content.decode()
    client.logout()
    login_with_second_factor(client, people["handler"])
    assert client.get(reverse("hotline:blind-spots")).status_code == 403


# --- API -----------------------------------------------------------------------------------------------------


def _api(user):
    client = APIClient()
    login_with_second_factor(client, user)
    return client


def test_the_analytics_api(people, today_tickets, knowledge):
    supervisor = _api(people["supervisor"])
    hot = supervisor.get("/api/v1/hotline/hotspots/", {"days": 7})
    assert hot.status_code == 200, hot.json()
    body = hot.json()
    assert body["days"] == 7 and body["total"] == 6 and len(body["series"]["days"]) == 7
    assert {row["department"]: row["count"] for row in body["departments"]} == {
        "urban-management": 3,
        "water": 3,
    }
    spikes = supervisor.get("/api/v1/hotline/spikes/")
    assert spikes.status_code == 200 and [s["district"] for s in spikes.json()] == ["310115"]
    blind = _api(people["designer"]).get("/api/v1/hotline/blind-spots/", {"min_consultations": 1})
    assert blind.status_code == 200 and isinstance(blind.json(), list)
    head = _api(people["water_head"]).get("/api/v1/hotline/hotspots/").json()
    assert head["total"] == 3


@pytest.mark.parametrize("value", ["abc", "0", "367", "1.5"])
def test_a_bad_days_is_a_400_with_a_field_message(people, value):
    client = _api(people["supervisor"])
    for path in ("/api/v1/hotline/hotspots/", "/api/v1/hotline/spikes/", "/api/v1/hotline/blind-spots/"):
        response = client.get(path, {"days": value})
        assert response.status_code == 400, path
        assert "days" in response.json()["errors"]


def test_the_analytics_api_needs_the_permissions(people):
    handler = _api(people["handler"])
    assert handler.get("/api/v1/hotline/hotspots/").status_code == 403
    assert handler.get("/api/v1/hotline/blind-spots/").status_code == 403
    assert _api(people["designer"]).get("/api/v1/hotline/spikes/").status_code == 403
    assert APIClient().get("/api/v1/hotline/hotspots/").status_code in (401, 403)


def test_labels_follow_the_language(week):
    with translation.override("en"):
        hot = analytics.hotspots(days=7, today=TODAY)
    none = next(row for row in hot["departments"] if row["department"] is None)
    assert none["name"] == "No department (answered or waiting)"
