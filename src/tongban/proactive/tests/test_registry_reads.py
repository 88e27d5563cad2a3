"""Proactive services read the registries only through the data hub: a grant, a purpose, a "who used my data" line."""

import datetime

import pytest

from tongban.core.audit import SYSTEM
from tongban.core.events import event_deliver
from tongban.core.models import AuditEntry
from tongban.exchange.models import DataUse, SharingGrant
from tongban.exchange.registry_services import birth_record_create, household_member_register
from tongban.identity.models import AdminUnit, Household, Person
from tongban.proactive.models import LifeEvent, Offer, RuleRun
from tongban.proactive.services import PROACTIVE_PURPOSE, milestones_sweep
from tongban.proactive.tests.fixtures import person, rule

pytestmark = pytest.mark.django_db

BIRTH = datetime.date(2026, 1, 10)


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


def _birth(mother, father=None):
    return birth_record_create(
        actor=SYSTEM,
        baby_name="李小明",
        baby_sex="M",
        birth_date=BIRTH,
        weight_g=3300,
        hospital="上海市第一妇婴保健院",
        mother=mother,
        father=father,
    )


def test_a_birth_offer_reads_the_birth_register_through_the_hub_and_the_mother_sees_it(parent, newborn_rule):
    mother = Person.objects.get(user=parent)
    _birth(mother)
    event_deliver()

    offer = Offer.objects.get()
    assert offer.prefilled["baby_name"] == "李小明"  # read from the birth register, under a grant
    use = DataUse.objects.get(person=mother, resource_code="birth-record", purpose=PROACTIVE_PURPOSE)
    assert use.allowed and use.department.code == "big-data-center"
    assert AuditEntry.objects.filter(action="data.lookup", purpose=PROACTIVE_PURPOSE).exists()


def test_without_the_grant_proactive_does_not_read_and_the_refusal_is_audited_not_raised(
    parent, newborn_rule, caplog
):
    SharingGrant.objects.filter(department__code="big-data-center").delete()
    mother = Person.objects.get(user=parent)
    _birth(mother)

    event_deliver()  # the worker goes on

    event = LifeEvent.objects.get(person=mother)
    assert "baby_name" not in event.data  # nothing read from the register
    assert AuditEntry.objects.filter(action="data.lookup_refused", purpose=PROACTIVE_PURPOSE).exists()
    assert not DataUse.objects.filter(person=mother, allowed=True, purpose=PROACTIVE_PURPOSE).exists()
    assert "proactive read of birth-record refused" in caplog.text


def _household_child():
    district = AdminUnit.objects.get(code="310101")
    household = Household.objects.create(
        number="310101000000777", district=district, address="黄浦区测试路1号"
    )
    head = person("王父", datetime.date(1990, 5, 12), sex="M")
    spouse = person("王母", datetime.date(1992, 9, 3))
    child = person("王小宝", datetime.date(2026, 1, 8), sex="M")
    for member, relation in ((head, "head"), (spouse, "spouse"), (child, "child")):
        household_member_register(actor=SYSTEM, household=household, person=member, relation=relation)
    return head, spouse, child


def test_a_child_without_a_birth_record_is_addressed_to_the_household_adults_read_through_the_hub(
    city, messaging_templates
):
    rule("vaccination", trigger="child_2_months", topic="vaccination", template="vaccination-reminder")
    head, spouse, child = _household_child()

    milestones_sweep(today=datetime.date(2026, 3, 8))

    assert set(Offer.objects.values_list("person", flat=True)) == {head.pk, spouse.pk}
    assert DataUse.objects.filter(
        person=child, resource_code="household-members", purpose=PROACTIVE_PURPOSE, allowed=True
    ).exists()


def test_a_refused_household_read_leaves_the_rule_with_nobody_and_says_why(city, messaging_templates):
    SharingGrant.objects.filter(department__code="big-data-center").delete()
    vaccination = rule(
        "vaccination", trigger="child_2_months", topic="vaccination", template="vaccination-reminder"
    )
    _household_child()

    milestones_sweep(today=datetime.date(2026, 3, 8))

    assert not Offer.objects.exists()
    run = RuleRun.objects.get(rule=vaccination)
    assert run.outcome == RuleRun.Outcome.NO_RECIPIENT
    assert "household-members" in run.error


def test_the_demo_business_journey_reads_the_business_register_through_the_hub(city, messaging_templates):
    from tongban.core.ids import make_credit_code
    from tongban.demo.proactive import proactive_demo_journeys_ensure
    from tongban.identity import services as identity
    from tongban.identity.models import Organisation

    rule(
        "enterprise-tax",
        trigger="business_registered",
        topic="enterprise",
        template="enterprise-tax-registration",
    )
    agent = identity.user_create(
        actor=SYSTEM, username="zhang.wei", password="x-pass-2026", check_password=False
    )
    organisation = Organisation.objects.create(
        credit_code=make_credit_code("310115", "MA1FL2X3"), name="示范科技有限公司"
    )
    organisation.agents.add(agent)
    from tongban.exchange.registry_services import business_register

    business_register(
        actor=SYSTEM,
        organisation=organisation,
        business_scope="软件开发",
        registered_on=datetime.date(2026, 1, 5),
    )

    assert proactive_demo_journeys_ensure() == 1
    event = LifeEvent.objects.get(organisation=organisation)
    assert event.occurred_on == datetime.date(2026, 1, 5)
    lookups = AuditEntry.objects.filter(action="data.lookup", purpose=PROACTIVE_PURPOSE)
    assert any("business-registration" in str(entry.details) for entry in lookups)
