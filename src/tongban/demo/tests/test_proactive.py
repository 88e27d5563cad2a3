"""The demo rules load against the demo catalogue and templates, idempotently, and catch up the demo journeys."""

import datetime

import pytest

from tongban.core.audit import SYSTEM
from tongban.demo.catalog import catalog_demo_ensure
from tongban.demo.proactive import DEMO_RULES, proactive_demo_journeys_ensure, proactive_rules_demo_ensure
from tongban.identity import services as identity
from tongban.proactive.models import Offer, ProactiveRule
from tongban.proactive.tests.fixtures import person

pytestmark = pytest.mark.django_db


def test_the_demo_rules_are_created_once_with_their_services(city, messaging_templates):
    catalog_demo_ensure(actor=SYSTEM)
    assert proactive_rules_demo_ensure() == len(DEMO_RULES)
    assert proactive_rules_demo_ensure() == 0
    actions = dict(ProactiveRule.objects.values_list("code", "action"))
    assert actions["newborn-bundle"] == "offer"
    assert actions["kindergarten-at-3"] == "offer"
    assert actions["primary-school-at-6"] == "offer"
    assert actions["elderly-allowance"] == "grant"


def test_the_elderly_journey_is_caught_up_once(city, messaging_templates):
    catalog_demo_ensure(actor=SYSTEM)
    proactive_rules_demo_ensure()
    user = identity.user_create(
        actor=SYSTEM, username="wang.xiuying", password="x-pass-2026", check_password=False
    )
    elder = person("王秀英", datetime.date(1955, 3, 8), district="310106", user=user)

    assert proactive_demo_journeys_ensure() == 1
    assert proactive_demo_journeys_ensure() == 0
    grant = Offer.objects.get()
    assert (grant.person, grant.status, grant.life_event.occurred_on) == (
        elder,
        "granted",
        datetime.date(2020, 3, 8),
    )
