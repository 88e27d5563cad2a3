"""The applicant is told of every move of their case, through their inbox, by the case events' subscribers.

Cases move through the real case services; the outbox events are delivered as the worker would
(``event_deliver``), and the applicant's inbox is read through messaging's selectors.
"""

import datetime as dt

import pytest
from django.urls import reverse

from tongban.cases import services as cases
from tongban.cases.models import Case, SupplementRequest
from tongban.catalog import selectors as catalog_selectors
from tongban.catalog import services as catalog
from tongban.core import calendar
from tongban.core.audit import SYSTEM
from tongban.core.events import event_deliver
from tongban.core.models import EventDelivery, OutboxEvent
from tongban.identity import services as identity
from tongban.identity.selectors import actor_for, department_get, person_for
from tongban.licences.models import Licence
from tongban.messaging import selectors, services
from tongban.messaging.models import Delivery, Message, MessageTemplate
from tongban.supervision.services import deadlines_check
from tongban.workflow.models import Task
from tongban.workflow.tests.fixtures import MOTHER_ID, newborn_files, newborn_form, pdf_upload

pytestmark = pytest.mark.django_db


def _open(case, step):
    return Task.objects.get(case_id=case.pk, bpmn_id=step, state__in=Task.OPEN_STATES)


def _approve(case, step, user):
    return cases.case_task_complete(actor=actor_for(user), task_id=_open(case, step).pk, decision="approve")


def _submit(parent):
    from tongban.catalog.models import Bundle

    bundle = Bundle.objects.get(code="newborn")
    return cases.case_submit(
        actor=actor_for(parent), service=bundle, form_data=newborn_form(), files=newborn_files()
    )


def _inbox(user):
    """The user's inbox, oldest first, as (template, message)."""
    return [(m.template_code, m) for m in reversed(list(selectors.message_list_for_user(user)))]


def _codes(user):
    return [code for code, _m in _inbox(user)]


def _last(user, code):
    return [m for c, m in _inbox(user) if c == code][-1]


def test_the_applicant_is_told_each_step_of_a_newborn_case_in_order_with_links(
    parent, newborn, handlers, licence_types
):
    case = _submit(parent)
    event_deliver()
    case.refresh_from_db()
    assert _codes(parent) == ["case-accepted"]  # accepted at once: no separate "received, waiting" message
    accepted = _last(parent, "case-accepted")
    assert accepted.link == reverse("cases:detail", args=[case.number]) == f"/cases/{case.number}/"
    assert case.due_date.isoformat() in accepted.body and case.due_date.isoformat() in accepted.body_en
    assert case.number in accepted.body and "出生一件事" in accepted.subject

    _approve(case, "birth_certificate", handlers["health"])
    cases.case_supplement_request(
        actor=actor_for(handlers["public-security"]),
        task_id=_open(case, "household_registration").pk,
        materials=[{"code": "parents-marriage-certificate", "reason": "照片不清晰"}],
        fields=[{"field": "baby_name", "reason": "与出生医学证明不一致"}],
    )
    event_deliver()
    supplement = _last(parent, "case-supplement-deadline")
    assert supplement.link == f"/cases/{case.number}/supplement/"
    due = SupplementRequest.objects.get(case=case).due_on.isoformat()  # the day the supplement page asks for
    assert f"请于{due}前补正" in supplement.body and f"Please answer by {due}" in supplement.body_en
    assert "父母结婚证：照片不清晰" in supplement.body  # the complete list, each with its reason
    assert "新生儿姓名：与出生医学证明不一致" in supplement.body
    assert "needs the following" in supplement.body_en

    cases.case_resubmit(
        actor=actor_for(parent),
        case=case,
        form_data={"baby_name": "李晓明"},
        files={"parents-marriage-certificate": pdf_upload("better.pdf")},
    )
    event_deliver()
    case.refresh_from_db()
    resubmitted = _last(parent, "case-resubmitted")
    assert case.due_date.isoformat() in resubmitted.body

    _approve(case, "household_registration", handlers["public-security"])
    _approve(case, "social_security_card", handlers["hrss"])
    _approve(case, "medical_insurance", handlers["medical-insurance"])
    event_deliver()
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    licence = Licence.objects.get(case_id=case.pk)
    assert _codes(parent) == [
        "case-accepted",
        "case-supplement-deadline",
        "case-resubmitted",
        "case-licence-issued",
        "case-completed",
        "case-rating",
    ]
    licence_message = _last(parent, "case-licence-issued")
    assert licence_message.link == reverse("licences:detail", args=[licence.number])
    assert licence.number in licence_message.body and licence.type.name_zh in licence_message.subject
    completed = _last(parent, "case-completed")
    assert completed.link == f"/cases/{case.number}/"
    for result in case.result:
        assert result["name"] in completed.body and result["number"] in completed.body
    rating = _last(parent, "case-rating")
    assert rating.link == reverse("evaluation:rate", args=[case.number])
    assert all(m.topic == "case" and m.in_inbox for _c, m in _inbox(parent))


def test_every_link_of_the_case_messages_opens_a_page_for_the_applicant(
    client, parent, newborn, handlers, licence_types
):
    case = _submit(parent)
    for step, user in (
        ("birth_certificate", "health"),
        ("household_registration", "public-security"),
        ("social_security_card", "hrss"),
        ("medical_insurance", "medical-insurance"),
    ):
        _approve(case, step, handlers[user])
    event_deliver()
    client.force_login(parent)
    links = {code: m.link for code, m in _inbox(parent)}
    assert set(links) == {"case-accepted", "case-licence-issued", "case-completed", "case-rating"}
    for code, link in links.items():
        assert client.get(link).status_code == 200, (code, link)
    # Opening a message shows its text and its link.
    message = _last(parent, "case-completed")
    page = client.get(message.get_absolute_url()).content.decode()
    assert f'href="{message.link}"' in page and case.number in page


def test_a_refusal_after_examination_gives_the_reason_and_legal_basis(parent, newborn, handlers):
    case = _submit(parent)
    cases.case_task_complete(
        actor=actor_for(handlers["health"]),
        task_id=_open(case, "birth_certificate").pk,
        decision=Task.Decision.REJECT,
        opinion="出生医学证明信息与医院记录不符",
        basis="《母婴保健法》第二十三条",
    )
    event_deliver()
    refused = _last(parent, "case-refused")
    assert "出生医学证明信息与医院记录不符" in refused.body and "《母婴保健法》第二十三条" in refused.body
    assert "Legal basis: 《母婴保健法》第二十三条" in refused.body_en
    assert refused.link == f"/cases/{case.number}/"
    assert "case-rating" not in _codes(parent) and "case-completed" not in _codes(parent)


@pytest.fixture
def manual_item(newborn):
    item = catalog_selectors.item_get("310100-health-birth-cert")
    return catalog.item_update(actor=SYSTEM, item=item, acceptance="manual")


@pytest.fixture
def clerk(city):
    user = identity.user_create(
        actor=SYSTEM, username="w.clerk", password="x-pass-2026", check_password=False
    )
    identity.staff_create(
        actor=SYSTEM, user=user, department=department_get("big-data-center"), roles=["window_clerk"]
    )
    return user


def test_a_case_waiting_for_acceptance_is_acknowledged_then_refused_with_reason_and_basis(
    parent, manual_item, clerk
):
    case = cases.case_submit(actor=actor_for(parent), service=manual_item, form_data=newborn_form(), files={})
    event_deliver()
    assert _codes(parent) == ["case-received"]
    cases.case_refuse_acceptance(
        actor=actor_for(clerk), case=case, reason="不属于本市管辖", basis="《行政许可法》第三十二条"
    )
    event_deliver()
    assert _codes(parent) == ["case-received", "case-refused-acceptance"]
    refused = _last(parent, "case-refused-acceptance")
    assert "不予受理" in refused.body and "不属于本市管辖" in refused.body
    assert "《行政许可法》第三十二条" in refused.body and "is not accepted" in refused.body_en


def test_a_withdrawal_is_confirmed_with_the_reason(parent, newborn, handlers):
    case = _submit(parent)
    cases.case_withdraw(actor=actor_for(parent), case=case, reason="孩子随父亲在外省落户")
    event_deliver()
    assert _codes(parent) == ["case-accepted", "case-withdrawn"]
    withdrawn = _last(parent, "case-withdrawn")
    assert "孩子随父亲在外省落户" in withdrawn.body and "withdrawn" in withdrawn.body_en


def test_a_red_card_on_the_case_brings_an_apology_and_a_new_date(parent, newborn, handlers):
    case = _submit(parent)
    case.refresh_from_db()
    late = case.due_date + dt.timedelta(days=3)
    counts = deadlines_check(today=late)
    assert counts["cases_red"] == 1
    event_deliver()
    apology = _last(parent, "case-overdue")
    assert "非常抱歉" in apology.body and case.due_date.isoformat() in apology.body
    new_date = apology.context["new_date"]
    assert dt.date.fromisoformat(new_date) > late  # a date still ahead, not one already missed
    assert "we are sorry" in apology.body_en and new_date in apology.body_en
    assert apology.link == f"/cases/{case.number}/"


def _waiting_case(parent):
    item = catalog_selectors.item_get("310100-hrss-ss-card")
    catalog.item_update(actor=SYSTEM, item=item, acceptance="manual")
    case = cases.case_submit(actor=actor_for(parent), service=item, form_data={"baby_name": "李小明"})
    case.refresh_from_db()
    return case


def test_a_case_left_waiting_past_its_acceptance_day_is_told_it_is_deemed_accepted(parent, newborn, handlers):
    """Past five working days without acceptance or refusal the case counts as accepted from its receipt
    (视为受理): the applicant gets one message with the apology, the law, the day it counts from and the promised
    date, not an apology for a wait that is already over. The yellow warning stays with the accepting office."""
    case = _waiting_case(parent)
    due = case.acceptance_due_on
    assert deadlines_check(today=due)["acceptances_yellow"] == 1
    event_deliver()
    assert "case-acceptance-late" not in _codes(parent)

    counts = deadlines_check(today=due + dt.timedelta(days=1))
    assert counts["acceptances_red"] == 1 and counts["acceptances_deemed"] == 1
    event_deliver()

    case.refresh_from_db()
    told = _last(parent, "case-deemed-accepted")
    received = calendar.as_local_date(case.submitted_at).isoformat()
    for text in (due.isoformat(), received, case.due_date.isoformat(), case.number):
        assert text in told.body and text in told.body_en
    assert "非常抱歉" in told.body and "第三十二条" in told.body
    assert "we are sorry" in told.body_en and "Article 32" in told.body_en
    assert told.link == f"/cases/{case.number}/"
    codes = _codes(parent)
    assert codes.count("case-deemed-accepted") == 1
    assert "case-acceptance-late" not in codes and "case-accepted" not in codes


def test_a_red_acceptance_card_on_a_case_still_waiting_brings_an_apology(
    parent, newborn, handlers, monkeypatch
):
    """When the case could not be deemed accepted (its process would not start), it is still waiting: the red card
    reaches the applicant as an apology with the day it should have been done by."""
    case = _waiting_case(parent)
    due = case.acceptance_due_on
    monkeypatch.setattr(cases, "case_deem_accepted", lambda **kwargs: None)
    assert deadlines_check(today=due + dt.timedelta(days=1))["acceptances_red"] == 1
    event_deliver()

    apology = _last(parent, "case-acceptance-late")
    assert "非常抱歉" in apology.body and due.isoformat() in apology.body and case.number in apology.body
    assert "we are sorry" in apology.body_en and due.isoformat() in apology.body_en
    assert apology.link == f"/cases/{case.number}/"
    assert _codes(parent).count("case-acceptance-late") == 1


def test_the_same_event_delivered_twice_makes_one_message(parent, newborn, handlers):
    _submit(parent)
    event_deliver()
    event = OutboxEvent.objects.get(name="case.accepted")
    # A replay: the subscriber's delivery runs again (a worker died before recording it, or an operator replayed).
    EventDelivery.objects.filter(event=event, subscriber="messaging.case_accepted").update(
        status=EventDelivery.Status.PENDING, attempts=0, next_attempt_at=event.created_at
    )
    assert event_deliver() == 1
    assert _codes(parent) == ["case-accepted"]
    assert Message.objects.filter(template_code="case-accepted").count() == 1


def test_an_opted_out_channel_gets_nothing_but_the_case_inbox_always_does(
    parent, newborn, handlers, settings
):
    settings.TONGBAN_SMS_QUIET_HOURS = ""
    person = person_for(parent)
    person.phone = "13900001111"
    person.save()
    parent.email = "chen.jing@example.cn"
    parent.save()
    services.preference_set(actor=actor_for(parent), topic="case", channel="sms", enabled=False)
    case = _submit(parent)
    _approve(case, "birth_certificate", handlers["health"])
    cases.case_supplement_request(
        actor=actor_for(handlers["public-security"]),
        task_id=_open(case, "household_registration").pk,
        fields=[{"field": "baby_name", "reason": "与出生医学证明不一致"}],
    )
    event_deliver()
    supplement = _last(parent, "case-supplement-deadline")
    assert supplement.in_inbox  # the case topic's inbox cannot be switched off
    deliveries = {d.channel: d for d in supplement.deliveries.all()}
    assert deliveries["sms"].status == Delivery.Status.SKIPPED and deliveries["sms"].reason == "opted out"
    assert deliveries["email"].status == Delivery.Status.QUEUED
    assert not Delivery.objects.filter(channel="sms").exclude(status=Delivery.Status.SKIPPED).exists()


def test_a_deactivated_template_stops_only_that_message(parent, newborn, handlers):
    from tongban.messaging.case_messages import case_templates_ensure

    case_templates_ensure()
    MessageTemplate.objects.filter(code="case-accepted").update(active=False)
    case = _submit(parent)
    cases.case_withdraw(actor=actor_for(parent), case=case, reason="不再需要")
    event_deliver()
    assert _codes(parent) == ["case-withdrawn"]
    assert not EventDelivery.objects.exclude(status=EventDelivery.Status.DELIVERED).exists()


def test_an_organisation_applicant_is_told_in_the_organisation_inbox_its_agents_read(city, newborn, handlers):
    from tongban.identity.tests.factories import OrganisationFactory

    agent = identity.user_create(
        actor=SYSTEM, username="agent.x", password="x-pass-2026", check_password=False
    )
    identity.person_create(actor=SYSTEM, resident_id=MOTHER_ID, name="陈静", user=agent)
    organisation = OrganisationFactory()
    organisation.agents.add(agent)
    item = catalog.item_update(
        actor=SYSTEM, item=catalog_selectors.item_get("310100-health-birth-cert"), service_object="both"
    )
    case = cases.case_submit(
        actor=actor_for(agent),
        service=item,
        form_data=newborn_form(),
        files={},
        applicant_organisation=organisation,
    )
    event_deliver()
    message = Message.objects.get(template_code="case-accepted")
    assert message.organisation == organisation and message.person is None
    assert list(selectors.message_list_for_user(agent)) == [message]
    assert case.number in message.body
