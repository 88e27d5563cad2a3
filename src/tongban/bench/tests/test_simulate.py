"""``tongban simulate`` drives a small city's days through the services: every path happens, the same seed gives
the same run, and the audit chain holds."""

import datetime as dt
import functools
import json
import random

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from tongban.bench.simulate import (
    PROPERTY_SHARE,
    Simulation,
    _property_weighted,
    day_volume,
    hourly,
    office_time,
    units_for_sale,
    virtual_clock,
)
from tongban.cases.models import Case
from tongban.core import calendar
from tongban.core.audit import audit_verify
from tongban.core.refcache import reference_caches_clear
from tongban.evaluation.models import Rating
from tongban.exchange.models import Mortgage, PropertyOwnership, PropertyUnit
from tongban.exchange.registry_selectors import property_owners
from tongban.hotline.models import Ticket
from tongban.identity.models import Person
from tongban.messaging.models import Message
from tongban.proactive.models import Offer
from tongban.supervision.models import Rectification, Warning

OPTIONS = ["--scale", "test", "--days", "2", "--seed", "7", "--quiet"]
OPTIONS += ["--cases", "16", "--tickets", "12", "--births", "2", "--applicants", "20", "--mothers", "6"]


@functools.cache
def _start() -> dt.date:
    """The next Monday after today (Shanghai) that begins two working days. Not a fixed date: the demo city's
    records are valid from the day it is seeded, so a simulated day before it refuses most applications (an ID
    card "not yet valid"), and the city's own cases, dated today, would fall in the simulated days."""
    day = calendar.today() + dt.timedelta(days=1)
    while not (
        day.weekday() == 0
        and calendar.is_working_day(day)
        and calendar.is_working_day(day + dt.timedelta(days=1))
    ):
        day += dt.timedelta(days=1)
    return day


class RolledBack(Exception):
    pass


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker, demo_city_seeder):
    """A small demo city once for the module (rolled back at its end)."""
    with django_db_blocker.unblock():
        try:
            with transaction.atomic():
                demo_city_seeder(people=60, organisations=1, seed=5)
                yield
                raise RolledBack
        except RolledBack:
            pass


def _simulate(capsys) -> dict:
    capsys.readouterr()
    call_command("simulate", *OPTIONS, "--start", _start().isoformat())
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith(f"Simulated 2 day(s) from {_start().isoformat()} at test scale")
    return json.loads(out[-1])


@pytest.mark.django_db
def test_a_simulated_city_takes_every_path_through_the_services_the_same_way_for_the_same_seed(
    city, capsys, settings, tmp_path
):
    # The first run is rolled back; the checkpoints it signed go to a witness of their own.
    settings.TONGBAN_AUDIT_WITNESS_DIR = str(tmp_path / "witness-of-the-rolled-back-run")
    try:
        with transaction.atomic():
            first = _simulate(capsys)
            raise RolledBack
    except RolledBack:
        pass
    reference_caches_clear()  # what the rolled-back run cached (a department's licence signing key, ...)
    cache.clear()
    settings.TONGBAN_AUDIT_WITNESS_DIR = str(tmp_path / "witness")
    assert not Case.objects.filter(idempotency_key__startswith="sim-").exists()

    figures = _simulate(capsys)
    # The same seed, start and city: the same actions and outcomes.
    assert figures["actions"] == first["actions"]
    assert figures["indicators"] == first["indicators"]

    for key in ("simulated_days", "cases", "tickets", "wall_seconds", "cases_per_s", "transitions_per_s"):
        assert key in figures
    assert figures["peak_rss_mb"] > 0
    assert figures["simulated_days"] == 2
    cases = Case.objects.filter(idempotency_key__startswith="sim-")
    assert figures["cases"] == cases.count() > 0
    # The property services are in the mix: resales of the register's units, none refused.
    assert figures["services_dropped"] == [] and figures["refused_submissions"] == {}
    sales = cases.filter(form_data__has_key="property_unit")
    assert figures["actions"]["cases_property"] == sales.count() > 0
    # Enterprises apply for the items for legal persons, through their agent online or at a window.
    enterprise_cases = cases.filter(applicant_organisation__isnull=False)
    assert figures["actions"]["cases_enterprise"] == enterprise_cases.count() > 0
    assert figures["cast"]["enterprises"] > 0
    assert not enterprise_cases.exclude(item__service_object="organisation").exists()
    # Cases in several end states, through the case services (their timestamps are the virtual clock's).
    statuses = set(cases.values_list("status", flat=True))
    assert {Case.Status.COMPLETED, Case.Status.REJECTED, Case.Status.WITHDRAWN} <= statuses
    assert statuses & set(Case.OPEN_STATUSES)
    assert {d.astimezone(calendar.SHANGHAI).date() for d in cases.values_list("submitted_at", flat=True)} == {
        _start(),
        _start() + dt.timedelta(days=1),
    }
    assert (
        cases.filter(channel=Case.Channel.WINDOW).exists()
        and cases.filter(channel=Case.Channel.ONLINE).exists()
    )
    assert cases.filter(supplements__isnull=False).exists()  # asked once
    assert figures["actions"]["supplement_request"] == cases.filter(supplements__isnull=False).count()
    # Every applicant is told (the outbox's deliveries run in bulk each virtual minute, not skipped).
    told = set(
        Message.objects.filter(template_code__startswith="case-").values_list(
            "context__case_number", flat=True
        )
    )
    assert set(cases.values_list("number", flat=True)) <= told
    completed = cases.filter(status=Case.Status.COMPLETED).values_list("number", flat=True)
    assert set(completed) <= set(
        Message.objects.filter(template_code="case-completed").values_list("context__case_number", flat=True)
    )
    assert figures["worker"]["event_deliveries"] > 0

    indicators = figures["indicators"]
    assert indicators["warnings_yellow"] + indicators["warnings_red"] > 0
    assert Warning.objects.filter(created_at__date__gte=_start()).exists()
    assert Rating.objects.filter(case_id__in=cases.values("pk")).exists()
    assert (
        sum(indicators["ratings"].values()) == Rating.objects.filter(case_id__in=cases.values("pk")).count()
    )
    assert Rectification.objects.filter(case_id__in=cases.values("pk")).exists()  # a bad rating
    # Enterprises rate too, through their agent.
    rated_by_enterprises = Rating.objects.filter(
        case_id__in=cases.filter(applicant_organisation__isnull=False).values("pk")
    )
    assert figures["actions"]["ratings_enterprise"] == rated_by_enterprises.count() > 0
    # Three channels: windows, the portal, and the app (by the API's channel).
    channels = dict(cases.values_list("channel").annotate(n=Count("pk")).order_by())
    assert channels.get(Case.Channel.API, 0) == figures["actions"]["cases_app"] > 0
    assert channels.get(Case.Channel.WINDOW, 0) == figures["actions"]["cases_window"] > 0
    assert channels.get(Case.Channel.ONLINE, 0) > 0
    merged = Ticket.objects.filter(
        merged_into__isnull=False
    )  # merged, then replied with the ticket it joined
    assert indicators["tickets_duplicates_merged"] == merged.count() > 0
    assert Ticket.objects.filter(status=Ticket.Status.CLOSED, satisfaction__isnull=False).exists()
    assert indicators["offers_accepted"] > 0
    accepted = Offer.objects.filter(status=Offer.Status.ACCEPTED)
    assert Case.objects.filter(pk__in=accepted.values("case_id")).exists()
    assert set(indicators) >= {
        "on_time_rate",
        "offers_made",
        "tickets_first_contact_rate",
        "good_rating_rate",
    }
    # What the spike alerts are measured against: the demo city's month of 12345 history, and the planned spike.
    midnight = dt.datetime.combine(_start(), dt.time(0), tzinfo=calendar.SHANGHAI)
    history = Ticket.objects.filter(
        created_at__gte=midnight - dt.timedelta(days=28), created_at__lt=midnight
    ).count()
    assert figures["hotline_history_per_day"] == round(history / 28, 1) > 0
    assert isinstance(figures["spike_planned_raised"], bool)
    city = figures["city_indicators"]  # the indicators app's figures over the simulated days
    # the run's applications and the cases its accepted offers opened; not the city's earlier cases
    assert figures["cases"] <= city["cases_submitted"] < Case.objects.count()
    national = (
        "online_effectiveness",
        "online_maturity",
        "channel_completeness",
        "item_coverage",
        "guide_accuracy",
    )
    assert all(city[key] is not None for key in national), city  # each computed, the catalogue's parts too
    assert audit_verify(workers=1).ok


def test_the_scales_are_shares_of_a_shanghai_day():
    assert day_volume("shanghai") == {"cases": 184_000, "tickets": 25_000, "births": 270}
    assert day_volume("district") == {"cases": 11_500, "tickets": 1_562, "births": 17}
    assert day_volume("district", cases=10)["cases"] == 10
    with pytest.raises(ValueError, match="unknown scale"):
        day_volume("planet")
    counts = hourly(1000, (1,) * 12 + (3,) * 12)
    assert sum(counts) == 1000 and counts[0] < counts[23]


@pytest.mark.django_db
def test_staff_work_in_office_hours_of_working_days():
    import random

    friday_evening = dt.datetime(2026, 12, 11, 18, 0, tzinfo=calendar.SHANGHAI)
    at = office_time(friday_evening, random.Random(1), hours=1)
    assert at.date() == dt.date(2026, 12, 14)  # the Monday after
    assert dt.time(9) <= at.astimezone(calendar.SHANGHAI).time() < dt.time(17, 30)


@pytest.mark.django_db
def test_the_virtual_clock_is_what_the_services_read_as_now():
    moment = dt.datetime(2026, 12, 7, 10, 0, tzinfo=calendar.SHANGHAI)
    with virtual_clock(moment) as clock:
        assert timezone.now() == moment
        assert calendar.today() == dt.date(2026, 12, 7)
        clock.move_to(moment - dt.timedelta(hours=1))  # never backwards
        assert timezone.now() == moment
    assert timezone.now() > moment - dt.timedelta(days=3650) and timezone.now() != moment


class _Service:
    def __init__(self, code):
        self.code = code


def test_the_property_services_draw_their_share_between_them_as_their_weights_say():
    services = [
        (_Service("birth"), 6),
        (_Service("id-card"), 2),
        (_Service("filing"), 2),
        (_Service("sale"), 6),
    ]
    weighted = {s.code: w for s, w in _property_weighted(services, {"filing", "sale"}, PROPERTY_SHARE)}
    assert (weighted["filing"] + weighted["sale"]) / sum(weighted.values()) == pytest.approx(PROPERTY_SHARE)
    assert weighted["sale"] == pytest.approx(3 * weighted["filing"])
    assert (weighted["birth"], weighted["id-card"]) == (6, 2)
    assert _property_weighted(services, set(), PROPERTY_SHARE) == services


@pytest.mark.django_db
def test_a_resale_sells_a_free_unit_from_its_owner_to_the_applicant_and_never_twice_at_once(city):
    units = units_for_sale()
    assert len(units) > 1
    # A unit under a mortgage is not for sale (nor one under a seizure: the same query).
    Mortgage.objects.create(
        unit=PropertyUnit.objects.get(unit_number=units[-1]),
        creditor="中国工商银行上海市分行",
        amount=1_000_000,
        registered_on=_start() - dt.timedelta(days=400),
    )
    assert units_for_sale() == units[:-1]
    simulation = Simulation(days=1, volume=day_volume("test"), seed=1, start=_start())
    simulation.units = units[:1]
    number = units[0]
    owners = {o.owner_person_id for o in property_owners(PropertyUnit.objects.get(unit_number=number))}
    buyer = Person.objects.exclude(pk__in=owners).first()
    sale = simulation._sale(buyer, random.Random(1))
    assert sale is not None and sale[0] == number
    fields = sale[1]
    seller = Person.objects.get(resident_id=fields["seller_resident_id"])
    assert seller.pk in owners and fields["seller_name"] == seller.name
    assert (fields["buyer_resident_id"], fields["buyer_name"]) == (buyer.resident_id, buyer.name)
    assert fields["price"] > 0 and fields["property_unit"] == number
    # An owner does not buy their own flat: a co-owner sells it to them, or (a sole owner) there is no sale.
    owner = Person.objects.get(pk=min(owners))
    own = simulation._sale(owner, random.Random(1))
    if owners - {owner.pk}:
        assert Person.objects.get(resident_id=own[1]["seller_resident_id"]).pk in owners - {owner.pk}
    else:
        assert own is None
    # A unit that an open case of the run is selling is not sold again until that case ends.
    open_case = Case.objects.filter(status__in=Case.OPEN_STATUSES).first()
    assert open_case is not None
    simulation.sales[number] = open_case.pk
    assert simulation._sale(buyer, random.Random(1)) is None
    Case.objects.filter(pk=open_case.pk).update(status=Case.Status.WITHDRAWN)
    assert simulation._sale(buyer, random.Random(1))[0] == number
    assert number not in simulation.sales
    # The seller is read from the register at the draw: after a transfer, the last buyer sells.
    PropertyOwnership.objects.filter(unit__unit_number=number, ended_at__isnull=True).update(
        ended_at=_start()
    )
    PropertyOwnership.objects.create(
        unit=PropertyUnit.objects.get(unit_number=number), owner_person=buyer, share=100, since=_start()
    )
    other = Person.objects.exclude(pk=buyer.pk).first()
    resale = simulation._sale(other, random.Random(2))
    assert resale[1]["seller_resident_id"] == buyer.resident_id
