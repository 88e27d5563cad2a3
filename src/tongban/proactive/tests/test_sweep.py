"""The daily milestone sweep: exact birthdays (Civil Code month ends, 29 February), idempotent."""

import datetime

import pytest

from tongban.messaging.models import Message
from tongban.proactive.milestones import age_on, birth_dates_reaching
from tongban.proactive.models import LifeEvent, Offer
from tongban.proactive.services import milestones_sweep
from tongban.proactive.tests.fixtures import person, rule

D = datetime.date


@pytest.mark.parametrize(
    ("today", "months", "expected"),
    [
        (D(2026, 3, 8), 65 * 12, [D(1961, 3, 8)]),
        # 29 February: 65 on 28 February in a common year, on the day in a leap year.
        (D(2025, 2, 28), 65 * 12, [D(1960, 2, 28), D(1960, 2, 29)]),
        (D(2024, 2, 28), 64 * 12, [D(1960, 2, 28)]),
        (D(2024, 2, 29), 64 * 12, [D(1960, 2, 29)]),
        (D(2024, 2, 29), 65 * 12, []),  # 1959 had no 29 February; 28 February was yesterday
        # 2 months: born 29-31 December, 2 months old on the last day of February.
        (D(2026, 2, 28), 2, [D(2025, 12, 28), D(2025, 12, 29), D(2025, 12, 30), D(2025, 12, 31)]),
        (D(2026, 4, 30), 2, []),  # 28 February 2026 was 2 months old on 28 April; no 29-30 February
        (D(2026, 3, 30), 1, []),
        (D(2026, 3, 31), 36, [D(2023, 3, 31)]),
    ],
)
def test_birth_dates_reaching_a_milestone(today, months, expected):
    assert birth_dates_reaching(today, months) == expected


def test_age_on_counts_full_months_with_month_ends():
    assert age_on(D(1960, 2, 29), D(2025, 2, 28)) == (65, 780)
    assert age_on(D(1960, 2, 29), D(2025, 2, 27)) == (64, 779)
    assert age_on(D(2025, 12, 31), D(2026, 2, 28)) == (0, 2)


@pytest.mark.django_db
def test_the_sweep_finds_exact_milestones_and_is_idempotent(city, messaging_templates):
    rule("elderly", trigger="age_65")
    rule("vaccination", trigger="child_2_months", topic="vaccination", template="vaccination-reminder")
    leap = person("闰日", D(1960, 2, 29))
    exact = person("正好", D(1960, 2, 28))
    person("明天", D(1960, 3, 1))
    person("六十四", D(1961, 2, 28))
    baby = person("婴儿", D(2024, 12, 31))
    sixteen = person("十六", D(2009, 2, 28))

    first = milestones_sweep(today=D(2025, 2, 28), batch_size=2)

    assert sorted(LifeEvent.objects.values_list("person__name", "kind")) == sorted(
        [("闰日", "age_65"), ("正好", "age_65"), ("婴儿", "child_2_months"), ("十六", "age_16")]
    )
    assert set(Offer.objects.values_list("person__name", flat=True)) == {"闰日", "正好"}
    assert first["life_events"] == 4
    assert first["offers"] == 2
    # The baby has no parents on record: nobody to address, nothing sent.
    assert not Message.objects.filter(topic="vaccination").exists()

    second = milestones_sweep(today=D(2025, 2, 28))
    assert (second["life_events"], second["offers"]) == (0, 0)
    assert LifeEvent.objects.count() == 4
    assert Offer.objects.count() == 2
    assert Message.objects.filter(topic="elderly").count() == 2
    assert {leap, exact, baby, sixteen} == {e.person for e in LifeEvent.objects.all()}


@pytest.mark.django_db
def test_child_milestones_are_addressed_to_the_parents(parent, messaging_templates):
    from tongban.core.audit import SYSTEM
    from tongban.exchange.registry_services import birth_record_create
    from tongban.identity.models import Person

    rule("vaccination", trigger="child_2_months", topic="vaccination", template="vaccination-reminder")
    mother = Person.objects.get(user=parent)
    child = person("李小明", D(2026, 1, 8), sex="M")
    record = birth_record_create(
        actor=SYSTEM,
        baby_name="李小明",
        baby_sex="M",
        birth_date=child.birth_date,
        weight_g=3300,
        hospital="上海市第一妇婴保健院",
        mother=mother,
    )
    type(record).objects.filter(pk=record.pk).update(baby=child)

    milestones_sweep(today=D(2026, 3, 8))

    offer = Offer.objects.get()
    assert (offer.person, offer.status, offer.life_event.person) == (mother, "notified", child)
    message = Message.objects.get(pk=offer.message_id)
    assert "李小明" in message.body


@pytest.mark.django_db
def test_expiring_licences_are_found_once(city, messaging_templates):
    from tongban.proactive.selectors import rule_dry_run  # noqa: F401  (import check)

    rule("licence-expiry", trigger="licence_expiring", topic="licence-expiry", template="licence-expiry")
    figures = milestones_sweep(today=D(2026, 3, 8))
    assert figures["licences_expiring"] == 0


def test_the_daily_sweep_is_scheduled_at_six_in_shanghai(monkeypatch):
    from huey.contrib.djhuey import HUEY

    from tongban.proactive.tasks import at_six_local

    monkeypatch.setattr(HUEY, "utc", True)
    assert at_six_local(datetime.datetime(2026, 3, 7, 22, 0))  # 22:00 UTC = 06:00 Asia/Shanghai
    assert not at_six_local(datetime.datetime(2026, 3, 8, 6, 0))
    monkeypatch.setattr(HUEY, "utc", False)
    assert at_six_local(datetime.datetime(2026, 3, 8, 6, 0))
