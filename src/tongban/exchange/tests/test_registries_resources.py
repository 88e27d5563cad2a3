"""The registries' resource specs: each fetch returns only the asked fields, from few queries, and tells whose
data it read."""

import datetime
import uuid
from decimal import Decimal

import pytest

from tongban.exchange.resources import resource_spec, resource_specs
from tongban.exchange.tests.factories_registries import (
    BirthRecordFactory,
    BusinessRegistrationFactory,
    DeedTaxFactory,
    MarriageFactory,
    MemberFactory,
    MortgageFactory,
    OwnershipFactory,
    SeizureFactory,
    man,
    woman,
)
from tongban.identity.tests.factories import OrganisationFactory, PersonFactory

pytestmark = pytest.mark.django_db

EXPECTED = {
    "person-identity": ("public-security", "person", "conditional"),
    "household-members": ("public-security", "person", "conditional"),
    "birth-record": ("health", "person", "conditional"),
    "marriage-status": ("civil-affairs", "person", "conditional"),
    "social-insurance": ("hrss", "person", "conditional"),
    "medical-insurance": ("medical-insurance", "person", "conditional"),
    "property-ownership": ("planning-resources", "property_unit", "conditional"),
    "property-encumbrances": ("planning-resources", "property_unit", "conditional"),
    "person-properties": ("planning-resources", "person", "conditional"),
    "business-registration": ("market-regulation", "organisation", "unconditional"),
    "tax-registration": ("tax", "organisation", "conditional"),
    "deed-tax": ("tax", "property_unit", "conditional"),
    "tax-payments": ("tax", "person", "not_shared"),
}


def test_every_registry_resource_is_registered_with_its_owner_subject_and_sharing_class():
    specs = {spec.code: spec for spec in resource_specs() if spec.code in EXPECTED}
    assert {code: (s.owner, s.subject, s.sharing) for code, s in specs.items()} == EXPECTED
    for spec in specs.values():
        if spec.subject == "property_unit":
            assert spec.person_ids is not None, spec.code


def _fetch(code, key, fields):
    return resource_spec(code).fetch(key, list(fields))


def test_household_members_returns_only_the_asked_fields(city):
    head = MemberFactory(person=man())
    spouse = MemberFactory(household=head.household, person=woman(), relation="spouse")
    data = _fetch("household-members", spouse.person.resident_id, ["relation", "address"])
    assert data == {"relation": "spouse", "address": head.household.address}
    members = _fetch("household-members", head.person.resident_id, ["members"])["members"]
    assert [(m["name"], m["relation"]) for m in members] == [
        (head.person.name, "head"),
        (spouse.person.name, "spouse"),
    ]
    spec = resource_spec("household-members")
    assert spec.person_ids(head.person.resident_id, ["relation"]) == [head.person.pk]
    assert set(spec.person_ids(head.person.resident_id, ["members"])) == {head.person.pk, spouse.person.pk}


def test_a_fetch_for_an_unknown_subject_is_none(city):
    assert _fetch("household-members", "110101199001011234", ["relation"]) is None
    assert _fetch("property-ownership", "310101900001GB00001F00010101", ["owners"]) is None
    assert _fetch("business-registration", "91310000MA1FL0000X", ["name"]) is None


def test_person_identity(city):
    person = PersonFactory(area_code="310104")
    assert _fetch("person-identity", person.resident_id.lower(), ["name", "household_district"]) == {
        "name": person.name,
        "household_district": "310104",
    }


def test_birth_record_for_mother_father_and_baby(city, django_assert_max_num_queries):
    mother, father, baby = woman(), man(), PersonFactory(birth_date=datetime.date(2025, 10, 8), male=True)
    record = BirthRecordFactory(mother=mother, father=father, baby=baby)
    with django_assert_max_num_queries(2):
        data = _fetch("birth-record", mother.resident_id, ["certificate_number", "father_name"])
    assert data == [{"certificate_number": record.certificate_number, "father_name": father.name}]
    assert _fetch("birth-record", baby.resident_id, ["household_registered"]) == [
        {"household_registered": True}
    ]
    assert set(resource_spec("birth-record").person_ids(father.resident_id, None)) == {
        mother.pk,
        father.pk,
        baby.pk,
    }


def test_marriage_status(city, django_assert_max_num_queries):
    marriage = MarriageFactory()
    with django_assert_max_num_queries(3):
        data = _fetch("marriage-status", marriage.party_b.resident_id, ["married", "spouse_name"])
    assert data == {"married": True, "spouse_name": marriage.party_a.name}
    single = woman()
    assert _fetch("marriage-status", single.resident_id, ["married", "marital_status", "spouse_name"]) == {
        "married": False,
        "marital_status": "unmarried",
        "spouse_name": None,
    }
    spec = resource_spec("marriage-status")
    assert spec.person_ids(marriage.party_a.resident_id, ["married"]) == [marriage.party_a.pk]
    assert spec.person_ids(marriage.party_a.resident_id, ["spouse_name"]) == [
        marriage.party_a.pk,
        marriage.party_b.pk,
    ]


def test_insurance_resources(city):
    from tongban.exchange.models import MedicalInsuranceRecord, SocialInsuranceRecord

    person, employer = PersonFactory(), OrganisationFactory()
    SocialInsuranceRecord.objects.create(
        person=person, employer=employer, status="active", since=datetime.date(2015, 1, 1)
    )
    MedicalInsuranceRecord.objects.create(
        person=person, scheme="employee", status="active", since=datetime.date(2015, 1, 1)
    )
    assert _fetch("social-insurance", person.resident_id, ["enrolled", "employer_name", "card_issued"]) == {
        "enrolled": True,
        "employer_name": employer.name,
        "card_issued": False,
    }
    assert _fetch("medical-insurance", person.resident_id, ["scheme"]) == {"scheme": "employee"}
    assert _fetch("medical-insurance", PersonFactory().resident_id, ["enrolled", "scheme"]) == {
        "enrolled": False,
        "scheme": None,
    }


def test_property_resources(city, django_assert_max_num_queries):
    owner_a, owner_b = man(), woman()
    first = OwnershipFactory(owner_person=owner_a, share=Decimal("50"))
    unit = first.unit
    OwnershipFactory(unit=unit, owner_person=owner_b, share=Decimal("50"))
    OwnershipFactory(
        unit=unit, owner_person=PersonFactory(), ended_at=datetime.date(2020, 6, 1)
    )  # a former owner
    MortgageFactory(unit=unit)
    MortgageFactory(unit=unit, released_on=datetime.date(2024, 1, 1))
    with django_assert_max_num_queries(2):
        data = _fetch("property-ownership", unit.unit_number, ["owners", "floor_area"])
    assert set(data) == {"owners", "floor_area"} and data["floor_area"] == 88.5
    assert sorted(o["id_number"] for o in data["owners"]) == sorted(
        [owner_a.resident_id, owner_b.resident_id]
    )
    assert all(o["share"] == 50.0 for o in data["owners"])
    assert _fetch("property-encumbrances", unit.unit_number, ["mortgaged", "seized"]) == {
        "mortgaged": True,
        "seized": False,
    }
    SeizureFactory(unit=unit)
    encumbrances = _fetch("property-encumbrances", unit.unit_number, ["seizures"])
    assert (
        list(encumbrances) == ["seizures"] and encumbrances["seizures"][0]["court"] == "上海市黄浦区人民法院"
    )
    assert set(resource_spec("property-ownership").person_ids(unit.unit_number, ["owners"])) == {
        owner_a.pk,
        owner_b.pk,
    }
    owned = _fetch("person-properties", owner_a.resident_id, ["unit_count", "units"])
    assert owned["unit_count"] == 1 and owned["units"][0]["unit_number"] == unit.unit_number


def test_business_and_tax_resources(city):
    registration = BusinessRegistrationFactory()
    organisation = registration.organisation
    assert _fetch("business-registration", organisation.credit_code, ["name", "status"]) == {
        "name": organisation.name,
        "status": "active",
    }
    assert _fetch("tax-registration", organisation.credit_code, ["registered"]) == {"registered": False}
    payment = DeedTaxFactory(case_id=uuid.uuid4())
    data = _fetch("deed-tax", payment.unit.unit_number, ["paid", "payments"])
    assert data["paid"] is True and data["payments"][0]["case_id"] == str(payment.case_id)
    assert resource_spec("deed-tax").person_ids(payment.unit.unit_number, ["paid"]) == [payment.payer_id]
    assert _fetch("tax-payments", payment.payer.resident_id, ["total_amount"]) == {"total_amount": 30000.0}


def test_every_field_has_a_chinese_label_without_codes_in_it():
    """A citizen reads these labels on "who used my data": no English words or value codes in the Chinese one (the
    marital status once read "婚姻状况（unmarried/married/divorced）")."""
    import re

    for spec in resource_specs():
        for name, field in spec.fields.items():
            assert field.label_zh and field.label_en, (spec.code, name)
            assert not re.search(r"[A-Za-z]{2,}", field.label_zh), (spec.code, name, field.label_zh)
