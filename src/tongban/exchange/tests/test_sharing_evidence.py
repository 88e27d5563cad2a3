"""Evidence checks on the real registries: married, owns a unit, unit free, deed tax paid — each a granted,
audited lookup that records the data use of the persons concerned."""

import uuid

import pytest

from tongban.core.audit import SYSTEM
from tongban.core.models import AuditEntry
from tongban.exchange import services
from tongban.exchange.models import DataUse
from tongban.exchange.services import data_resources_sync
from tongban.exchange.tests.factories_registries import (
    DeedTaxFactory,
    MarriageFactory,
    MortgageFactory,
    OwnershipFactory,
    SeizureFactory,
    UnitFactory,
    man,
    woman,
)

PURPOSE = "不动产转移登记"
HOUSEHOLD_PURPOSE = "出生户口登记"


@pytest.fixture
def catalogue(city):
    data_resources_sync(actor=SYSTEM)
    for code in (
        services.PROPERTY_OWNERSHIP_RESOURCE,
        services.PROPERTY_ENCUMBRANCE_RESOURCE,
        services.DEED_TAX_RESOURCE,
    ):
        services.grant_ensure(department="housing", resource=code, purpose=PURPOSE)
    services.grant_ensure(
        department="public-security", resource=services.MARRIAGE_RESOURCE, purpose=HOUSEHOLD_PURPOSE
    )


def _ask(check, **kwargs):
    department = kwargs.pop("department", "housing")
    purpose = kwargs.pop("purpose", PURPOSE)
    return check(actor=SYSTEM, department=department, purpose=purpose, **kwargs)


def test_is_married_for_the_married_and_not_for_others(catalogue):
    marriage = MarriageFactory()
    single = woman()
    married = _ask(
        services.evidence_is_married,
        department="public-security-310101",  # a branch reads under its municipal department's grant
        purpose=HOUSEHOLD_PURPOSE,
        resident_id=marriage.party_b.resident_id,
        case_number="SH-2026-00000010",
    )
    assert married.holds and married.resource == "marriage-status"
    assert married.facts["registered_on"] == "2018-05-20"
    assert not _ask(
        services.evidence_is_married,
        department="public-security",
        purpose=HOUSEHOLD_PURPOSE,
        resident_id=single.resident_id,
    ).holds
    assert DataUse.objects.filter(person=marriage.party_b, case_number="SH-2026-00000010").exists()


def test_is_married_without_a_grant_is_refused(catalogue):
    marriage = MarriageFactory()
    with pytest.raises(services.GrantMissing) as error:
        _ask(services.evidence_is_married, resident_id=marriage.party_a.resident_id)  # housing has no grant
    assert "marriage-status" in str(error.value)
    assert AuditEntry.objects.filter(action="data.lookup_refused").count() == 1
    assert DataUse.objects.get(person=marriage.party_a).allowed is False


def test_owns_unit_and_records_every_owners_data_use(catalogue):
    ownership = OwnershipFactory(share=50)
    co_owner = OwnershipFactory(unit=ownership.unit, owner_person=man(), share=50)
    stranger = woman()
    unit = ownership.unit.unit_number
    assert _ask(
        services.evidence_owns_unit, resident_id=ownership.owner_person.resident_id, unit_number=unit
    ).holds
    assert not _ask(services.evidence_owns_unit, resident_id=stranger.resident_id, unit_number=unit).holds
    persons = set(DataUse.objects.values_list("person_id", flat=True))
    assert persons == {ownership.owner_person_id, co_owner.owner_person_id}
    entry = AuditEntry.objects.filter(action="data.lookup").order_by("-id").first()
    assert entry.subject_type == "property_unit" and entry.subject_id == unit


def test_unit_free_sees_mortgages_and_seizures(catalogue):
    free = OwnershipFactory().unit
    mortgaged = MortgageFactory().unit
    seized = SeizureFactory().unit
    assert _ask(services.evidence_unit_free, unit_number=free.unit_number).holds
    assert not _ask(services.evidence_unit_free, unit_number=mortgaged.unit_number).holds
    assert not _ask(services.evidence_unit_free, unit_number=seized.unit_number).holds
    assert not _ask(services.evidence_unit_free, unit_number="310101999999GB99999F99990101").holds  # unknown


def test_deed_tax_paid_for_the_case(catalogue):
    case_id = uuid.uuid4()
    payment = DeedTaxFactory(case_id=case_id)
    unpaid = UnitFactory()
    unit = payment.unit.unit_number
    assert _ask(services.evidence_deed_tax_paid, unit_number=unit, case_id=case_id).holds
    assert not _ask(services.evidence_deed_tax_paid, unit_number=unit, case_id=uuid.uuid4()).holds
    assert _ask(services.evidence_deed_tax_paid, unit_number=unit).holds
    assert not _ask(services.evidence_deed_tax_paid, unit_number=unpaid.unit_number).holds
    assert DataUse.objects.filter(person=payment.payer, case_id=case_id).exists()
