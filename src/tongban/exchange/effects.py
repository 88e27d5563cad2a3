"""The registries' step effects (数据跑腿): what a department's approval changes in the registry it owns.

Registered by name when the app is ready (``ExchangeConfig.ready``); a catalogue item names them per process
step (``ServiceItem.step_effects``), and the case engine runs them in the step's transaction. Each reads the form
fields it needs by the documented names below, writes through the registry's own services, and reads another
department's data only through ``services.lookup`` (grant checked, data use recorded). A missing or wrong input
raises ``ValidationError`` on ``decision`` with the reason, so the handler refuses or asks a supplement.

| effect | owner | form fields | leaves in ``values`` |
|---|---|---|---|
| ``birth.record`` | health | baby_name, baby_sex, birth_date, birth_weight_g, birth_hospital, mother_resident_id (else the applicant), father_resident_id | certificate_number |
| ``household.register_newborn`` | public-security | baby_name, mother_resident_id | baby_resident_id |
| ``medical_insurance.enrol_newborn`` | medical-insurance | baby_name, mother_resident_id | |
| ``social_security.enrol_and_issue_card`` | hrss | baby_name, mother_resident_id | card_number, name, resident_id, holder (the baby) |
| ``real_estate.check_owner_and_free`` | planning-resources | property_unit, seller_resident_id | |
| ``tax.record_deed_tax`` | tax | property_unit, price, buyer_first_home, buyer_resident_id (else the applicant) | receipt_number, tax_amount, holder (the buyer) |
| ``real_estate.transfer`` | planning-resources | property_unit, buyer_resident_id (else the applicant) | holder (the buyer) |
| ``real_estate.certificate_details`` | planning-resources | property_unit, buyer_resident_id (else the applicant) | certificate_number, holder (the buyer) |

The four newborn effects also have a ``prepare`` half (``core.effects``: run before the step's transaction, their
writes applied under the lock): the same reads, draws and rows, with checks under the lock that what was read
still holds (the baby found is still the mother's latest registered one of the name; the birth record still
unregistered, still her latest of the name, and she still in the household it goes to). The real-estate effects
read through ``exchange.services`` lookups, which record the data use: they run whole, under the lock.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tongban.core.db import fast
from tongban.core.effects import EffectContext, Writes, effect_register
from tongban.identity.models import Person

from . import services as hub
from .models import BirthRecord
from .registry_selectors import household_membership_for, property_owners, property_unit_get
from .registry_services import (
    birth_record_create,
    birth_record_prepare,
    deed_tax_record,
    household_birth_prepare,
    household_birth_register,
    mi_enrol,
    mi_enrol_prepare,
    property_transfer,
    si_card_issue,
    si_enrol_and_card_prepare,
)

SEX = {"male": "M", "female": "F", "M": "M", "F": "F"}
DEED_TAX_RATE_FIRST_HOME = Decimal("0.01")  # 契税法: 1%–3%
DEED_TAX_RATE = Decimal("0.03")


def _refuse(message) -> ValidationError:
    return ValidationError({"decision": [message]})


def _person(resident_id, context: EffectContext | None = None) -> Person | None:
    key = str(resident_id or "").strip().upper()
    if not key:
        return None
    known = context.applicant_person if context is not None else None
    if known is not None and known.resident_id == key:  # usually the applicant: no need to read it again
        return known
    return Person.objects.filter(resident_id=key).first()


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _mother(context: EffectContext) -> Person:
    named = context.form.get("mother_resident_id")
    mother = _person(named, context) if named else context.applicant_person
    if mother is None:
        raise _refuse(
            _("The mother named by the application (mother_resident_id) is not in the population register.")
        )
    return mother


def _buyer(context: EffectContext) -> Person:
    named = context.form.get("buyer_resident_id")
    buyer = _person(named, context) if named else context.applicant_person
    if buyer is None:
        raise _refuse(
            _("The buyer named by the application (buyer_resident_id) is not in the population register.")
        )
    return buyer


def _baby_name(context: EffectContext) -> str:
    name = str(context.form.get("baby_name") or "").strip()
    if not name:
        raise _refuse(_("The application lacks the baby's name (baby_name); ask for a supplement."))
    return name


def _baby(context: EffectContext) -> Person:
    """The newborn of the mother's latest birth record of this name that is registered (one hand-written SELECT)."""
    return _baby_and_check(context)[0]


def _baby_and_check(context: EffectContext) -> tuple[Person, tuple]:
    """``_baby``, and the check (``core.effects.Writes.checks``) that it is still the answer under the lock."""
    mother, name = _mother(context), _baby_name(context)
    person = fast.columns(Person, "p")
    params = [fast.prep(BirthRecord, "mother", mother.pk), name]
    row = fast.fetchone(
        f"SELECT {person.sql} FROM exchange_birthrecord b INNER JOIN identity_person p ON p.id = b.baby_id "  # noqa: S608
        "WHERE b.mother_id = %s AND b.baby_name = %s ORDER BY b.recorded_at DESC LIMIT 1",
        params,
    )
    if row is None:
        raise _refuse(_("The newborn is not registered in a household yet: register the birth first."))
    baby = fast.build(person, row)
    check = (
        "SELECT b.baby_id FROM exchange_birthrecord b WHERE b.mother_id = %s AND b.baby_name = %s "
        "AND b.baby_id IS NOT NULL ORDER BY b.recorded_at DESC LIMIT 1",
        params,
        (fast.prep(BirthRecord, "baby", baby.pk),),
    )
    return baby, check


# --- newborn ---------------------------------------------------------------------------------------------------


def birth_record(context: EffectContext, param: str = "") -> None:
    """Health records the birth; the birth medical certificate number is left for the licence."""
    record = birth_record_create(actor=context.actor, step_checked=True, **_birth_arguments(context))
    context.values["certificate_number"] = record.certificate_number


def _birth_arguments(context: EffectContext) -> dict:
    form = context.form
    mother = _mother(context)
    father = _person(form.get("father_resident_id"), context)
    sex, born, weight = (
        SEX.get(form.get("baby_sex")),
        _date(form.get("birth_date")),
        form.get("birth_weight_g"),
    )
    if sex is None or born is None or not isinstance(weight, int) or isinstance(weight, bool):
        # Never invented: the birth register records what the application says, or nothing.
        raise _refuse(_("The application lacks the baby's sex, birth date or weight; ask for a supplement."))
    return {
        "baby_name": _baby_name(context),
        "baby_sex": sex,
        "birth_date": born,
        "weight_g": weight,
        "hospital": form.get("birth_hospital", "") or form.get("hospital", "") or "",
        "mother": mother,
        "father": father if father != mother else None,
        "case_id": context.case_id,
    }


def birth_record_prepared(context: EffectContext, param: str = "") -> Writes:
    """``birth_record``'s prepare half (persons are found by their resident IDs, which do not change)."""
    writes = birth_record_prepare(actor=context.actor, **_birth_arguments(context))
    writes.values = {"certificate_number": writes.values["record"].certificate_number}
    return writes


def _no_birth_record(mother: Person, name: str) -> ValidationError:
    """The refusal when no unregistered birth record of the mother bears the form's name. When she has one under
    another name (the name corrected on the form after the certificate was issued, or the other way round), it
    says which, so the handler knows what to have corrected rather than meeting a bare "not found"."""
    other = (
        BirthRecord.objects.filter(mother=mother, baby__isnull=True)
        .order_by("-recorded_at")
        .values_list("certificate_number", "baby_name", "birth_date")
        .first()
    )
    if other is None:
        return _refuse(_("No birth record was found for this newborn."))
    number, recorded, born = other
    return _refuse(
        _(
            "No birth record of the mother names the newborn “%(name)s”: her birth certificate %(number)s (born "
            "%(born)s) names “%(recorded)s”. The two must agree before the newborn is registered."
        )
        % {"name": name, "number": number, "born": born.isoformat(), "recorded": recorded}
    )


def household_register_newborn(context: EffectContext, param: str = "") -> None:
    """Public security registers the newborn of the birth record into the mother's household (a resident ID)."""
    mother = _mother(context)
    record = fast.first(
        BirthRecord,
        "t.mother_id = %s AND t.baby_name = %s AND t.baby_id IS NULL",
        [fast.prep(BirthRecord, "mother", mother.pk), _baby_name(context)],
        order="t.recorded_at DESC",
    )
    if record is None:
        raise _no_birth_record(mother, _baby_name(context))
    membership = household_membership_for(mother)
    household = membership.household if membership else mother.household
    if household is None:
        raise _refuse(_("The mother has no household to register the newborn in."))
    baby = household_birth_register(
        actor=context.actor,
        step_checked=True,
        household=household,
        birth_record=record,
        name=record.baby_name,
    )
    context.values["baby_resident_id"] = baby.resident_id


def household_register_newborn_prepared(context: EffectContext, param: str = "") -> Writes | None:
    """``household_register_newborn``'s prepare half; None (run whole under the lock, which refuses) when there is
    no birth record or household to register the baby in."""
    mother = _mother(context)
    record = fast.first(
        BirthRecord,
        "t.mother_id = %s AND t.baby_name = %s AND t.baby_id IS NULL",
        [fast.prep(BirthRecord, "mother", mother.pk), _baby_name(context)],
        order="t.recorded_at DESC",
    )
    if record is None:
        return None
    membership = household_membership_for(mother)
    household = membership.household if membership else mother.household
    if household is None:
        return None
    writes = household_birth_prepare(
        actor=context.actor,
        household=household,
        birth_record=record,
        mother=mother,
        mother_member=membership is not None,
    )
    writes.values = {"baby_resident_id": writes.values["person"].resident_id}
    return writes


def medical_insurance_enrol_newborn(context: EffectContext, param: str = "") -> None:
    """Medical insurance enrols the registered newborn in the resident scheme."""
    mi_enrol(
        actor=context.actor,
        step_checked=True,
        person=_baby(context),
        scheme="resident",
        case_id=context.case_id,
    )


def medical_insurance_enrol_newborn_prepared(context: EffectContext, param: str = "") -> Writes | None:
    """``medical_insurance_enrol_newborn``'s prepare half (the baby checked again under the lock)."""
    baby, check = _baby_and_check(context)
    writes = mi_enrol_prepare(actor=context.actor, person=baby, scheme="resident", case_id=context.case_id)
    if writes is not None:
        writes.checks.insert(0, check)
        writes.values = {}
    return writes


def social_security_enrol_and_issue_card_prepared(context: EffectContext, param: str = "") -> Writes | None:
    """``social_security_enrol_and_issue_card``'s prepare half (the baby checked again under the lock)."""
    baby, check = _baby_and_check(context)
    writes = si_enrol_and_card_prepare(actor=context.actor, person=baby, case_id=context.case_id)
    if writes is not None:
        writes.checks.insert(0, check)
        record = writes.values["record"]
        writes.values = {
            "card_number": record.card_number,
            "name": baby.name,
            "resident_id": baby.resident_id,
            "holder": baby,
        }
    return writes


def social_security_enrol_and_issue_card(context: EffectContext, param: str = "") -> None:
    """HRSS enrols the registered newborn and issues the social-security card (the licence's holder: the baby)."""
    baby = _baby(context)
    record = si_card_issue(
        actor=context.actor, step_checked=True, person=baby, case_id=context.case_id, enrol=True
    )
    context.values.update(
        card_number=record.card_number, name=baby.name, resident_id=baby.resident_id, holder=baby
    )


# --- real estate -----------------------------------------------------------------------------------------------


def _unit(context: EffectContext):
    unit = property_unit_get(context.form.get("property_unit", ""))
    if unit is None:
        raise _refuse(_("The property unit (property_unit) is not in the real-estate register."))
    return unit


def _lookup_args(context: EffectContext) -> dict:
    return {
        "actor": context.actor,
        "department": context.department,
        "purpose": context.purpose,
        "case_id": context.case_id,
        "case_number": context.case_number,
    }


def real_estate_check_owner_and_free(context: EffectContext, param: str = "") -> None:
    """登记审核: the seller owns the unit and it is not seized (looked up, audited, shown to the owners)."""
    unit_number = str(context.form.get("property_unit") or "")
    seller = str(context.form.get("seller_resident_id") or "")
    if not unit_number or not seller:
        raise _refuse(
            _("The application lacks the property unit or the seller's resident ID; ask for a supplement.")
        )
    owns = hub.evidence_owns_unit(resident_id=seller, unit_number=unit_number, **_lookup_args(context))
    if not owns.holds:
        raise _refuse(_("The register does not show the seller as the owner of this unit."))
    free = hub.evidence_unit_free(unit_number=unit_number, **_lookup_args(context))
    if not free.holds and free.facts.get("seized"):
        raise _refuse(_("The unit is seized by a court: it cannot be transferred."))


def tax_record_deed_tax(context: EffectContext, param: str = "") -> None:
    """Tax records the deed tax the buyer paid (1% for a first home, else 3% of the price)."""
    buyer = _buyer(context)
    try:
        price = Decimal(str(context.form.get("price") or 0))
    except InvalidOperation:
        raise _refuse(_("The price (price) of the application is not a number.")) from None
    rate = DEED_TAX_RATE_FIRST_HOME if context.form.get("buyer_first_home") else DEED_TAX_RATE
    payment = deed_tax_record(
        actor=context.actor,
        step_checked=True,
        unit=_unit(context),
        payer=buyer,
        amount=(price * rate).quantize(Decimal("0.01")),
        case_id=context.case_id,
    )
    context.values.update(receipt_number=payment.receipt_number, tax_amount=str(payment.amount), holder=buyer)


def real_estate_transfer(context: EffectContext, param: str = "") -> None:
    """登簿: the deed tax of this case is paid (looked up in tax's register), then the unit passes to the buyer."""
    unit = _unit(context)
    paid = hub.evidence_deed_tax_paid(unit_number=unit.unit_number, **_lookup_args(context))
    if not paid.holds:
        raise _refuse(_("The deed tax of this transfer has not been paid."))
    buyer = _buyer(context)
    owners = [o.owner_person or o.owner_organisation for o in property_owners(unit)]
    property_transfer(
        actor=context.actor,
        step_checked=True,
        unit=unit,
        from_owners=owners,
        to_owners=[buyer],
        case_id=context.case_id,
    )
    context.values["holder"] = buyer


def real_estate_certificate_details(context: EffectContext, param: str = "") -> None:
    """The new property certificate's number (after the transfer) and its holder, for the licence."""
    unit = _unit(context)
    context.values.update(certificate_number=unit.certificate_number, holder=_buyer(context))


EFFECTS = (
    ("birth.record", birth_record, "health", "Record the birth (birth register)"),
    (
        "household.register_newborn",
        household_register_newborn,
        "public-security",
        "Register the newborn in the mother's household",
    ),
    (
        "medical_insurance.enrol_newborn",
        medical_insurance_enrol_newborn,
        "medical-insurance",
        "Enrol the newborn in resident medical insurance",
    ),
    (
        "social_security.enrol_and_issue_card",
        social_security_enrol_and_issue_card,
        "hrss",
        "Enrol the newborn in social insurance and issue the card",
    ),
    (
        "real_estate.check_owner_and_free",
        real_estate_check_owner_and_free,
        "planning-resources",
        "Check that the seller owns the unit and that it is not seized",
    ),
    ("tax.record_deed_tax", tax_record_deed_tax, "tax", "Record the deed tax paid"),
    (
        "real_estate.transfer",
        real_estate_transfer,
        "planning-resources",
        "Check the deed tax and transfer the unit to the buyer",
    ),
    (
        "real_estate.certificate_details",
        real_estate_certificate_details,
        "planning-resources",
        "The new property certificate's number and holder",
    ),
)


PREPARED = {
    "birth.record": birth_record_prepared,
    "household.register_newborn": household_register_newborn_prepared,
    "medical_insurance.enrol_newborn": medical_insurance_enrol_newborn_prepared,
    "social_security.enrol_and_issue_card": social_security_enrol_and_issue_card_prepared,
}


def effects_register() -> None:
    """Register the registries' effects (called once the app is ready)."""
    for name, function, owner, label in EFFECTS:
        effect_register(name, function, owner=owner, label=label, prepare=PREPARED.get(name))
