"""What a department's decision changes in its own registry (数据跑腿): the effects of approving a step.

When a handler approves a step of the two bundles, the department's registry changes through its owner's
service, in the same transaction as the step (so a step is never done without its record, or the reverse):

* newborn — health records the birth and issues the birth medical certificate (an e-licence that the household
  registration then takes as its evidence, instead of a paper the parents carry); public-security registers the
  baby into the mother's household (the baby gets a resident ID); medical insurance enrols the baby; hrss enrols
  the baby and issues the social-security card.
* real-estate transfer — the review checks through the data hub that the seller owns the unit and that it is not
  seized; tax records the deed tax paid; registration (登簿) checks the deed tax of this case and transfers the
  unit; the new property certificate is issued at the end.

A step without an entry here changes nothing but the case. A check that fails raises ``ValidationError`` on
``decision`` with the reason, so the handler refuses or asks a supplement instead.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tongban.core.audit import Actor

from .evidence import CHECK_PURPOSE
from .models import CaseMaterial

SEX = {"male": "M", "female": "F", "M": "M", "F": "F"}


def _person(resident_id):
    from tongban.identity.models import Person

    key = str(resident_id or "").strip().upper()
    return Person.objects.filter(resident_id=key).first() if key else None


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _issue(case, *, actor: Actor, type_code: str, department, holder_person, extra: dict | None = None):
    """Issue the e-licence a step produces (idempotent per case, type and holder)."""
    from tongban.licences import services as licences
    from tongban.licences.models import LicenceType

    licence_type = LicenceType.objects.filter(code=type_code).first()
    if licence_type is None:
        return None
    data = licences.licence_data_from(licence_type, {**case.form_data, **(extra or {})})
    return licences.licence_issue(
        actor=actor,
        type=licence_type,
        data=data,
        department=department,
        holder_person=holder_person,
        case_id=case.pk,
    )


def _evidence_material(case, *, item_code: str, code: str, name: str, origin: str, reference: str) -> None:
    CaseMaterial.objects.create(
        case=case,
        item_code=item_code,
        code=code,
        name=name,
        origin=origin,
        trust=CaseMaterial.Trust.A,
        reference=reference[:200],
    )


# --- newborn ---------------------------------------------------------------------------------------------


def _mother(case):
    return _person(case.form_data.get("mother_resident_id")) or case.applicant_person


def newborn_birth_certificate(case, task, actor):
    from tongban.exchange.registry_services import birth_record_create

    form = case.form_data
    mother = _mother(case)
    father = _person(form.get("father_resident_id"))
    sex, born, weight = (
        SEX.get(form.get("baby_sex")),
        _date(form.get("birth_date")),
        form.get("birth_weight_g"),
    )
    if sex is None or born is None or not isinstance(weight, int):
        # Never invented: the birth register records what the application says, or nothing.
        raise ValidationError(
            {
                "decision": [
                    _("The application lacks the baby's sex, birth date or weight; ask for a supplement.")
                ]
            }
        )
    record = birth_record_create(
        actor=actor,
        baby_name=form.get("baby_name", ""),
        baby_sex=sex,
        birth_date=born,
        weight_g=weight,
        hospital=form.get("birth_hospital", ""),
        mother=mother,
        father=father if father != mother else None,
        case_id=case.pk,
    )
    licence = _issue(
        case,
        actor=actor,
        type_code="birth-medical-certificate",
        department=task.department,
        holder_person=case.applicant_person,
        extra={"certificate_number": record.certificate_number},
    )
    if licence is not None:  # the household registration's evidence, issued by the authority (trust A)
        _evidence_material(
            case,
            item_code="birth-household-registration",
            code="birth-medical-certificate",
            name="出生医学证明",
            origin=CaseMaterial.Origin.LICENCE,
            reference=licence.number,
        )


def newborn_household(case, task, actor):
    from tongban.exchange.models import BirthRecord
    from tongban.exchange.registry_selectors import household_membership_for
    from tongban.exchange.registry_services import household_birth_register

    mother = _mother(case)
    record = (
        BirthRecord.objects.filter(
            mother=mother, baby_name=case.form_data.get("baby_name", ""), baby__isnull=True
        )
        .order_by("-recorded_at")
        .first()
    )
    if record is None:
        raise ValidationError({"decision": [_("No birth record was found for this newborn.")]})
    membership = household_membership_for(mother)
    household = membership.household if membership else mother.household
    if household is None:
        raise ValidationError({"decision": [_("The mother has no household to register the newborn in.")]})
    household_birth_register(actor=actor, household=household, birth_record=record, name=record.baby_name)


def _baby(case):
    from tongban.exchange.models import BirthRecord

    record = (
        BirthRecord.objects.filter(mother=_mother(case), baby_name=case.form_data.get("baby_name", ""))
        .exclude(baby=None)
        .select_related("baby")
        .order_by("-recorded_at")
        .first()
    )
    return record.baby if record else None


def newborn_medical_insurance(case, task, actor):
    from tongban.exchange.registry_services import mi_enrol

    baby = _baby(case)
    if baby is not None:
        mi_enrol(actor=actor, person=baby, scheme="resident", case_id=case.pk)


def newborn_social_security_card(case, task, actor):
    from tongban.exchange.models import SocialInsuranceRecord
    from tongban.exchange.registry_services import si_card_issue, si_enrol

    baby = _baby(case)
    if baby is None:
        return
    if not SocialInsuranceRecord.objects.filter(person=baby).exists():
        si_enrol(actor=actor, person=baby, case_id=case.pk)
    record = si_card_issue(actor=actor, person=baby, case_id=case.pk)
    _issue(
        case,
        actor=actor,
        type_code="social-security-card",
        department=task.department,
        holder_person=baby,
        extra={"card_number": record.card_number, "name": baby.name, "resident_id": baby.resident_id},
    )


# --- real-estate transfer ------------------------------------------------------------------------------------


def _unit(case):
    from tongban.exchange.registry_selectors import property_unit_get

    unit = property_unit_get(case.form_data.get("property_unit", ""))
    if unit is None:
        raise ValidationError({"decision": [_("The property unit is not in the real-estate register.")]})
    return unit


def real_estate_review(case, task, actor):
    """登记审核: the seller owns the unit and it is not seized (looked up, audited, shown to the owners)."""
    from tongban.exchange import services as hub

    common = {"actor": actor, "department": task.department, "purpose": CHECK_PURPOSE, "case_id": case.pk}
    common["case_number"] = case.number
    unit_number = case.form_data.get("property_unit", "")
    owns = hub.evidence_owns_unit(
        resident_id=case.form_data.get("seller_resident_id", ""), unit_number=unit_number, **common
    )
    if not owns.holds:
        raise ValidationError(
            {"decision": [_("The register does not show the seller as the owner of this unit.")]}
        )
    free = hub.evidence_unit_free(unit_number=unit_number, **common)
    if not free.holds and free.facts.get("seized"):
        raise ValidationError({"decision": [_("The unit is seized by a court: it cannot be transferred.")]})


def real_estate_deed_tax(case, task, actor):
    from tongban.exchange.registry_services import deed_tax_record

    buyer = _person(case.form_data.get("buyer_resident_id")) or case.applicant_person
    price = Decimal(str(case.form_data.get("price") or 0))
    rate = Decimal("0.01") if case.form_data.get("buyer_first_home") else Decimal("0.03")  # 契税法: 1%–3%
    payment = deed_tax_record(
        actor=actor,
        unit=_unit(case),
        payer=buyer,
        amount=(price * rate).quantize(Decimal("0.01")),
        case_id=case.pk,
    )
    _issue(
        case,
        actor=actor,
        type_code="deed-tax-payment-certificate",
        department=task.department,
        holder_person=buyer,
        extra={"receipt_number": payment.receipt_number, "tax_amount": str(payment.amount)},
    )


def real_estate_filing(case, task, actor):
    _issue(
        case,
        actor=actor,
        type_code="housing-contract-filing",
        department=task.department,
        holder_person=_person(case.form_data.get("buyer_resident_id")) or case.applicant_person,
    )


def real_estate_registration(case, task, actor):
    """登簿: the deed tax of this case is paid (looked up), then the unit passes to the buyer."""
    from tongban.exchange import services as hub
    from tongban.exchange.registry_selectors import property_owners
    from tongban.exchange.registry_services import property_transfer

    unit = _unit(case)
    paid = hub.evidence_deed_tax_paid(
        actor=actor,
        department=task.department,
        purpose=CHECK_PURPOSE,
        case_id=case.pk,
        case_number=case.number,
        unit_number=unit.unit_number,
    )
    if not paid.holds:
        raise ValidationError({"decision": [_("The deed tax of this transfer has not been paid.")]})
    buyer = _person(case.form_data.get("buyer_resident_id")) or case.applicant_person
    owners = [o.owner_person or o.owner_organisation for o in property_owners(unit)]
    property_transfer(actor=actor, unit=unit, from_owners=owners, to_owners=[buyer], case_id=case.pk)


def real_estate_certificate(case, task, actor):
    from tongban.exchange.registry_selectors import property_unit_get

    unit = property_unit_get(case.form_data.get("property_unit", ""))
    _issue(
        case,
        actor=actor,
        type_code="real-estate-certificate",
        department=task.department,
        holder_person=_person(case.form_data.get("buyer_resident_id")) or case.applicant_person,
        extra={"certificate_number": unit.certificate_number if unit else ""},
    )


# (the item of the demo catalogue whose department takes the step, the BPMN step) → its effect. Keyed by the
# item, so a bundle built from other items (a test's, another city's) changes no registry it does not own.
EFFECTS = {
    ("birth-medical-certificate", "birth_certificate"): newborn_birth_certificate,
    ("birth-household-registration", "household_registration"): newborn_household,
    ("resident-medical-insurance", "medical_insurance"): newborn_medical_insurance,
    ("social-security-card", "social_security_card"): newborn_social_security_card,
    ("real-estate-transfer-registration", "registration_review"): real_estate_review,
    ("housing-contract-filing", "transaction_filing"): real_estate_filing,
    ("deed-tax-declaration", "deed_tax"): real_estate_deed_tax,
    ("real-estate-transfer-registration", "registration"): real_estate_registration,
    ("real-estate-transfer-registration", "certificate_issue"): real_estate_certificate,
}
EFFECT_STEPS = frozenset(step for _item, step in EFFECTS)


def effect_for(case, step: str):
    """The effect of approving ``step`` of ``case``, or None."""
    if step not in EFFECT_STEPS:
        return None
    from tongban.catalog.models import BundleItem

    if case.bundle_id:
        codes = set(BundleItem.objects.filter(bundle_id=case.bundle_id).values_list("item__code", flat=True))
    else:
        codes = {case.item.code} if case.item_id else set()
    for (item, effect_step), effect in EFFECTS.items():
        if effect_step == step and item in codes:
            return effect
    return None
