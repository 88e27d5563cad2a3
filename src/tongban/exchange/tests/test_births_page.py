"""Health staff record a birth; within the worker's next round the mother's inbox holds the newborn-bundle offer."""

import pytest
from django.urls import reverse

from tongban.core.events import event_deliver
from tongban.exchange.models import BirthRecord
from tongban.identity.models import Person, User
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.messaging.models import Message
from tongban.proactive.models import Offer


@pytest.fixture
def demo(db, demo_city_seeder):
    demo_city_seeder(people=60, organisations=4)


def _form(mother, father, **extra):
    return {
        "baby_name": "李小满",
        "baby_sex": "F",
        "birth_date": "2026-11-20",
        "weight_g": "3300",
        "hospital": "上海市第一妇婴保健院",
        "mother_resident_id": mother.resident_id,
        "father_resident_id": father.resident_id if father else "",
        **extra,
    }


def _a_mother():
    """A woman of the demo city, in a household, who has not applied for the newborn bundle."""
    import datetime as dt

    from tongban.exchange.models import HouseholdMembership

    return (
        Person.objects.filter(
            sex="F",
            birth_date__range=(dt.date(1986, 1, 1), dt.date(2002, 1, 1)),
            pk__in=HouseholdMembership.objects.values("person_id"),
        )
        .exclude(user__username="chen.jing")
        .order_by("resident_id")
        .first()
    )


def test_health_staff_record_a_birth_and_the_mother_is_offered_the_newborn_bundle(client, demo):
    mother = _a_mother()
    login_with_second_factor(client, User.objects.get(username="handler.health"))
    response = client.post(reverse("exchange:birth-new"), _form(mother, None), follow=True)
    assert response.redirect_chain[-1][1] == 302
    assert BirthRecord.objects.filter(mother=mother, baby_name="李小满").exists()
    # The page does not claim an offer the rules have not made yet (they run after the record, and may skip it).
    page = response.content.decode()
    assert "主动服务规则将判断是否" in page and "已向家庭主动推送" not in page
    event_deliver()  # what the worker does within a second
    offer = Offer.objects.get(person=mother, rule__code__contains="newborn")
    assert offer.prefilled.get("baby_name") == "李小满"
    assert Message.objects.filter(person=mother, topic="newborn").exists()
    event_deliver()  # a replay delivers nothing new and offers nothing twice
    assert Offer.objects.filter(person=mother, rule__code__contains="newborn").count() == 1


def test_staff_of_another_department_cannot_record_a_birth(client, demo):
    login_with_second_factor(client, User.objects.get(username="handler.hrss"))
    assert client.get(reverse("exchange:birth-new")).status_code == 403


def test_an_unknown_mother_is_a_field_error_and_nothing_is_recorded(client, demo):
    login_with_second_factor(client, User.objects.get(username="handler.health"))
    father = Person.objects.get(user__username="li.ming")
    response = client.post(
        reverse("exchange:birth-new"), _form(father, father, mother_resident_id="110101199001011237")
    )
    assert response.status_code == 200
    assert not BirthRecord.objects.filter(baby_name="李小满").exists()
