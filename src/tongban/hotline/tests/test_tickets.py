"""The hotline's closed loop through its services: take, route, handle, reply, call back, reopen."""

import datetime as dt
import sys
import types
from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tongban.core.audit import SYSTEM
from tongban.core.exceptions import Conflict
from tongban.core.models import AuditEntry
from tongban.hotline import services
from tongban.hotline.models import RoutingCorrection, Ticket
from tongban.identity import services as identity
from tongban.identity.reference import branch_code
from tongban.identity.selectors import actor_for, department_get

NOISE = "黄浦区南京东路附近工地晚上十一点还在施工，噪音太大，睡不着觉"


@dataclass
class Prediction:
    department: str
    confidence: float
    top3: list


@pytest.fixture
def routing(monkeypatch):
    """A stand-in classifier with a settable answer, so these tests are about the loop, not the model."""
    answer = {"department": "urban-management", "confidence": 0.93}
    module = types.ModuleType("tongban.hotline.routing")
    module.classify = lambda texts, districts=None: [
        Prediction(answer["department"], answer["confidence"], []) for _ in texts
    ]
    monkeypatch.setitem(sys.modules, "tongban.hotline.routing", module)
    return answer


def _staff(username, department, roles):
    user = identity.user_create(actor=SYSTEM, username=username, password=None, check_password=False)
    identity.staff_create(actor=SYSTEM, user=user, department=department_get(department), roles=roles)
    return user


@pytest.fixture
def people(city):
    return {
        "operator": _staff("op", "big-data-center", ["hotline_operator"]),
        "dispatcher": _staff("disp", "big-data-center", ["dispatcher"]),
        "handler": _staff("um.huangpu", branch_code("urban-management", "310101"), ["dept_handler"]),
        "other": _staff("water.huangpu", branch_code("water", "310101"), ["dept_handler"]),
    }


def _take(people, **extra):
    values = {"channel": "phone", "ticket_type": "complaint", "text": NOISE, "district_code": "310101"}
    values.update(extra)
    return services.ticket_create(actor=actor_for(people["operator"]), **values)


def test_intake_gives_the_classifier_the_district_for_its_district_rules(monkeypatch, people):
    seen = []

    def classify(texts, districts=None):
        seen.append(districts)
        return [Prediction("urban-management", 0.93, []) for _ in texts]

    module = types.ModuleType("tongban.hotline.routing")
    module.classify = classify
    monkeypatch.setitem(sys.modules, "tongban.hotline.routing", module)
    _take(people)
    assert seen == [["310101"]]


def test_a_confident_route_goes_to_the_branch_of_the_district(routing, people):
    ticket = _take(people)
    assert ticket.status == Ticket.Status.DISPATCHED
    assert ticket.department.code == "urban-management-310101"
    assert ticket.due_date is not None and ticket.limit_days == 5
    assert AuditEntry.objects.filter(ticket_id=str(ticket.pk), action="ticket.created").exists()


def test_the_whole_loop_and_a_reopening(routing, people):
    ticket = _take(people)
    services.ticket_accept(actor=actor_for(people["handler"]), ticket=ticket)
    with pytest.raises(ValidationError):
        services.ticket_reply(actor=actor_for(people["handler"]), ticket=ticket, reply="已处理。")
    with pytest.raises(ValidationError):  # long enough, but not about the request
        services.ticket_reply(
            actor=actor_for(people["handler"]),
            ticket=ticket,
            reply="感谢您的来电，我们会认真对待您的意见和建议。",
        )
    services.ticket_reply(
        actor=actor_for(people["handler"]),
        ticket=ticket,
        reply="已责令该工地停止夜间施工，城管队员将于今晚到现场检查噪音情况。",
    )
    services.ticket_callback(
        actor=actor_for(people["operator"]), ticket=ticket, satisfaction=2, note="仍有噪音"
    )
    ticket.refresh_from_db()
    assert (ticket.status, ticket.satisfaction) == (Ticket.Status.CLOSED, 2)
    services.ticket_reopen(actor=actor_for(people["operator"]), ticket=ticket, reason="昨晚仍在施工")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.DISPATCHED
    assert [s.kind for s in ticket.steps.all()][-1] == "reopened"


def test_reopening_is_refused_after_ten_working_days(routing, people):
    ticket = _take(people)
    services.ticket_reply(
        actor=actor_for(people["handler"]),
        ticket=ticket,
        reply="已责令该工地停止夜间施工，并将持续检查施工噪音。",
    )
    services.ticket_callback(actor=actor_for(people["operator"]), ticket=ticket, satisfaction=1)
    later = ticket.created_at + dt.timedelta(days=30)
    with pytest.raises(Conflict):
        services.ticket_reopen(
            actor=actor_for(people["operator"]), ticket=ticket, reason="没有解决", now=later
        )


def test_a_doubtful_route_waits_for_a_dispatcher_whose_choice_is_kept(routing, people):
    routing.update(department="ecology-environment", confidence=0.31)
    ticket = _take(people)
    assert ticket.status == Ticket.Status.DISPATCHING and ticket.department is None
    services.ticket_dispatch(
        actor=actor_for(people["dispatcher"]), ticket=ticket, department_code="urban-management"
    )
    ticket.refresh_from_db()
    assert ticket.department.code == "urban-management-310101"
    correction = RoutingCorrection.objects.get()
    assert (correction.suggested, correction.department) == ("ecology-environment", "urban-management")
    assert services.corrections_rows() == [{"text": NOISE, "department": "urban-management"}]


def test_a_department_returns_a_ticket_that_is_not_its_own(routing, people):
    ticket = _take(people)
    with pytest.raises(ValidationError):
        services.ticket_return(actor=actor_for(people["handler"]), ticket=ticket, reason=" ")
    services.ticket_return(
        actor=actor_for(people["handler"]), ticket=ticket, reason="属于生态环境部门管辖的工业噪声"
    )
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.DISPATCHING


def test_another_department_cannot_reply(routing, people):
    ticket = _take(people)
    with pytest.raises(PermissionDenied):
        services.ticket_reply(
            actor=actor_for(people["other"]),
            ticket=ticket,
            reply="已责令该工地停止夜间施工，城管队员将到现场检查。",
        )
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.DISPATCHED


@pytest.mark.parametrize(
    "act",
    [
        lambda actor, t: services.ticket_return(actor=actor, ticket=t, reason=""),
        lambda actor, t: services.ticket_reply(actor=actor, ticket=t, reply="好"),
        lambda actor, t: services.ticket_extension_request(actor=actor, ticket=t, reason="忙"),
        lambda actor, t: services.ticket_supervise(actor=actor, ticket=t, note=""),
        lambda actor, t: services.ticket_extension_decide(actor=actor, ticket=t, approve=False, note=""),
        lambda actor, t: services.ticket_callback(actor=actor, ticket=t, satisfaction=9),
    ],
)
def test_the_permission_is_checked_before_the_input_and_the_refusal_is_on_record(routing, people, act):
    """Someone without the right gets a refusal, not a hint about what a valid request would look like."""
    ticket = _take(people)
    before = AuditEntry.objects.filter(action="permission.denied").count()
    with pytest.raises(PermissionDenied):
        act(actor_for(people["other"]), ticket)
    assert AuditEntry.objects.filter(action="permission.denied").count() == before + 1


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"text": "   "}, "text"),
        ({"text": "噪" * 10_001}, "text"),
        ({"district_code": "999999"}, "district"),
        ({"ticket_type": "rumour"}, "ticket_type"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_nothing_is_written(routing, people, extra, field):
    with pytest.raises(ValidationError) as refused:
        _take(people, **extra)
    assert field in refused.value.message_dict
    assert not Ticket.objects.exists()


def test_a_text_of_ten_thousand_characters_is_taken(routing, people):
    assert _take(people, text="噪" * 10_000).status == Ticket.Status.DISPATCHED


def test_a_consultation_answered_at_first_contact_closes_at_once(routing, people):
    ticket = _take(
        people, ticket_type="consult", text="出生医学证明怎么办理？", answer="可在网上申请出生一件事。"
    )
    assert ticket.status == Ticket.Status.ANSWERED and ticket.department is None


def test_urgent_tickets_are_due_the_same_working_day(routing, people):
    ticket = _take(people, urgency="urgent")
    assert ticket.limit_days == 0


def test_the_real_classifier_routes_a_ticket_end_to_end(people):
    """No stand-in: the shipped model (trained from the project's corpus on first use) routes the ticket."""
    ticket = _take(
        people, text="黄浦区南京东路一家健身房突然关门，预付的会员卡余额一千多元不退，老板联系不上"
    )
    assert ticket.suggested_department == "market-regulation"
    assert ticket.suggestion_confidence > 0


def test_the_demo_city_has_tickets_in_each_state_of_the_loop(db):
    from tongban.demo.hotline_history import HISTORY_PREFIX
    from tongban.demo.services import demo_city_seed
    from tongban.hotline.models import FaqEntry, SpikeAlert

    demo_city_seed(people=40, organisations=2)
    live = Ticket.objects.exclude(number__startswith=HISTORY_PREFIX)
    statuses = set(live.values_list("status", flat=True))
    assert {Ticket.Status.IN_HAND, Ticket.Status.ANSWERED, Ticket.Status.DISPATCHING} <= statuses
    noise = live.get(text__contains="工地每天晚上")
    assert noise.department.code == "urban-management-310101"  # handler.um.huangpu's inbox
    assert live.get(duplicate_of=noise).status == Ticket.Status.DISPATCHING  # for the dispatcher to merge
    stalls = live.get(text__contains="夜市占道经营")
    assert stalls.extension == Ticket.Extension.REQUESTED and stalls.supervised_at is not None
    assert live.get(ticket_type="consult").faq is not None
    assert FaqEntry.objects.count() >= 10
    assert Ticket.objects.filter(number__startswith=HISTORY_PREFIX).count() > 1000
    assert SpikeAlert.objects.filter(topic="water-supply", district__code="310115").exists()


def test_tickets_get_a_yellow_warning_on_the_last_day_and_a_red_card_after_it_once(routing, people):
    from tongban.core import calendar

    ticket = _take(people)  # a complaint: 5 working days
    due = ticket.due_date
    before = calendar.add_working_days(calendar.as_local_date(ticket.created_at), 1)
    assert _ticket_cards(before) == {"yellow": 0, "red": 0}
    assert _ticket_cards(due) == {"yellow": 1, "red": 0}
    assert _ticket_cards(due) == {"yellow": 0, "red": 0}
    late = due + dt.timedelta(days=1)
    assert _ticket_cards(late) == {"yellow": 0, "red": 1}
    ticket.refresh_from_db()
    assert ticket.warning == "red"
    assert AuditEntry.objects.filter(ticket_id=str(ticket.pk), action="ticket.warning_red").count() == 1


def _ticket_cards(today):
    """The cards supervision's deadline job (one policy for cases, tasks and tickets) raised on tickets."""
    from tongban.supervision.services import deadlines_check

    counts = deadlines_check(today=today)
    return {"yellow": counts["tickets_yellow"], "red": counts["tickets_red"]}
