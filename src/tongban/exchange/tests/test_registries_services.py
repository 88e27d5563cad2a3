"""The registries change only through their owners' services: each writes, audits and emits its event, and
refuses staff of another department."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from tongban.core.audit import SYSTEM
from tongban.core.exceptions import Conflict
from tongban.core.ids import make_resident_id
from tongban.core.models import AuditEntry, OutboxEvent
from tongban.exchange import registry_services as rs
from tongban.exchange.models import (
    HouseholdMembership,
    MarriageRecord,
    PropertyOwnership,
    SocialInsuranceRecord,
)
from tongban.exchange.tests.factories_registries import (
    BirthRecordFactory,
    HouseholdFactory,
    MarriageFactory,
    MemberFactory,
    MortgageFactory,
    OwnershipFactory,
    SeizureFactory,
    UnitFactory,
    man,
    registry_staff,
    woman,
)
from tongban.identity.models import Person
from tongban.identity.selectors import actor_for
from tongban.identity.tests.factories import AdminUnitFactory, OrganisationFactory, PersonFactory

pytestmark = pytest.mark.django_db


def _event(name):
    return OutboxEvent.objects.filter(name=name).order_by("-created_at").first()


def _audited(action, **filters):
    return AuditEntry.objects.filter(action=action, **filters).exists()


# --- the owner check -----------------------------------------------------------------------------


def test_staff_of_another_department_cannot_change_a_registry_and_the_refusal_is_audited(city):
    health_handler = registry_staff("health")
    household, person = HouseholdFactory(), PersonFactory()
    with pytest.raises(PermissionDenied):
        rs.household_member_register(
            actor=actor_for(health_handler), household=household, person=person, relation="head"
        )
    assert not HouseholdMembership.objects.exists()
    assert AuditEntry.objects.filter(
        action="permission.denied", subject_type="registry", subject_id="population"
    )


def test_staff_of_the_owner_and_of_its_district_branch_may_change_it(city):
    household = HouseholdFactory()
    rs.household_member_register(
        actor=actor_for(registry_staff("public-security")),
        household=household,
        person=PersonFactory(),
        relation="head",
    )
    rs.household_member_register(
        actor=actor_for(registry_staff("public-security-310101")),
        household=household,
        person=PersonFactory(),
        relation="spouse",
    )
    assert HouseholdMembership.objects.filter(household=household).count() == 2


def test_a_citizen_cannot_change_a_registry(city, citizen):
    with pytest.raises(PermissionDenied):
        rs.mi_enrol(actor=actor_for(citizen), person=citizen.person, scheme="resident")


@pytest.mark.parametrize(
    ("service", "department"),
    [
        (rs.birth_record_create, "public-security"),
        (rs.marriage_register, "health"),
        (rs.si_enrol, "medical-insurance"),
        (rs.mi_enrol, "hrss"),
        (rs.property_transfer, "tax"),
        (rs.deed_tax_record, "planning-resources"),
        (rs.business_register, "tax"),
        (rs.tax_register, "market-regulation"),
        (rs.mortgage_register, "housing"),
        (rs.seizure_register, "civil-affairs"),
    ],
)
def test_every_owner_service_refuses_staff_of_another_department(city, service, department):
    with pytest.raises(PermissionDenied):
        service(
            actor=actor_for(registry_staff(department))
        )  # refused before the arguments are even looked at


def test_a_service_needs_an_actor_or_a_user(city):
    with pytest.raises(TypeError):
        rs.mi_enrol(person=PersonFactory(), scheme="resident")


# --- population & households ---------------------------------------------------------------------


def test_household_member_register_writes_audits_and_emits(city):
    household, person = HouseholdFactory(), PersonFactory()
    membership = rs.household_member_register(
        actor=SYSTEM, household=household, person=person, relation="head", since=datetime.date(2020, 1, 1)
    )
    assert membership.relation == "head"
    person.refresh_from_db()
    assert person.household_id == household.pk and person.household_district_id == household.district_id
    assert _audited("registry.household.registered", subject_id=str(person.pk))
    event = _event("household.registered")
    assert event.payload["person_id"] == str(person.pk) and event.payload["relation"] == "head"
    assert event.payload["birth"] is False


def test_a_household_has_one_head(city):
    head = MemberFactory()
    with pytest.raises(ValidationError):
        rs.household_member_register(
            actor=SYSTEM, household=head.household, person=PersonFactory(), relation="head"
        )


def test_registering_a_person_elsewhere_moves_them(city):
    member = MemberFactory()
    other = HouseholdFactory()
    rs.household_member_register(actor=SYSTEM, household=other, person=member.person, relation="other")
    assert HouseholdMembership.objects.get(person=member.person).household == other


def test_birth_registration_gives_the_baby_a_resident_id_and_a_membership(city):
    mother = woman()
    household = MemberFactory(person=mother).household
    record = BirthRecordFactory(mother=mother, baby_sex="F", birth_date=datetime.date(2025, 10, 8))
    baby = rs.household_birth_register(
        actor=actor_for(registry_staff("public-security-310101")),
        household=household,
        birth_record=record,
        name="李安安",
    )
    assert baby.resident_id.startswith("31010120251008") and baby.sex == "F" and baby.name == "李安安"
    assert int(baby.resident_id[16]) % 2 == 0
    record.refresh_from_db()
    assert record.baby == baby
    assert HouseholdMembership.objects.get(person=baby).relation == "child"
    event = _event("household.registered")
    assert event.payload["birth"] is True and event.payload["person_id"] == str(baby.pk)
    assert _event("person.registered") is not None
    with pytest.raises(Conflict):
        rs.household_birth_register(actor=SYSTEM, household=household, birth_record=record)


def test_a_baby_s_resident_id_is_the_first_free_one_of_its_district_birth_date_and_sex(city):
    born = datetime.date(2025, 10, 8)
    # Women's sequences 002 and 004 of that day are taken; a neighbouring day's and another district's are not
    # that day's.
    for area, day, sequence in [
        ("310101", born, 2),
        ("310101", born, 4),
        ("310101", born - datetime.timedelta(days=1), 6),
        ("310101", born + datetime.timedelta(days=1), 6),
        ("310104", born, 6),
    ]:
        PersonFactory(resident_id=make_resident_id(area, day, sequence), sex="F")
    mother = woman()
    household = MemberFactory(person=mother).household
    record = BirthRecordFactory(mother=mother, baby_sex="F", birth_date=born)
    baby = rs.household_birth_register(actor=SYSTEM, household=household, birth_record=record)
    assert baby.resident_id == make_resident_id("310101", born, 6)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="needs SQLite (its query plan)")
def test_the_free_resident_id_is_found_in_the_index_not_by_reading_every_person(city):
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {rs._RESIDENT_IDS_BETWEEN}", ["31010120251008", "31010120251009"])
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "SEARCH" in plan and "INDEX" in plan and "SCAN" not in plan, plan


# --- births --------------------------------------------------------------------------------------


def test_birth_record_create_writes_audits_and_emits_person_born(city):
    mother, father = woman(), man()
    case_id = uuid.uuid4()
    record = rs.birth_record_create(
        actor=actor_for(registry_staff("health")),
        baby_name="李安安",
        baby_sex="F",
        birth_date=datetime.date(2025, 10, 8),
        weight_g=3250,
        hospital="上海市第一妇婴保健院",
        mother=mother,
        father=father,
        case_id=case_id,
    )
    assert len(record.certificate_number) == 10 and record.certificate_number[0].isalpha()
    assert AuditEntry.objects.filter(action="registry.birth.recorded", case_id=str(case_id)).exists()
    event = _event("person.born")
    assert event.payload["certificate_number"] == record.certificate_number
    assert event.payload["mother_id"] == str(mother.pk) and event.payload["father_id"] == str(father.pk)


def test_the_mother_of_a_birth_record_is_a_woman(city):
    with pytest.raises(ValidationError):
        rs.birth_record_create(
            actor=SYSTEM,
            baby_name="李安安",
            baby_sex="F",
            birth_date=datetime.date(2025, 10, 8),
            weight_g=3250,
            hospital="某医院",
            mother=man(),
        )


# --- marriages -----------------------------------------------------------------------------------


def test_marriage_register_and_dissolve(city):
    a, b = man(), woman()
    office = AdminUnitFactory(code="310104")
    marriage = rs.marriage_register(
        actor=actor_for(registry_staff("civil-affairs")), party_a=a, party_b=b, office=office
    )
    assert marriage.status == "married"
    assert _event("marriage.registered").payload["party_b_id"] == str(b.pk)
    assert _audited("registry.marriage.registered", subject_id=str(marriage.pk))
    with pytest.raises(ValidationError):
        rs.marriage_register(actor=SYSTEM, party_a=a, party_b=woman(), office=office)
    rs.marriage_dissolve(actor=SYSTEM, marriage=marriage)
    marriage.refresh_from_db()
    assert marriage.status == "divorced" and marriage.dissolved_on is not None
    assert _event("marriage.dissolved") is not None
    with pytest.raises(Conflict):
        rs.marriage_dissolve(actor=SYSTEM, marriage=marriage)


def test_marriage_needs_the_legal_age(city):
    young = PersonFactory(male=True, birth_date=datetime.date.today() - datetime.timedelta(days=365 * 21))
    with pytest.raises(ValidationError) as raised:
        rs.marriage_register(
            actor=SYSTEM, party_a=young, party_b=woman(), office=AdminUnitFactory(code="310101")
        )
    assert "party_a" in raised.value.message_dict


# --- insurance -----------------------------------------------------------------------------------


def test_social_insurance_enrol_and_card(city):
    person, employer = PersonFactory(), OrganisationFactory()
    user = registry_staff("hrss")
    rs.si_enrol(actor=actor_for(user), person=person, employer=employer)
    assert _event("social_insurance.enrolled").payload["employer_id"] == str(employer.pk)
    record = rs.si_card_issue(actor=actor_for(user), person=person)
    assert (
        record.card_number
        and _event("social_insurance.card_issued").payload["card_number"] == record.card_number
    )
    assert _audited("registry.social_insurance.card_issued", subject_id=str(person.pk))
    with pytest.raises(Conflict):
        rs.si_enrol(actor=SYSTEM, person=person, employer=employer)


def test_a_card_needs_an_enrolment(city):
    with pytest.raises(ValidationError):
        rs.si_card_issue(actor=SYSTEM, person=PersonFactory())
    assert not SocialInsuranceRecord.objects.exists()


def test_medical_insurance_enrol(city):
    person = PersonFactory()
    record = rs.mi_enrol(
        actor=actor_for(registry_staff("medical-insurance")), person=person, scheme="resident"
    )
    assert record.status == "active"
    assert _event("medical_insurance.enrolled").payload == {
        "person_id": str(person.pk),
        "scheme": "resident",
        "since": record.since.isoformat(),
    }
    rs.mi_enrol(actor=SYSTEM, person=person, scheme="employee")
    record.refresh_from_db()
    assert record.scheme == "employee"


# --- real estate ---------------------------------------------------------------------------------


def test_property_transfer_ends_the_old_ownerships_and_creates_the_new_ones(city):
    seller = woman(birth_date=datetime.date(1955, 3, 8))
    ownership = OwnershipFactory(owner_person=seller)
    unit = ownership.unit
    old_certificate = unit.certificate_number
    buyer_a, buyer_b = man(), woman()
    case_id = uuid.uuid4()
    rows = rs.property_transfer(
        actor=actor_for(registry_staff("planning-resources")),
        unit=unit,
        from_owners=[seller],
        to_owners=[buyer_a, buyer_b],
        shares=[Decimal("60"), Decimal("40")],
        case_id=case_id,
        on=datetime.date(2025, 12, 1),
    )
    assert [r.share for r in rows] == [Decimal("60"), Decimal("40")]
    ownership.refresh_from_db()
    assert ownership.ended_at == datetime.date(2025, 12, 1)
    current = PropertyOwnership.objects.filter(unit=unit, ended_at__isnull=True)
    assert {o.owner_person_id for o in current} == {buyer_a.pk, buyer_b.pk}
    assert all(o.case_id == case_id for o in current)
    unit.refresh_from_db()
    assert unit.certificate_number != old_certificate
    event = _event("property.transferred")
    assert event.payload["from_person_ids"] == [str(seller.pk)]
    assert event.payload["to_person_ids"] == [str(buyer_a.pk), str(buyer_b.pk)]
    assert event.payload["case_id"] == str(case_id)
    assert AuditEntry.objects.filter(
        action="registry.property.transferred", subject_id=unit.unit_number, case_id=str(case_id)
    ).exists()


def test_a_transfer_names_the_current_owners(city):
    ownership = OwnershipFactory()
    with pytest.raises(ValidationError):
        rs.property_transfer(
            actor=SYSTEM, unit=ownership.unit, from_owners=[PersonFactory()], to_owners=[man()]
        )
    with pytest.raises(ValidationError):
        rs.property_transfer(
            actor=SYSTEM,
            unit=ownership.unit,
            from_owners=[ownership.owner_person],
            to_owners=[man(), woman()],
            shares=[50, 40],
        )
    assert PropertyOwnership.objects.filter(unit=ownership.unit, ended_at__isnull=True).count() == 1


def test_a_seized_unit_cannot_be_transferred_a_mortgaged_one_can(city):
    ownership = OwnershipFactory()
    seizure = SeizureFactory(unit=ownership.unit)
    with pytest.raises(Conflict):
        rs.property_transfer(
            actor=SYSTEM, unit=ownership.unit, from_owners=[ownership.owner_person], to_owners=[man()]
        )
    rs.seizure_lift(actor=SYSTEM, seizure=seizure)
    assert _event("seizure.lifted").payload["seizure_id"] == str(seizure.pk)
    MortgageFactory(unit=ownership.unit)
    rs.property_transfer(
        actor=SYSTEM, unit=ownership.unit, from_owners=[ownership.owner_person], to_owners=[man()]
    )


def test_property_unit_register_mortgage_and_seizure_services(city):
    owner = man()
    user = registry_staff("planning-resources")
    unit = rs.property_unit_register(
        actor=actor_for(user),
        unit_number="310104001002GB00001F00010101",
        district=AdminUnitFactory(code="310104"),
        address="上海市徐汇区测试路1号101室",
        floor_area=Decimal("75.2"),
        owners=[owner],
    )
    assert unit.certificate_number.startswith("沪(") and "徐字" in unit.certificate_number
    assert _event("property.registered").payload["owner_person_ids"] == [str(owner.pk)]
    mortgage = rs.mortgage_register(
        actor=actor_for(user), unit=unit, creditor="上海银行", amount=Decimal("500000")
    )
    assert _event("mortgage.registered").payload["unit_number"] == unit.unit_number
    rs.mortgage_release(actor=actor_for(user), mortgage=mortgage)
    assert _event("mortgage.released") is not None
    with pytest.raises(Conflict):
        rs.mortgage_release(actor=SYSTEM, mortgage=mortgage)
    rs.seizure_register(actor=actor_for(user), unit=unit, court="上海市徐汇区人民法院")
    assert _event("seizure.registered") is not None
    assert _audited("registry.seizure.registered", subject_id=unit.unit_number)


def test_a_unit_number_must_be_valid(city):
    with pytest.raises(ValidationError) as raised:
        rs.property_unit_register(
            actor=SYSTEM,
            unit_number="310104-1",
            district=AdminUnitFactory(code="310104"),
            address="x",
            floor_area=Decimal("50"),
            owners=[man()],
        )
    assert "unit_number" in raised.value.message_dict


# --- business and tax ----------------------------------------------------------------------------


def test_business_register_and_tax_register(city):
    organisation = OrganisationFactory()
    rs.business_register(
        actor=actor_for(registry_staff("market-regulation")),
        organisation=organisation,
        business_scope="软件开发。",
    )
    assert _event("business.registered").payload["credit_code"] == organisation.credit_code
    with pytest.raises(Conflict):
        rs.business_register(actor=SYSTEM, organisation=organisation, business_scope="软件开发。")
    registration = rs.tax_register(actor=actor_for(registry_staff("tax")), organisation=organisation)
    assert registration.taxpayer_number == organisation.credit_code
    assert _event("tax.registered").subject_id == str(organisation.pk)


def test_deed_tax_record_writes_audits_and_emits(city):
    unit, payer, case_id = UnitFactory(), man(), uuid.uuid4()
    payment = rs.deed_tax_record(
        actor=actor_for(registry_staff("tax")),
        unit=unit,
        payer=payer,
        amount=Decimal("45000.50"),
        case_id=case_id,
    )
    assert payment.receipt_number
    event = _event("deed_tax.paid")
    assert event.payload["case_id"] == str(case_id) and event.payload["amount"] == "45000.50"
    assert AuditEntry.objects.filter(action="registry.deed_tax.paid", case_id=str(case_id)).exists()
    with pytest.raises(Conflict):
        rs.deed_tax_record(actor=SYSTEM, unit=unit, payer=payer, amount=Decimal("1"), case_id=case_id)


def test_the_marriage_factory_makes_a_valid_record(city):
    marriage = MarriageFactory()
    marriage.full_clean()
    assert MarriageRecord.objects.count() == 1
    assert Person.objects.count() == 2
