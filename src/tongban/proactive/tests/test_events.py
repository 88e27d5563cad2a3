"""Registry events become life events and offers: once, whatever retries and replays happen."""

import datetime

import pytest

from tongban.core.audit import SYSTEM
from tongban.core.events import event_deliver
from tongban.core.models import EventDelivery, OutboxEvent
from tongban.exchange.registry_services import birth_record_create, business_register
from tongban.identity.models import Organisation, Person
from tongban.identity.selectors import actor_for
from tongban.messaging.models import Message
from tongban.proactive import events as proactive_events
from tongban.proactive.models import LifeEvent, Offer
from tongban.proactive.tests.fixtures import person, rule

pytestmark = pytest.mark.django_db

BIRTH = datetime.date(2026, 1, 10)


@pytest.fixture
def couple(parent):
    mother = Person.objects.get(user=parent)
    father = person("李明", datetime.date(1990, 5, 12), sex="M")
    return mother, father


@pytest.fixture
def newborn_rule(newborn, messaging_templates):
    return rule(
        "newborn-bundle",
        trigger="birth_registered",
        condition='sex == "F"',
        action="offer",
        topic="newborn",
        template="newborn-offer",
        service="newborn",
    )


def register_birth(mother, father, **extra):
    return birth_record_create(
        actor=SYSTEM,
        baby_name="李小明",
        baby_sex="M",
        birth_date=BIRTH,
        weight_g=3300,
        hospital="上海市第一妇婴保健院",
        mother=mother,
        father=father,
        **extra,
    )


def test_a_registered_birth_offers_the_prefilled_newborn_bundle_to_the_mother(couple, newborn_rule):
    mother, father = couple
    record = register_birth(mother, father)
    event_deliver()

    assert sorted(LifeEvent.objects.values_list("person__name", "kind", "key")) == [
        ("李明", "birth_registered", f"birth:{record.pk}"),
        ("陈静", "birth_registered", f"birth:{record.pk}"),
    ]
    offer = Offer.objects.get()
    assert (offer.person, offer.status, offer.service) == (mother, "offered", "newborn")
    assert offer.prefilled["baby_name"] == "李小明"
    assert offer.prefilled["birth_date"] == "2026-01-10"
    assert offer.prefilled["hospital"] == "上海市第一妇婴保健院"
    message = Message.objects.get(pk=offer.message_id)
    assert message.person == mother
    assert message.topic == "newborn"
    assert f"/offers/{offer.pk}/" in message.body
    assert "李小明" in message.body


def test_replaying_the_birth_event_creates_no_second_offer_or_message(couple, newborn_rule):
    mother, father = couple
    register_birth(mother, father)
    event_deliver()
    event = OutboxEvent.objects.get(name="person.born")

    proactive_events.on_person_born(event)  # a redelivery
    delivery = EventDelivery.objects.get(event=event, subscriber="proactive.birth")
    EventDelivery.objects.filter(pk=delivery.pk).update(status=EventDelivery.Status.DEAD)
    from tongban.core.events import event_replay

    assert event_replay(actor=SYSTEM, delivery_ids=[delivery.pk]) == 1
    event_deliver()

    assert LifeEvent.objects.count() == 2
    assert Offer.objects.count() == 1
    assert Message.objects.filter(person=mother, topic="newborn").count() == 1


def test_a_second_child_gets_its_own_offer(couple, newborn_rule):
    mother, father = couple
    register_birth(mother, father)
    register_birth(mother, father)
    event_deliver()
    assert Offer.objects.filter(person=mother).count() == 2


def test_an_opted_out_mother_gets_no_offer_and_the_skip_is_logged(couple, newborn_rule):
    from tongban.messaging.services import preference_set
    from tongban.proactive.models import RuleRun

    mother, father = couple
    preference_set(actor=actor_for(mother.user), topic="newborn", channel="inbox", enabled=False)
    register_birth(mother, father)
    event_deliver()

    assert not Offer.objects.exists()
    assert not Message.objects.filter(person=mother, topic="newborn").exists()
    run = RuleRun.objects.get()
    assert (run.person, run.outcome) == (mother, "opted_out")


def test_a_registered_business_notifies_the_enterprise_once(city, messaging_templates):
    from tongban.core.ids import make_credit_code

    rule(
        "enterprise-tax",
        trigger="business_registered",
        topic="enterprise",
        template="enterprise-tax-registration",
    )
    organisation = Organisation.objects.create(
        credit_code=make_credit_code("310115", "MA1FL2X3"), name="示范科技有限公司"
    )
    business_register(actor=SYSTEM, organisation=organisation, business_scope="软件开发")
    event_deliver()
    event_deliver()

    offer = Offer.objects.get()
    assert (offer.organisation, offer.status) == (organisation, "notified")
    assert Message.objects.filter(organisation=organisation, topic="enterprise").count() == 1


def test_a_mother_who_applied_for_the_bundle_is_not_offered_it_again(couple, newborn_rule, handlers):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tongban.cases.services import case_submit
    from tongban.catalog.selectors import bundle_get
    from tongban.proactive.models import RuleRun
    from tongban.workflow.tests.fixtures import newborn_form

    mother, father = couple
    pdf = SimpleUploadedFile("m.pdf", b"%PDF-1.4\n% test\n", content_type="application/pdf")
    case_submit(
        actor=actor_for(mother.user),
        service=bundle_get("newborn"),
        form_data=newborn_form(),
        files={"parents-marriage-certificate": pdf},
    )
    register_birth(mother, father)  # as the bundle's health step does
    event_deliver()

    assert not Offer.objects.exists()
    assert RuleRun.objects.get().outcome == "already_applied"
