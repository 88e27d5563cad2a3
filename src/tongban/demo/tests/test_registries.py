"""The demo seed of the registries is consistent with the seeded city, deterministic and fast."""

import re
import time
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.db.models import Q, Sum

from tongban.core.audit import SYSTEM
from tongban.demo.registries import DEMO_UNITS, infer_relations, registries_seed
from tongban.demo.services import (
    demo_citizens_ensure,
    organisations_seed,
    persons_seed,
    streets_ensure,
)
from tongban.demo.synthetic import CityGenerator
from tongban.exchange.models import (
    BirthRecord,
    BusinessRegistration,
    DeedTaxPayment,
    HouseholdMembership,
    MarriageRecord,
    MedicalInsuranceRecord,
    Mortgage,
    PropertyOwnership,
    PropertyUnit,
    Seizure,
    SocialInsuranceRecord,
    TaxRegistration,
)
from tongban.exchange.models.registries import UNIT_NUMBER_RE
from tongban.identity.models import Organisation, Person

pytestmark = pytest.mark.django_db

SEED = 7
PEOPLE = 600


@pytest.fixture
def small_city(city):
    streets = streets_ensure(actor=SYSTEM)
    generator = CityGenerator(seed=SEED)
    demo_citizens_ensure(actor=SYSTEM, generator=generator, streets=streets, password_hash="!")
    generator.representative_target = 40
    persons_seed(generator=generator, people=PEOPLE, streets=streets)
    organisations_seed(generator=generator, count=40)


def _snapshot():
    return {
        "memberships": sorted(
            HouseholdMembership.objects.values_list("id", "person_id", "relation", "since")
        ),
        "marriages": sorted(
            MarriageRecord.objects.values_list("certificate_number", "party_a_id", "registered_on")
        ),
        "births": sorted(BirthRecord.objects.values_list("certificate_number", "baby_id", "weight_g")),
        "units": sorted(
            PropertyUnit.objects.values_list("id", "unit_number", "floor_area", "certificate_number")
        ),
        "ownerships": sorted(PropertyOwnership.objects.values_list("unit_id", "owner_person_id", "share")),
        "mortgages": sorted(Mortgage.objects.values_list("unit_id", "amount")),
        "si": sorted(SocialInsuranceRecord.objects.values_list("person_id", "employer_id", "card_number")),
        "mi": sorted(MedicalInsuranceRecord.objects.values_list("person_id", "scheme")),
        "business": sorted(BusinessRegistration.objects.values_list("organisation_id", "registered_capital")),
    }


def _clear():
    for model in (DeedTaxPayment, Mortgage, Seizure, PropertyOwnership, PropertyUnit, BirthRecord, MarriageRecord,
                  SocialInsuranceRecord, MedicalInsuranceRecord, HouseholdMembership, BusinessRegistration,
                  TaxRegistration):  # fmt: skip
        model.objects.all().delete()


def test_seed_is_consistent_with_the_households(small_city):
    counts = registries_seed(seed=SEED)
    persons = Person.objects.filter(household__isnull=False)
    assert counts["memberships"] == persons.count() == HouseholdMembership.objects.count()
    assert not persons.filter(household_membership__isnull=True).exists()
    assert all(
        m.household_id == m.person.household_id for m in HouseholdMembership.objects.select_related("person")
    )
    heads = Counter(
        HouseholdMembership.objects.filter(relation="head").values_list("household_id", flat=True)
    )
    assert set(heads.values()) == {1} and len(heads) == Person.objects.values("household").distinct().count()
    # Every head and spouse are married to each other.
    by_household = defaultdict(dict)
    for household, relation, person in HouseholdMembership.objects.filter(
        relation__in=["head", "spouse"]
    ).values_list("household_id", "relation", "person_id"):
        by_household[household][relation] = person
    married = {frozenset(pair) for pair in MarriageRecord.objects.values_list("party_a_id", "party_b_id")}
    couples = [frozenset(pair.values()) for pair in by_household.values() if len(pair) == 2]
    assert couples and all(couple in married for couple in couples)
    # Every unit has a valid number and current owners holding 100%; the head is one of them.
    pattern = re.compile(UNIT_NUMBER_RE)
    assert all(pattern.match(number) for number in PropertyUnit.objects.values_list("unit_number", flat=True))
    shares = (
        PropertyOwnership.objects.filter(ended_at__isnull=True).values("unit").annotate(total=Sum("share"))
    )
    assert shares.count() == PropertyUnit.objects.count() > 0
    assert {row["total"] for row in shares} == {Decimal("100")}
    # Births: the mother is a woman of the baby's household; everyone has medical insurance.
    for record in BirthRecord.objects.select_related("mother", "baby"):
        assert record.mother.sex == "F" and record.mother.household_id == record.baby.household_id
    assert MedicalInsuranceRecord.objects.count() == persons.count()
    assert set(
        SocialInsuranceRecord.objects.filter(status="active").values_list("person_id", flat=True)
    ) == set(MedicalInsuranceRecord.objects.filter(scheme="employee").values_list("person_id", flat=True))
    enterprises = Organisation.objects.filter(org_type__in=["enterprise", "individual", "coop"]).count()
    assert BusinessRegistration.objects.count() == enterprises
    assert TaxRegistration.objects.count() == Organisation.objects.count()


def test_seed_gives_the_demo_citizens_what_the_demo_bundles_need(small_city):
    registries_seed(seed=SEED)
    people = {p.user.username: p for p in Person.objects.filter(user__isnull=False).select_related("user")}
    li, chen, wang = people["li.ming"], people["chen.jing"], people["wang.xiuying"]
    marriage = MarriageRecord.objects.get(Q(party_a=li) | Q(party_b=li))
    assert {marriage.party_a_id, marriage.party_b_id} == {li.pk, chen.pk} and marriage.status == "married"
    flat = PropertyUnit.objects.get(unit_number=DEMO_UNITS["li.ming"])
    assert flat.district.code == "310101"
    owners = dict(PropertyOwnership.objects.filter(unit=flat).values_list("owner_person_id", "share"))
    assert owners == {li.pk: Decimal("50"), chen.pk: Decimal("50")}
    wang_flat = PropertyUnit.objects.get(unit_number=DEMO_UNITS["wang.xiuying"])
    assert list(PropertyOwnership.objects.filter(unit=wang_flat).values_list("owner_person_id", "share")) == [
        (wang.pk, Decimal("100"))
    ]
    for unit in (flat, wang_flat):
        assert (
            not Mortgage.objects.filter(unit=unit).exists() and not Seizure.objects.filter(unit=unit).exists()
        )


def test_seed_is_deterministic_and_refuses_a_second_run(small_city):
    registries_seed(seed=SEED)
    first = _snapshot()
    with pytest.raises(ValueError):
        registries_seed(seed=SEED)
    _clear()
    registries_seed(seed=SEED, batch_size=97)  # another batch size: the same registries
    assert _snapshot() == first
    _clear()
    registries_seed(seed=SEED + 1)
    assert _snapshot()["units"] != first["units"]


def test_seed_is_fast(small_city):
    started = time.perf_counter()
    counts = registries_seed(seed=SEED)
    seconds = time.perf_counter() - started
    assert counts["memberships"] >= PEOPLE
    assert seconds < 2.0  # ≈ 0.05 s here; 20,000 persons take about a second


def test_relations_follow_the_household_structure():
    import datetime

    def member(sex, year):
        return {"sex": sex, "birth_date": datetime.date(year, 6, 1)}

    on = datetime.date(2026, 1, 1)
    family = [member("M", 1980), member("F", 1982), member("M", 2012), member("M", 1950), member("F", 1952)]
    assert infer_relations(family, on) == ["head", "spouse", "child", "parent", "parent"]
    assert infer_relations([member("F", 1970), member("M", 2000)], on) == ["head", "child"]
    # A minor listed first is not the head; a partner below the legal age of marriage is "other".
    assert infer_relations([member("M", 2015), member("F", 1985)], on) == ["child", "head"]
    assert infer_relations([member("F", 2000), member("M", 2005)], on) == ["head", "other"]
