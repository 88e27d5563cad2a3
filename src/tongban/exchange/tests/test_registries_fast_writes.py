"""Registry writes let the database refuse duplicates (no read-before-write): fewer statements, same messages."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tongban.core.audit import SYSTEM
from tongban.exchange import registry_services as rs
from tongban.exchange.models import BirthRecord, MedicalInsuranceRecord, SocialInsuranceRecord
from tongban.exchange.tests.factories_registries import MemberFactory, man, woman
from tongban.identity.tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def _birth(**kwargs):
    values = {
        "actor": SYSTEM,
        "baby_name": "李安安",
        "baby_sex": "F",
        "birth_date": datetime.date(2025, 10, 8),
        "weight_g": 3250,
        "hospital": "上海市第一妇婴保健院",
    }
    values.update(kwargs)
    if "mother" not in values:
        values["mother"] = woman()
    return rs.birth_record_create(**values)


def test_a_duplicate_birth_certificate_number_is_a_field_message_and_writes_nothing(city):
    first = _birth()
    with pytest.raises(ValidationError) as raised:
        _birth(certificate_number=first.certificate_number)
    assert "certificate_number" in raised.value.message_dict
    assert BirthRecord.objects.count() == 1


def test_a_duplicate_card_number_is_a_field_message(city):
    a, b = PersonFactory(), PersonFactory()
    rs.si_enrol(actor=SYSTEM, person=a)
    rs.si_enrol(actor=SYSTEM, person=b)
    rs.si_card_issue(actor=SYSTEM, person=a, card_number="T00000001")
    with pytest.raises(ValidationError) as raised:
        rs.si_card_issue(actor=SYSTEM, person=b, card_number="T00000001")
    assert "card_number" in raised.value.message_dict
    assert SocialInsuranceRecord.objects.get(person=b).card_number != "T00000001"


def test_a_value_outside_its_choices_is_still_refused_before_the_database(city):
    with pytest.raises(ValidationError) as raised:
        rs.mi_enrol(actor=SYSTEM, person=PersonFactory(), scheme="platinum")
    assert "scheme" in raised.value.message_dict
    assert not MedicalInsuranceRecord.objects.exists()


def test_a_birth_record_is_written_without_reading_before_it(city):
    mother, father = woman(), man()
    with CaptureQueriesContext(connection) as queries:
        _birth(mother=mother, father=father)
    selects = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith("SELECT") and "tongban_audit_append" not in q["sql"]
    ]  # (PostgreSQL's audit append is a SELECT of a function that inserts)
    # Only the free-number check of the certificate (full_clean added a read per unique field, related
    # person and check constraint).
    assert len(selects) <= 1, selects


def test_an_enrolment_is_written_in_a_handful_of_statements(city):
    person = PersonFactory()
    with CaptureQueriesContext(connection) as queries:
        rs.mi_enrol(actor=SYSTEM, person=person, scheme="resident")
    # savepoint, lock read, insert, event, release, and on PostgreSQL the audit append (SQLite's bypasses
    # Django's cursor)
    statements = [q["sql"] for q in queries.captured_queries if "tongban_audit_append" not in q["sql"]]
    assert len(statements) <= 5, statements


# --- the household lookup of the data hub ------------------------------------------------------------------


def test_the_persons_a_household_lookup_concerns_come_in_one_query_the_subject_first(city):
    from tongban.exchange.registries.population import fetch_household_members, household_person_ids

    head = MemberFactory(person=man())
    spouse = MemberFactory(household=head.household, person=woman(), relation="spouse")
    MemberFactory(person=woman())  # another household
    with CaptureQueriesContext(connection) as queries:
        persons = household_person_ids(spouse.person.resident_id.lower(), ["members"])
    assert persons == [spouse.person_id, head.person_id]
    assert len(queries.captured_queries) == 1
    with CaptureQueriesContext(connection) as queries:
        found = fetch_household_members(spouse.person.resident_id, ["relation", "household_number"])
    assert found == {"relation": "spouse", "household_number": head.household.number}
    assert len(queries.captured_queries) == 1


def test_a_person_without_a_household_concerns_only_themselves(city):
    from tongban.exchange.registries.population import fetch_household_members, household_person_ids

    alone = PersonFactory()
    assert household_person_ids(alone.resident_id, ["members"]) == [alone.pk]
    assert household_person_ids("110101199001010000", ["members"]) == []
    assert fetch_household_members(alone.resident_id, ["relation"]) is None


def test_a_newborn_is_enrolled_with_the_card_in_one_write_and_both_are_recorded(city):
    from tongban.core.models import AuditEntry, OutboxEvent

    baby = PersonFactory()
    with CaptureQueriesContext(connection) as queries:
        record = rs.si_card_issue(actor=SYSTEM, person=baby, enrol=True)
    writes = [
        q["sql"] for q in queries if "exchange_socialinsurancerecord" in q["sql"] and "SELECT" not in q["sql"]
    ]
    assert len(writes) == 1 and writes[0].startswith("INSERT")
    stored = SocialInsuranceRecord.objects.get(person=baby)
    assert stored.status == "active" and stored.card_number == record.card_number and stored.card_issued_on
    actions = set(AuditEntry.objects.filter(subject_id=str(baby.pk)).values_list("action", flat=True))
    assert {"registry.social_insurance.enrolled", "registry.social_insurance.card_issued"} <= actions
    names = set(OutboxEvent.objects.filter(subject_id=str(baby.pk)).values_list("name", flat=True))
    assert {"social_insurance.enrolled", "social_insurance.card_issued"} <= names
    with pytest.raises(
        ValidationError
    ):  # a taken card number given for a newborn: the field's message, no row
        rs.si_card_issue(actor=SYSTEM, person=PersonFactory(), enrol=True, card_number=record.card_number)
