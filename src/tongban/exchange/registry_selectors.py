"""Reads of the registries (基础库): the owner's browsing pages and the lookups that other code needs.

Browsing is for staff of the registry's owner only (``registry_services.is_registry_staff``);
``registers_for(user)`` lists what a user may browse, ``register_records`` searches one register. Other
departments read registry data through the sharing layer (``exchange.services``), never through these.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from tongban.core.db import fast
from tongban.core.ids import normalize_resident_id
from tongban.identity.models import AdminUnit, Household

from .models import (
    BirthRecord,
    BusinessRegistration,
    DeedTaxPayment,
    EmployerQuarterHeadcount,
    EnterpriseQualification,
    HouseholdMembership,
    MarriageRecord,
    MedicalInsuranceRecord,
    Mortgage,
    PropertyOwnership,
    PropertyUnit,
    Seizure,
    SocialInsuranceRecord,
    TaxQuarterFiling,
    TaxRegistration,
)
from .registry_services import REGISTRY_OWNERS, is_registry_staff


def _id(search: str) -> str:
    """An identifier as stored (ASCII, upper case, no separators)."""
    return normalize_resident_id(search)


def _households(qs, search):
    value = _id(search)
    return qs.filter(Q(person__resident_id=value) | Q(household__number=search.strip()))


def _births(qs, search):
    value = _id(search)
    return qs.filter(
        Q(certificate_number=value)
        | Q(mother__resident_id=value)
        | Q(father__resident_id=value)
        | Q(baby__resident_id=value)
    )


def _marriages(qs, search):
    value = _id(search)
    return qs.filter(
        Q(certificate_number=search.strip()) | Q(party_a__resident_id=value) | Q(party_b__resident_id=value)
    )


def _by_person(qs, search):
    return qs.filter(person__resident_id=_id(search))


def _social(qs, search):
    value = _id(search)
    return qs.filter(Q(person__resident_id=value) | Q(card_number=value))


def _units(qs, search):
    value = search.strip().upper()
    owned = PropertyOwnership.objects.filter(owner_person__resident_id=_id(search), ended_at__isnull=True)
    return qs.filter(
        Q(unit_number=value) | Q(certificate_number=search.strip()) | Q(pk__in=owned.values("unit_id"))
    )


def _business(qs, search):
    value = search.strip()
    if len(value) == 18:
        return qs.filter(organisation__credit_code=value.upper())
    return qs.filter(organisation__name__contains=value)


def _by_organisation(qs, search):
    value = search.strip()
    if len(value) == 18:
        return qs.filter(organisation__credit_code=value.upper())
    return qs.filter(organisation__name__contains=value)


def _tax(qs, search):
    return qs.filter(taxpayer_number=_id(search))


def _deed_tax(qs, search):
    value = _id(search)
    condition = Q(unit__unit_number=value) | Q(receipt_number=value) | Q(payer__resident_id=value)
    with contextlib.suppress(ValueError):
        condition |= Q(case_id=uuid.UUID(search.strip()))
    return qs.filter(condition)


@dataclass(frozen=True)
class Register:
    """A browsable table of a registry."""

    code: str
    registry: str  # key of REGISTRY_OWNERS
    name: str
    search_label: str
    subject_type: str  # the audit subject of a record: person | property_unit | organisation | marriage | ...
    queryset: Callable[[], QuerySet]
    search: Callable[[QuerySet, str], QuerySet]

    @property
    def owner(self) -> str:
        return REGISTRY_OWNERS[self.registry]


REGISTERS = {
    r.code: r
    for r in (
        Register(
            "households",
            "population",
            _("Household members"),
            _("Resident ID or household number"),
            "person",
            lambda: HouseholdMembership.objects.select_related("person", "household", "household__district"),
            _households,
        ),
        Register(
            "births",
            "births",
            _("Birth records"),
            _("Certificate number or a parent's resident ID"),
            "person",
            lambda: BirthRecord.objects.select_related("mother", "father", "baby"),
            _births,
        ),
        Register(
            "marriages",
            "marriages",
            _("Marriages"),
            _("Resident ID or certificate number"),
            "person",
            lambda: MarriageRecord.objects.select_related("party_a", "party_b", "office"),
            _marriages,
        ),
        Register(
            "social-insurance",
            "social-insurance",
            _("Social insurance"),
            _("Resident ID or card number"),
            "person",
            lambda: SocialInsuranceRecord.objects.select_related("person", "employer"),
            _social,
        ),
        Register(
            "medical-insurance",
            "medical-insurance",
            _("Medical insurance"),
            _("Resident ID"),
            "person",
            lambda: MedicalInsuranceRecord.objects.select_related("person"),
            _by_person,
        ),
        Register(
            "property-units",
            "real-estate",
            _("Real estate"),
            _("Unit number, certificate number or owner's resident ID"),
            "property_unit",
            lambda: PropertyUnit.objects.select_related("district"),
            _units,
        ),
        Register(
            "business",
            "business",
            _("Business register"),
            _("Credit code or name"),
            "organisation",
            lambda: BusinessRegistration.objects.select_related("organisation", "organisation__district"),
            _business,
        ),
        Register(
            "tax-registrations",
            "tax",
            _("Tax registrations"),
            _("Taxpayer number (credit code or resident ID)"),
            "organisation",
            lambda: TaxRegistration.objects.select_related("organisation", "person"),
            _tax,
        ),
        Register(
            "headcounts",
            "social-insurance",
            _("Employers' insured head-counts"),
            _("Credit code or name"),
            "organisation",
            lambda: EmployerQuarterHeadcount.objects.select_related("organisation").order_by("-quarter"),
            _by_organisation,
        ),
        Register(
            "tax-filings",
            "tax",
            _("Quarterly tax filings"),
            _("Credit code or name"),
            "organisation",
            lambda: TaxQuarterFiling.objects.select_related("organisation").order_by("-quarter"),
            _by_organisation,
        ),
        Register(
            "qualifications",
            "business",
            _("Enterprise qualifications"),
            _("Credit code or name"),
            "organisation",
            lambda: EnterpriseQualification.objects.select_related("organisation"),
            _by_organisation,
        ),
        Register(
            "deed-tax",
            "tax",
            _("Deed tax payments"),
            _("Unit number, receipt number, payer's resident ID or case ID"),
            "property_unit",
            lambda: DeedTaxPayment.objects.select_related("unit", "payer"),
            _deed_tax,
        ),
    )
}


def register_get(code: str) -> Register | None:
    return REGISTERS.get(code)


def registers_for(user) -> list[Register]:
    """The registers ``user`` may browse: those of their department's registries."""
    return [r for r in REGISTERS.values() if is_registry_staff(user, r.registry)]


def register_records(register: Register, *, search: str = "") -> QuerySet:
    """The register's records, newest first, narrowed by ``search`` (exact identifiers; names for businesses)."""
    qs = register.queryset().order_by("-pk")
    search = (search or "").replace("\x00", "").strip()[:100]
    return register.search(qs, search) if search else qs


def register_record_get(register: Register, pk) -> object | None:
    return register.queryset().filter(pk=pk).first()


# --- lookups for other code (the lead's wiring), by identifiers --------------------------------------


def household_membership_for(person) -> HouseholdMembership | None:
    """A person's household membership with its household and district (one hand-written SELECT)."""
    membership = fast.columns(HouseholdMembership, "m")
    household = fast.columns(Household, "h")
    district = fast.columns(AdminUnit, "a")
    row = fast.fetchone(
        f"SELECT {membership.sql}, {household.sql}, {district.sql} FROM exchange_householdmembership m "  # noqa: S608
        "INNER JOIN identity_household h ON h.id = m.household_id "
        "INNER JOIN identity_adminunit a ON a.id = h.district_id WHERE m.person_id = %s LIMIT 1",
        [fast.prep(HouseholdMembership, "person", getattr(person, "pk", person))],
    )
    if row is None:
        return None
    found = fast.build(membership, row)
    found.household = fast.build(household, row, membership.count)
    found.household.district = fast.build(district, row, membership.count + household.count)
    return found


def birth_record_get(certificate_number: str) -> BirthRecord | None:
    return (
        BirthRecord.objects.select_related("mother", "father", "baby")
        .filter(certificate_number=(certificate_number or "").strip().upper())
        .first()
    )


def birth_records_for_mother(person) -> QuerySet:
    return BirthRecord.objects.filter(mother=person).order_by("-birth_date")


def marriage_current(person) -> MarriageRecord | None:
    return (
        MarriageRecord.objects.filter(
            Q(party_a=person) | Q(party_b=person), status=MarriageRecord.Status.MARRIED
        )
        .select_related("party_a", "party_b")
        .first()
    )


def property_unit_get(unit_number: str) -> PropertyUnit | None:
    return (
        PropertyUnit.objects.select_related("district")
        .filter(unit_number=(unit_number or "").strip().upper())
        .first()
    )


def property_owners(unit) -> list[PropertyOwnership]:
    """The current ownerships of a unit, with their persons and organisations."""
    return list(
        PropertyOwnership.objects.filter(unit=unit, ended_at__isnull=True)
        .select_related("owner_person", "owner_organisation")
        .order_by("-share", "created_at")
    )


def property_units_for_person(person) -> QuerySet:
    """Units ``person`` owns now."""
    return PropertyUnit.objects.filter(
        ownerships__owner_person=person, ownerships__ended_at__isnull=True
    ).select_related("district")


def unit_encumbrances(unit) -> dict:
    """Active mortgages and seizures of a unit."""
    return {
        "mortgages": list(
            Mortgage.objects.filter(unit=unit, released_on__isnull=True).order_by("registered_on")
        ),
        "seizures": list(Seizure.objects.filter(unit=unit, lifted_on__isnull=True).order_by("ordered_on")),
    }


def deed_tax_for_case(case_id) -> list[DeedTaxPayment]:
    return list(DeedTaxPayment.objects.filter(case_id=case_id).select_related("unit", "payer"))
