"""A bundle offer accepted in part ("not now"): in the demo city, 陈静's newborn offer is confirmed without the
social-security card; the case takes the other three items only (their steps, materials and results), the offer
remembers the card for later with a way to apply, and the rule's counts tell the service designers."""

import datetime
import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tongban.cases import services as case_services
from tongban.cases.models import Case
from tongban.conftest import demo_city_fixture
from tongban.core.audit import SYSTEM
from tongban.core.events import event_deliver
from tongban.core.models import AuditEntry
from tongban.demo.catalog import (
    BIRTH_HOUSEHOLD_REGISTRATION,
    BIRTH_MEDICAL_CERTIFICATE,
    RESIDENT_MEDICAL_INSURANCE,
    SOCIAL_SECURITY_CARD,
)
from tongban.exchange.registry_services import birth_record_create
from tongban.identity.models import Person, User
from tongban.identity.selectors import actor_for
from tongban.proactive.models import Offer
from tongban.proactive.selectors import rule_list_with_counts
from tongban.proactive.services import offer_accept
from tongban.workflow.models import Task

demo_city = demo_city_fixture(people=10, organisations=1)


@pytest.fixture(autouse=True)
def proactive_reads_granted():
    """The demo seed signs the data hub's grants itself (this module's city is the demo's, not the test city)."""


@pytest.fixture
def offer(demo_city, db):
    """The newborn bundle offered to 陈静 after the hospital registered her baby's birth."""
    mother = Person.objects.get(user__username="chen.jing")
    father = Person.objects.get(user__username="li.ming")
    # The demo's own newborn cases of the couple would tell the rule they applied already (no offer then).
    Case.objects.filter(bundle__code="newborn", applicant_person__in=[mother, father]).update(
        status=Case.Status.WITHDRAWN
    )
    record = birth_record_create(
        actor=SYSTEM,
        baby_name="李安安",
        baby_sex="F",
        birth_date=datetime.date.today() - datetime.timedelta(days=3),
        weight_g=3200,
        hospital="上海市第一妇婴保健院",
        mother=mother,
        father=father,
    )
    event_deliver()
    return Offer.objects.get(
        person=mother,
        rule__code="newborn-bundle",
        life_event__key=f"birth:{record.pk}",
        status=Offer.Status.OFFERED,
    )


def _mother():
    return User.objects.get(username="chen.jing")


def _still_needed(offer) -> dict:
    """Answers to the fields the offer's page still asks (what no register holds), from the demo's samples."""
    from tongban.catalog.selectors import bundle_get
    from tongban.demo.sample import sample_form_data
    from tongban.proactive.views import _form_rows

    sample = sample_form_data(bundle_get("newborn").form_schema, person=offer.person)
    answers = {row["name"]: sample[row["name"]] for row in _form_rows(offer)[1]}
    return {**answers, "household_with": "mother", "mailing_address": "上海市黄浦区福州路1号"}


def test_the_offer_page_lets_the_mother_leave_an_item_for_later_and_the_case_takes_the_rest(offer, client):
    client.force_login(_mother())
    client.cookies["django_language"] = "en"
    page = client.get(offer.get_absolute_url()).content.decode()
    assert 'name="items_shown"' in page
    for code in (BIRTH_MEDICAL_CERTIFICATE, BIRTH_HOUSEHOLD_REGISTRATION, SOCIAL_SECURITY_CARD):
        assert f'name="item" value="{code}" id="item-{code}" checked' in page
    assert "Apply for the social security card" in page or "social security card" in page.lower()
    # What was filled in reads in words, and a choice still needed is a list of its choices (the walk showed
    # "male", "True" and a text box for the household)
    assert ">female<" in page.lower() and ">F<" not in page and ">True<" not in page
    assert re.search(r'<select[^>]*name="household_with"', page)

    missing = _still_needed(offer)
    chosen = [BIRTH_MEDICAL_CERTIFICATE, BIRTH_HOUSEHOLD_REGISTRATION, RESIDENT_MEDICAL_INSURANCE]
    response = client.post(
        reverse("proactive:offer-accept", args=[offer.pk]), {"items_shown": "1", "item": chosen, **missing}
    )
    assert response.status_code == 302, re.findall(
        r"(?:alert-danger|invalid-feedback)[^>]*>(.*?)</div>", response.content.decode(), re.S
    )

    offer.refresh_from_db()
    case = Case.objects.get(pk=offer.case_id)
    assert offer.status == Offer.Status.ACCEPTED and offer.items_later == [SOCIAL_SECURITY_CARD]
    assert case.items_skipped == [SOCIAL_SECURITY_CARD]
    # The card's materials are not asked, and its step never reaches the HRSS inbox, now or later.
    assert not case.materials.filter(item_code=SOCIAL_SECURITY_CARD).exists()
    for step, username in (
        ("birth_certificate", "handler.health"),
        ("household_registration", "handler.ps.huangpu"),
    ):
        task = Task.objects.get(case_id=case.pk, bpmn_id=step, state__in=Task.OPEN_STATES)
        case_services.case_task_complete(
            actor=actor_for(User.objects.get(username=username)), task_id=task.pk, decision="approve"
        )
    steps = set(Task.objects.filter(case_id=case.pk).values_list("bpmn_id", flat=True))
    assert "social_security_card" not in steps and "medical_insurance" in steps
    task = Task.objects.get(case_id=case.pk, bpmn_id="medical_insurance", state__in=Task.OPEN_STATES)
    case_services.case_task_complete(
        actor=actor_for(User.objects.get(username="handler.mi")), task_id=task.pk, decision="approve"
    )
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    assert SOCIAL_SECURITY_CARD not in {result["item"] for result in case.result}
    assert len(case.result) == 3
    # The case's page names what was left for later, in the reader's language, with a way to apply.
    detail = client.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert 'data-testid="items-skipped"' in detail and "Applying for a social security card" in detail

    # The offer's page keeps the card, with a way to apply for it now.
    page = client.get(offer.get_absolute_url()).content.decode()
    assert 'data-testid="items-later"' in page
    assert reverse("cases:apply_item", args=[SOCIAL_SECURITY_CARD]) in page
    listing = client.get(reverse("proactive:list")).content.decode()
    assert "1 service left for later" in listing
    # The other side learns it: the audit entry and the rule's counts name the item left for later.
    entry = AuditEntry.objects.get(action="proactive.offer.accepted", subject_id=str(offer.pk))
    details = json.loads(entry.details) if isinstance(entry.details, str) else entry.details
    assert details["items_later"] == [SOCIAL_SECURITY_CARD]
    rule = next(r for r in rule_list_with_counts() if r.code == "newborn-bundle")
    assert rule.accepted_in_part == 1
    assert [(i["code"], i["count"]) for i in rule.items_later] == [(SOCIAL_SECURITY_CARD, 1)]


def test_an_offer_accepted_whole_leaves_nothing_for_later(offer):
    accepted = offer_accept(actor=actor_for(_mother()), offer=offer, form_data=_still_needed(offer))
    case = Case.objects.get(pk=accepted.case_id)
    assert accepted.items_later == [] and case.items_skipped == []
    assert Task.objects.filter(case_id=case.pk, bpmn_id="birth_certificate").exists()


def test_leaving_every_item_or_an_unknown_one_is_refused(offer):
    everything = [
        BIRTH_MEDICAL_CERTIFICATE,
        BIRTH_HOUSEHOLD_REGISTRATION,
        RESIDENT_MEDICAL_INSURANCE,
        SOCIAL_SECURITY_CARD,
    ]
    for skip in (everything, ["no-such-item"]):
        with pytest.raises(ValidationError) as refused:
            offer_accept(
                actor=actor_for(_mother()),
                offer=offer,
                form_data=_still_needed(offer),
                skip_items=skip,
            )
        assert "skip_items" in refused.value.message_dict
    offer.refresh_from_db()
    assert offer.status == Offer.Status.OFFERED and offer.case_id is None


def test_an_item_the_process_handles_with_the_others_is_not_offered_for_later(offer, client, monkeypatch):
    """Only items whose steps the bundle's process names can be left for later; the page shows the others ticked
    and fixed, and a refusal names the item in words (the walk showed "skip_items: social-security-card")."""
    real = case_services.items_skippable
    monkeypatch.setattr(
        case_services, "items_skippable", lambda service: real(service) - {SOCIAL_SECURITY_CARD}
    )
    client.force_login(_mother())
    page = client.get(offer.get_absolute_url()).content.decode()
    assert f'<input type="hidden" name="item" value="{SOCIAL_SECURITY_CARD}">' in page
    assert re.search(rf'id="item-{SOCIAL_SECURITY_CARD}" checked disabled', page)
    with pytest.raises(ValidationError) as refused:
        offer_accept(
            actor=actor_for(_mother()),
            offer=offer,
            form_data=_still_needed(offer),
            skip_items=[SOCIAL_SECURITY_CARD],
        )
    message = " ".join(refused.value.message_dict["skip_items"])
    assert SOCIAL_SECURITY_CARD not in message and "社会保障卡" in message
