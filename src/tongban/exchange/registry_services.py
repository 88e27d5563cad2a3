"""Writes of the registries (基础库): only the owning department changes its registry.

Every service is keyword-only, atomic and takes ``actor=`` (a person's ``UserActor``, or ``SYSTEM`` for a job).
A person's actor is first checked to be staff of the registry's owner (the municipal department or one of its
district branches; a superuser passes); anyone else is refused with ``PermissionDenied``, audited as
``permission.denied`` (the check runs before the service's transaction, so the denial stays on record). The
``SYSTEM`` actor (the demo seed, a job) is not checked, nor is a case step's effect, which says
``step_checked=True``: the engine gave the step to its department, and the audit names the step's handler.

Each service validates, writes, audits (``registry.<thing>.<verb>`` actions) and emits its event in the same
transaction. Events (``subject_type``/``subject_id`` as listed) and payloads (ids as strings, dates ISO):

``household.registered``        person  {household_id, household_number, person_id, relation, district, birth}
``person.born``                 person (mother) {birth_record_id, certificate_number, mother_id, father_id,
                                baby_sex, birth_date, hospital}
``marriage.registered``         marriage {marriage_id, party_a_id, party_b_id, registered_on, office}
``marriage.dissolved``          marriage {marriage_id, party_a_id, party_b_id, dissolved_on}
``social_insurance.enrolled``   person  {person_id, employer_id, since}
``social_insurance.card_issued`` person {person_id, card_number}
``medical_insurance.enrolled``  person  {person_id, scheme, since}
``property.registered``         property_unit {unit_id, unit_number, owner_person_ids, owner_organisation_ids}
``property.transferred``        property_unit {unit_id, unit_number, from_person_ids, from_organisation_ids,
                                to_person_ids, shares, case_id, certificate_number, on}
``mortgage.registered`` / ``mortgage.released``   property_unit {mortgage_id, unit_id, unit_number}
``seizure.registered`` / ``seizure.lifted``       property_unit {seizure_id, unit_id, unit_number}
``business.registered``         organisation {organisation_id, credit_code, registered_on}
``tax.registered``              organisation|person {tax_registration_id, taxpayer_number}
``tax.filed``                   organisation {organisation_id, credit_code, quarter}
``tax.rated``                   organisation {organisation_id, credit_code, rating}
``social_insurance.employer_reported`` organisation {organisation_id, credit_code, quarter, insured}
``business.qualified``          organisation {organisation_id, credit_code, kind}
``deed_tax.paid``               property_unit {payment_id, unit_id, unit_number, payer_id, amount, case_id,
                                receipt_number}
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Sequence
from decimal import Decimal
from functools import wraps

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.core.db import fast
from tongban.core.effects import Writes
from tongban.core.events import event_emit
from tongban.core.exceptions import Conflict
from tongban.core.ids import make_resident_id
from tongban.core.models.saving import save_validated, validated
from tongban.core.transactions import service_atomic
from tongban.identity.models import AdminUnit, Household, Organisation, Person
from tongban.identity.selectors import UserActor, actor_for, staff_for
from tongban.identity.services import person_create, person_create_prepare, person_update

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

# Registry codes and their owning departments (identity.reference.MUNICIPAL_DEPARTMENTS codes).
REGISTRY_OWNERS = {
    "population": "public-security",
    "births": "health",
    "marriages": "civil-affairs",
    "social-insurance": "hrss",
    "medical-insurance": "medical-insurance",
    "real-estate": "planning-resources",
    "business": "market-regulation",
    "tax": "tax",
}

HOUSEHOLD_REGISTERED = "household.registered"
PERSON_BORN = "person.born"
MARRIAGE_REGISTERED = "marriage.registered"
MARRIAGE_DISSOLVED = "marriage.dissolved"
SOCIAL_INSURANCE_ENROLLED = "social_insurance.enrolled"
SOCIAL_INSURANCE_CARD_ISSUED = "social_insurance.card_issued"
MEDICAL_INSURANCE_ENROLLED = "medical_insurance.enrolled"
PROPERTY_REGISTERED = "property.registered"
PROPERTY_TRANSFERRED = "property.transferred"
MORTGAGE_REGISTERED = "mortgage.registered"
MORTGAGE_RELEASED = "mortgage.released"
SEIZURE_REGISTERED = "seizure.registered"
SEIZURE_LIFTED = "seizure.lifted"
BUSINESS_REGISTERED = "business.registered"
TAX_REGISTERED = "tax.registered"
TAX_FILED = "tax.filed"
TAX_RATED = "tax.rated"
EMPLOYER_REPORTED = "social_insurance.employer_reported"
BUSINESS_QUALIFIED = "business.qualified"
# The register changes that may change what an enterprise is eligible for (惠企政策 matching listens to them).
ENTERPRISE_REGISTER_EVENTS = (
    BUSINESS_REGISTERED,
    TAX_FILED,
    TAX_RATED,
    EMPLOYER_REPORTED,
    BUSINESS_QUALIFIED,
)
DEED_TAX_PAID = "deed_tax.paid"

# Legal minimum ages of marriage (《民法典》第一千零四十七条).
MARRIAGE_AGE = {"M": 22, "F": 20}
HUNDRED = Decimal("100")


# --- the owner check -----------------------------------------------------------------------------


def is_registry_staff(user, registry: str) -> bool:
    """Whether ``user`` (or a typed actor) is active staff of the registry's owner (the municipal department or a
    branch)."""
    if isinstance(user, UserActor):
        user = user.user
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    owner = REGISTRY_OWNERS[registry]
    staff = staff_for(user)
    if staff is None:
        return False
    department = staff.department
    return department.code == owner or (department.parent is not None and department.parent.code == owner)


def require_registry_staff(user, registry: str) -> None:
    """Pass for the owner's staff (``user`` is a user or a typed actor); otherwise audit ``permission.denied`` and
    raise ``PermissionDenied``."""
    if is_registry_staff(user, registry):
        return
    with transaction.atomic():
        audit_record(
            actor=user if isinstance(user, UserActor) else actor_for(user),
            action="permission.denied",
            subject_type="registry",
            subject_id=registry,
            details={"registry": registry, "owner": REGISTRY_OWNERS[registry]},
        )
    raise PermissionDenied(
        _("Only staff of %(owner)s may change this registry.") % {"owner": REGISTRY_OWNERS[registry]}
    )


def owned_by(registry: str):
    """Make a service check its ``actor`` against the registry's owner (outside its transaction), then run it."""

    def decorator(service):
        atomic_service = service_atomic(service)

        @wraps(service)
        def wrapped(*, actor: Actor, step_checked: bool = False, **kwargs):
            if actor.kind != SYSTEM.kind and not step_checked:
                require_registry_staff(actor, registry)
            return atomic_service(actor=actor, **kwargs)

        wrapped.registry = registry
        return wrapped

    return decorator


def _today() -> datetime.date:
    return timezone.localdate()


_clean_save = save_validated  # the registries' writes (one owner: core.models.saving)


def _audit(actor, action, subject_type, subject_id, case_id=None, **details):
    audit_record(**_audit_args(actor, action, subject_type, subject_id, case_id, **details))


def _audit_args(actor, action, subject_type, subject_id, case_id=None, **details) -> dict:
    return {
        "actor": actor,
        "action": action,
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        "case_id": str(case_id) if case_id else "",
        "details": details,
    }


# --- population & households (public-security) ---------------------------------------------------


def _membership_set(*, actor, household, person, relation, since, birth=False):
    if relation not in HouseholdMembership.Relation.values:
        raise ValidationError({"relation": _("Unknown relation.")})
    if (
        relation == HouseholdMembership.Relation.HEAD
        and HouseholdMembership.objects.filter(household=household, relation="head")
        .exclude(person=person)
        .exists()
    ):
        raise ValidationError({"relation": _("The household has a head already.")})
    # A person registered at birth in this transaction has no membership yet: nothing to read.
    membership = (
        None if birth else HouseholdMembership.objects.select_for_update().filter(person=person).first()
    )
    previous = membership.household_id if membership else None
    membership = membership or HouseholdMembership(person=person)
    membership.household, membership.relation, membership.since = household, relation, since or _today()
    _clean_save(membership)
    if person.household_id != household.pk or person.household_district_id != household.district_id:
        person_update(actor=actor, person=person, household=household, household_district=household.district)
    _audit(
        actor,
        "registry.household.registered",
        "person",
        person.pk,
        household=household.number,
        relation=relation,
        moved_from=str(previous) if previous and previous != household.pk else "",
    )
    event_emit(
        HOUSEHOLD_REGISTERED,
        {
            "household_id": str(household.pk),
            "household_number": household.number,
            "person_id": str(person.pk),
            "relation": relation,
            "district": household.district.code,
            "birth": birth,
        },
        subject_type="person",
        subject_id=str(person.pk),
    )
    return membership


@owned_by("population")
def household_member_register(
    *, actor: Actor, household: Household, person: Person, relation: str, since: datetime.date | None = None
) -> HouseholdMembership:
    """Register ``person`` into ``household`` (户口登记/迁入) with their relation to the head.

    A person belongs to one household: registering them elsewhere moves them. Emits ``household.registered``.
    """
    return _membership_set(actor=actor, household=household, person=person, relation=relation, since=since)


# The resident IDs of persons in a range of the unique index: not LIKE, which SQLite (case-insensitive) and
# PostgreSQL under a non-C collation cannot answer from the index (a read of every person, a city's 24 million, at
# each birth).
_RESIDENT_IDS_BETWEEN = "SELECT resident_id FROM identity_person WHERE resident_id >= %s AND resident_id < %s"


def _free_resident_id(area_code: str, birth_date: datetime.date, sex: str) -> str:
    """The first unused resident ID for an area, birth date and sex (odd sequence for men, even for women)."""
    prefix = f"{area_code}{birth_date:%Y%m%d}"
    # The prefix is 14 digits: the IDs that start with it lie between it and the next number of 14 digits.
    taken = {
        rid[14:17]
        for (rid,) in fast.fetchall(_RESIDENT_IDS_BETWEEN, [prefix, f"{int(prefix) + 1:0{len(prefix)}d}"])
    }
    for sequence in range(1 if sex == "M" else 2, 1000, 2):
        if f"{sequence:03d}" not in taken:
            return make_resident_id(area_code, birth_date, sequence)
    raise Conflict(_("No resident ID number is free for this area and birth date."))


@owned_by("population")
def household_birth_register(
    *,
    actor: Actor,
    household: Household,
    birth_record: BirthRecord,
    name: str | None = None,
    relation: str = HouseholdMembership.Relation.CHILD,
    resident_id: str | None = None,
    since: datetime.date | None = None,
) -> Person:
    """出生登记: give the baby of ``birth_record`` a resident ID and register it into ``household``.

    Creates the Person (``identity.services.person_create``, which emits ``person.registered``), links it to the
    birth record and registers the membership (``household.registered`` with ``birth: true``). The resident ID
    is the first free one of the household's district for the birth date and sex, unless given. A birth
    record is registered once (409 otherwise).
    """
    record = fast.first(BirthRecord, "t.id = %s", [fast.prep(BirthRecord, "id", birth_record.pk)], lock=True)
    if record is None:
        raise BirthRecord.DoesNotExist("BirthRecord matching query does not exist.")
    if record.baby_id is not None:
        raise Conflict(_("This birth is registered in a household already."))
    district = household.district
    person = person_create(
        actor=actor,
        resident_id=resident_id or _free_resident_id(district.code, record.birth_date, record.baby_sex),
        name=(name or record.baby_name),
        sex=record.baby_sex,
        birth_date=record.birth_date,
        household_district=district,
        household=household,
    )
    record.baby, record.updated_at = person, timezone.now()
    fast.execute(  # record.save(update_fields=["baby", "updated_at"]), hand-written
        "UPDATE exchange_birthrecord SET baby_id = %s, updated_at = %s WHERE id = %s",
        [
            fast.prep(BirthRecord, "baby", person.pk),
            fast.prep(BirthRecord, "updated_at", record.updated_at),
            fast.prep(BirthRecord, "id", record.pk),
        ],
    )
    birth_record.baby = person
    _membership_set(
        actor=actor,
        household=household,
        person=person,
        relation=relation,
        since=since or _today(),
        birth=True,
    )
    return person


def household_birth_prepare(
    *, actor: Actor, household: Household, birth_record: BirthRecord, mother: Person, mother_member: bool
) -> Writes:
    """``household_birth_register`` of a newborn (relation child, since today) for a case step, prepared before its
    transaction (``core.effects``): the resident ID drawn, the person and membership validated now; under the
    lock, one UPDATE links the record to the baby only if the record is still unregistered, still the mother's
    latest of that name, and the mother still in ``household`` (``mother_member``: by her membership; else still
    without one and ``household`` still her person row's), and the INSERTs' unique resident ID catches a number
    taken meanwhile."""
    if birth_record.baby_id is not None:
        raise Conflict(_("This birth is registered in a household already."))
    district = household.district
    person, person_audit, person_event = person_create_prepare(
        actor=actor,
        resident_id=_free_resident_id(district.code, birth_record.birth_date, birth_record.baby_sex),
        name=birth_record.baby_name,
        sex=birth_record.baby_sex,
        birth_date=birth_record.birth_date,
        household_district=district,
        household=household,
    )
    since = _today()
    membership = validated(
        HouseholdMembership(
            person=person, household=household, relation=HouseholdMembership.Relation.CHILD, since=since
        )
    )
    member_params = [fast.prep(HouseholdMembership, "person", mother.pk)]
    if mother_member:
        member = "EXISTS (SELECT 1 FROM exchange_householdmembership m WHERE m.person_id = %s AND m.household_id = %s)"
        member_params.append(fast.prep(HouseholdMembership, "household", household.pk))
    else:  # the household of her person row, and still no membership
        member = (
            "NOT EXISTS (SELECT 1 FROM exchange_householdmembership m WHERE m.person_id = %s) "
            "AND EXISTS (SELECT 1 FROM identity_person p WHERE p.id = %s AND p.household_id = %s)"
        )
        member_params += [fast.prep(Person, "id", mother.pk), fast.prep(Person, "household", household.pk)]
    link = (
        "UPDATE exchange_birthrecord SET baby_id = %s, updated_at = %s WHERE id = %s AND baby_id IS NULL "  # noqa: S608
        "AND NOT EXISTS (SELECT 1 FROM exchange_birthrecord n WHERE n.mother_id = %s AND n.baby_name = %s "
        f"AND n.baby_id IS NULL AND n.recorded_at > %s) AND {member}",
        [
            fast.prep(BirthRecord, "baby", person.pk),
            fast.prep(BirthRecord, "updated_at", timezone.now()),
            fast.prep(BirthRecord, "id", birth_record.pk),
            fast.prep(BirthRecord, "mother", mother.pk),
            birth_record.baby_name,
            fast.prep(BirthRecord, "recorded_at", birth_record.recorded_at),
            *member_params,
        ],
        1,
    )
    return Writes(
        checks=[link],
        rows=[person, membership],
        audits=[
            person_audit,
            _audit_args(
                actor,
                "registry.household.registered",
                "person",
                person.pk,
                household=household.number,
                relation=HouseholdMembership.Relation.CHILD,
                moved_from="",
            ),
        ],
        events=[
            person_event,
            (
                HOUSEHOLD_REGISTERED,
                {
                    "household_id": str(household.pk),
                    "household_number": household.number,
                    "person_id": str(person.pk),
                    "relation": HouseholdMembership.Relation.CHILD,
                    "district": district.code,
                    "birth": True,
                },
                "person",
                str(person.pk),
            ),
        ],
        values={"person": person},
    )


# --- births (health) -----------------------------------------------------------------------------


def _new_birth_certificate_number() -> str:
    while True:
        number = f"T{secrets.randbelow(10**9):09d}"
        if not fast.exists("SELECT 1 FROM exchange_birthrecord WHERE certificate_number = %s", [number]):
            return number


@owned_by("births")
def birth_record_create(
    *,
    actor: Actor,
    baby_name: str,
    baby_sex: str,
    birth_date: datetime.date,
    weight_g: int,
    hospital: str,
    mother: Person,
    father: Person | None = None,
    birth_time: datetime.time | None = None,
    certificate_number: str | None = None,
    recorded_at: datetime.datetime | None = None,
    case_id=None,
) -> BirthRecord:
    """Record a birth and issue its birth medical certificate number (出生医学证明). Emits ``person.born``."""
    record, audit, event = _birth_record_parts(
        actor=actor,
        baby_name=baby_name,
        baby_sex=baby_sex,
        birth_date=birth_date,
        weight_g=weight_g,
        hospital=hospital,
        mother=mother,
        father=father,
        birth_time=birth_time,
        certificate_number=certificate_number,
        recorded_at=recorded_at,
        case_id=case_id,
    )
    _clean_save(record)
    audit_record(**audit)
    event_emit(event[0], event[1], subject_type=event[2], subject_id=event[3])
    return record


def _birth_record_parts(
    *,
    actor,
    baby_name,
    baby_sex,
    birth_date,
    weight_g,
    hospital,
    mother,
    father,
    case_id,
    birth_time=None,
    certificate_number=None,
    recorded_at=None,
) -> tuple[BirthRecord, dict, tuple]:
    """The birth record (not saved), its audit entry's arguments and its event (see ``birth_record_create``)."""
    if mother.sex != Person.Sex.FEMALE:
        raise ValidationError({"mother": _("The mother must be a woman.")})
    if birth_date > _today():
        raise ValidationError({"birth_date": _("The birth date is in the future.")})
    record = BirthRecord(
        certificate_number=(certificate_number or _new_birth_certificate_number()).strip().upper(),
        baby_name=(baby_name or "").strip(),
        baby_sex=baby_sex,
        birth_date=birth_date,
        birth_time=birth_time,
        weight_g=weight_g,
        hospital=(hospital or "").strip(),
        mother=mother,
        father=father,
        recorded_at=recorded_at or timezone.now(),
    )
    audit = _audit_args(
        actor,
        "registry.birth.recorded",
        "person",
        mother.pk,
        case_id=case_id,
        certificate_number=record.certificate_number,
    )
    event = (
        PERSON_BORN,
        {
            "birth_record_id": str(record.pk),
            "certificate_number": record.certificate_number,
            "mother_id": str(mother.pk),
            "father_id": str(father.pk) if father else None,
            "baby_sex": record.baby_sex,
            "birth_date": record.birth_date.isoformat(),
            "hospital": record.hospital,
        },
        "person",
        str(mother.pk),
    )
    return record, audit, event


def birth_record_prepare(
    *,
    actor: Actor,
    baby_name: str,
    baby_sex: str,
    birth_date: datetime.date,
    weight_g: int,
    hospital: str,
    mother: Person,
    father: Person | None = None,
    case_id=None,
) -> Writes:
    """``birth_record_create`` for a case step, prepared before its transaction (``core.effects``): the number
    drawn and the record validated now, inserted under the lock (its unique number catching a clash)."""
    record, audit, event = _birth_record_parts(
        actor=actor,
        baby_name=baby_name,
        baby_sex=baby_sex,
        birth_date=birth_date,
        weight_g=weight_g,
        hospital=hospital,
        mother=mother,
        father=father,
        case_id=case_id,
    )
    return Writes(rows=[validated(record)], audits=[audit], events=[event], values={"record": record})


# --- marriages (civil-affairs) -------------------------------------------------------------------


def _age_on(person: Person, day: datetime.date) -> int:
    born = person.birth_date
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _is_married(person: Person) -> bool:
    return (
        MarriageRecord.objects.filter(party_a=person, status="married").exists()
        or MarriageRecord.objects.filter(party_b=person, status="married").exists()
    )


@owned_by("marriages")
def marriage_register(
    *,
    actor: Actor,
    party_a: Person,
    party_b: Person,
    office: AdminUnit,
    registered_on: datetime.date | None = None,
    certificate_number: str | None = None,
) -> MarriageRecord:
    """结婚登记: neither party may be married already, and each must have reached the legal age.

    Emits ``marriage.registered``.
    """
    registered_on = registered_on or _today()
    if party_a.pk == party_b.pk:
        raise ValidationError({"party_b": _("A person cannot marry themselves.")})
    errors = {}
    for key, party in (("party_a", party_a), ("party_b", party_b)):
        if _age_on(party, registered_on) < MARRIAGE_AGE[party.sex]:
            errors[key] = _("%(name)s has not reached the legal age of marriage.") % {"name": party.name}
        elif _is_married(party):
            errors[key] = _("%(name)s is married already.") % {"name": party.name}
    if errors:
        raise ValidationError(errors)
    if certificate_number is None:
        certificate_number = f"J{office.code}-{registered_on.year}-T{secrets.randbelow(10**7):07d}"
    marriage = _clean_save(
        MarriageRecord(
            party_a=party_a,
            party_b=party_b,
            office=office,
            registered_on=registered_on,
            certificate_number=certificate_number,
        )
    )
    _audit(
        actor, "registry.marriage.registered", "marriage", marriage.pk, certificate_number=certificate_number
    )
    event_emit(
        MARRIAGE_REGISTERED,
        {
            "marriage_id": str(marriage.pk),
            "party_a_id": str(party_a.pk),
            "party_b_id": str(party_b.pk),
            "registered_on": registered_on.isoformat(),
            "office": office.code,
        },
        subject_type="marriage",
        subject_id=str(marriage.pk),
    )
    return marriage


@owned_by("marriages")
def marriage_dissolve(
    *, actor: Actor, marriage: MarriageRecord, dissolved_on: datetime.date | None = None
) -> MarriageRecord:
    """离婚登记: end a marriage. Emits ``marriage.dissolved``."""
    marriage = MarriageRecord.objects.select_for_update().get(pk=marriage.pk)
    if marriage.status != MarriageRecord.Status.MARRIED:
        raise Conflict(_("This marriage is dissolved already."))
    dissolved_on = dissolved_on or _today()
    if dissolved_on < marriage.registered_on:
        raise ValidationError({"dissolved_on": _("A marriage cannot end before it was registered.")})
    marriage.status, marriage.dissolved_on = MarriageRecord.Status.DIVORCED, dissolved_on
    _clean_save(marriage)
    _audit(actor, "registry.marriage.dissolved", "marriage", marriage.pk)
    event_emit(
        MARRIAGE_DISSOLVED,
        {
            "marriage_id": str(marriage.pk),
            "party_a_id": str(marriage.party_a_id),
            "party_b_id": str(marriage.party_b_id),
            "dissolved_on": dissolved_on.isoformat(),
        },
        subject_type="marriage",
        subject_id=str(marriage.pk),
    )
    return marriage


# --- social and medical insurance (hrss, medical-insurance) --------------------------------------


@owned_by("social-insurance")
def si_enrol(
    *,
    actor: Actor,
    person: Person,
    employer: Organisation | None = None,
    since: datetime.date | None = None,
    case_id=None,
) -> SocialInsuranceRecord:
    """社保参保登记: enrol a person (with an employer, or as a resident without one), or re-activate them.

    Emits ``social_insurance.enrolled``.
    """
    record = SocialInsuranceRecord.objects.select_for_update().filter(person=person).first()
    if (
        record is not None
        and record.status == SocialInsuranceRecord.Status.ACTIVE
        and record.employer_id == (employer.pk if employer else None)
    ):
        raise Conflict(_("This person is enrolled already."))
    return _si_enrolled(
        actor=actor, person=person, record=record, employer=employer, since=since, case_id=case_id
    )


def _si_enrolled(*, actor, person, record, employer, since, case_id, card=None) -> SocialInsuranceRecord:
    """Enrol ``person`` whose record (locked, or None) was read by the caller; ``card``: (number, issued on) to
    write with the enrolment (a newborn enrolled and given a card at once: one INSERT, not an INSERT and an UPDATE)."""
    since = since or _today()
    record = record or SocialInsuranceRecord(person=person)
    record.employer, record.status, record.since = employer, SocialInsuranceRecord.Status.ACTIVE, since
    if card is not None:
        record.card_number, record.card_issued_on = card
    _clean_save(record)
    _audit(
        actor,
        "registry.social_insurance.enrolled",
        "person",
        person.pk,
        case_id=case_id,
        employer=str(employer.pk) if employer else "",
    )
    event_emit(
        SOCIAL_INSURANCE_ENROLLED,
        {
            "person_id": str(person.pk),
            "employer_id": str(employer.pk) if employer else None,
            "since": since.isoformat(),
        },
        subject_type="person",
        subject_id=str(person.pk),
    )
    return record


@owned_by("social-insurance")
def si_card_issue(
    *, actor: Actor, person: Person, card_number: str | None = None, case_id=None, enrol: bool = False
) -> SocialInsuranceRecord:
    """社会保障卡申领: issue (or re-issue) the card of an enrolled person. Emits ``social_insurance.card_issued``.

    With ``enrol``, a person who has no record yet (a newborn) is enrolled first as a resident (``si_enrol``'s
    entry and event), in the same call.
    """
    record = fast.first(
        SocialInsuranceRecord,
        "t.person_id = %s",
        [fast.prep(SocialInsuranceRecord, "person", person.pk)],
        lock=True,
    )
    enrolling = record is None and enrol
    if not enrolling and (record is None or record.status == SocialInsuranceRecord.Status.ENDED):
        raise ValidationError({"person": _("This person is not enrolled in social insurance.")})
    if card_number is None:
        card_number = _free_card_number()
    if enrolling:  # enrolled with the card in one write (the enrolment's entry and event as si_enrol's)
        record = _si_enrolled(
            actor=actor,
            person=person,
            record=None,
            employer=None,
            since=None,
            case_id=case_id,
            card=(card_number, _today()),
        )
    else:
        record.card_number, record.card_issued_on = card_number, _today()
        _clean_save(record)
    _audit(actor, "registry.social_insurance.card_issued", "person", person.pk, case_id=case_id)
    event_emit(
        SOCIAL_INSURANCE_CARD_ISSUED,
        {"person_id": str(person.pk), "card_number": card_number},
        subject_type="person",
        subject_id=str(person.pk),
    )
    return record


@owned_by("medical-insurance")
def mi_enrol(
    *, actor: Actor, person: Person, scheme: str, since: datetime.date | None = None, case_id=None
) -> MedicalInsuranceRecord:
    """医保参保登记 (employee or resident scheme), or a change of scheme. Emits ``medical_insurance.enrolled``."""
    since = since or _today()
    record = fast.first(
        MedicalInsuranceRecord,
        "t.person_id = %s",
        [fast.prep(MedicalInsuranceRecord, "person", person.pk)],
        lock=True,
    )
    if record is not None and record.status == "active" and record.scheme == scheme:
        raise Conflict(_("This person is enrolled in this scheme already."))
    record = record or MedicalInsuranceRecord(person=person)
    record.scheme, record.status, record.since = scheme, MedicalInsuranceRecord.Status.ACTIVE, since
    _clean_save(record)
    _audit(actor, "registry.medical_insurance.enrolled", "person", person.pk, case_id=case_id, scheme=scheme)
    event_emit(
        MEDICAL_INSURANCE_ENROLLED,
        {"person_id": str(person.pk), "scheme": scheme, "since": since.isoformat()},
        subject_type="person",
        subject_id=str(person.pk),
    )
    return record


def si_enrol_and_card_prepare(*, actor: Actor, person: Person, case_id=None) -> Writes | None:
    """``si_card_issue(enrol=True)`` of a person without a social-insurance record (a newborn) for a case step,
    prepared before its transaction (``core.effects``): the card number drawn and the record validated now,
    inserted under the lock, where the person's unique record and the unique card number catch an enrolment or
    a number taken meanwhile. None for a person who has a record (``si_card_issue`` then runs under the lock)."""
    if fast.exists(
        "SELECT 1 FROM exchange_socialinsurancerecord WHERE person_id = %s",
        [fast.prep(SocialInsuranceRecord, "person", person.pk)],
    ):
        return None
    card_number = _free_card_number()
    since = _today()
    record = SocialInsuranceRecord(
        person=person,
        employer=None,
        status=SocialInsuranceRecord.Status.ACTIVE,
        since=since,
        card_number=card_number,
        card_issued_on=since,
    )
    return Writes(
        rows=[validated(record)],
        audits=[
            _audit_args(
                actor, "registry.social_insurance.enrolled", "person", person.pk, case_id=case_id, employer=""
            ),
            _audit_args(actor, "registry.social_insurance.card_issued", "person", person.pk, case_id=case_id),
        ],
        events=[
            (
                SOCIAL_INSURANCE_ENROLLED,
                {"person_id": str(person.pk), "employer_id": None, "since": since.isoformat()},
                "person",
                str(person.pk),
            ),
            (
                SOCIAL_INSURANCE_CARD_ISSUED,
                {"person_id": str(person.pk), "card_number": card_number},
                "person",
                str(person.pk),
            ),
        ],
        values={"record": record},
    )


def mi_enrol_prepare(*, actor: Actor, person: Person, scheme: str, case_id=None) -> Writes | None:
    """``mi_enrol`` of a person without a medical-insurance record (a newborn) for a case step, prepared before its
    transaction (``core.effects``): inserted under the lock, where the person's unique record catches an enrolment
    made meanwhile. None for a person who has a record (``mi_enrol`` then runs under the lock)."""
    if fast.exists(
        "SELECT 1 FROM exchange_medicalinsurancerecord WHERE person_id = %s",
        [fast.prep(MedicalInsuranceRecord, "person", person.pk)],
    ):
        return None
    since = _today()
    record = MedicalInsuranceRecord(
        person=person, scheme=scheme, status=MedicalInsuranceRecord.Status.ACTIVE, since=since
    )
    return Writes(
        rows=[validated(record)],
        audits=[
            _audit_args(
                actor,
                "registry.medical_insurance.enrolled",
                "person",
                person.pk,
                case_id=case_id,
                scheme=scheme,
            )
        ],
        events=[
            (
                MEDICAL_INSURANCE_ENROLLED,
                {"person_id": str(person.pk), "scheme": scheme, "since": since.isoformat()},
                "person",
                str(person.pk),
            )
        ],
        values={"record": record},
    )


def _free_card_number() -> str:
    while True:
        card_number = f"T{secrets.randbelow(10**8):08d}"
        if not fast.exists(
            "SELECT 1 FROM exchange_socialinsurancerecord WHERE card_number = %s", [card_number]
        ):
            return card_number


# --- real estate (planning-resources) ------------------------------------------------------------

DISTRICT_ABBREVIATIONS = {
    "310101": "黄", "310104": "徐", "310105": "长", "310106": "静", "310107": "普", "310109": "虹",
    "310110": "杨", "310112": "闵", "310113": "宝", "310114": "嘉", "310115": "浦", "310116": "金",
    "310117": "松", "310118": "青", "310120": "奉", "310151": "崇",
}  # fmt: skip


def property_certificate_number(district_code: str, year: int, serial: int) -> str:
    """不动产权证书号: ``沪(2026)黄字不动产权第0012345号``."""
    return f"沪({year}){DISTRICT_ABBREVIATIONS.get(district_code, '沪')}字不动产权第{serial:07d}号"


def _new_certificate_number(unit: PropertyUnit, on: datetime.date) -> str:
    while True:
        number = property_certificate_number(
            unit.district.code, on.year, 9_000_000 + secrets.randbelow(10**6)
        )
        if not PropertyUnit.objects.filter(certificate_number=number).exists():
            return number


def _shares(owners: Sequence, shares: Sequence | None) -> list[Decimal]:
    if not owners:
        raise ValidationError({"owners": _("Name at least one owner.")})
    if shares is None:
        base = (HUNDRED / len(owners)).quantize(Decimal("0.01"))
        shares = [base] * (len(owners) - 1) + [HUNDRED - base * (len(owners) - 1)]
    shares = [Decimal(str(s)) for s in shares]
    if len(shares) != len(owners) or any(s <= 0 for s in shares) or sum(shares) != HUNDRED:
        raise ValidationError({"shares": _("Give one positive share per owner; the shares add up to 100.")})
    return shares


def _ownership(unit, owner, share, since, case_id=None):
    is_person = isinstance(owner, Person)
    return PropertyOwnership(
        unit=unit,
        owner_person=owner if is_person else None,
        owner_organisation=None if is_person else owner,
        share=share,
        since=since,
        case_id=case_id,
    )


@owned_by("real-estate")
def property_unit_register(
    *,
    actor: Actor,
    unit_number: str,
    district: AdminUnit,
    address: str,
    floor_area: Decimal,
    owners: Sequence[Person | Organisation],
    shares: Sequence | None = None,
    use: str = PropertyUnit.Use.RESIDENTIAL,
    since: datetime.date | None = None,
    certificate_number: str | None = None,
) -> PropertyUnit:
    """首次登记: register a unit with its owners (equal shares unless given). Emits ``property.registered``."""
    since = since or _today()
    shares = _shares(owners, shares)
    unit = PropertyUnit(
        unit_number=(unit_number or "").strip().upper(),
        district=district,
        address=(address or "").strip(),
        use=use,
        floor_area=floor_area,
    )
    unit.certificate_number = certificate_number or _new_certificate_number(unit, since)
    _clean_save(unit)
    rows = [_ownership(unit, owner, share, since) for owner, share in zip(owners, shares, strict=True)]
    for row in rows:
        row.full_clean()
    PropertyOwnership.objects.bulk_create(rows)
    _audit(actor, "registry.property.registered", "property_unit", unit.unit_number)
    event_emit(
        PROPERTY_REGISTERED,
        {
            "unit_id": str(unit.pk),
            "unit_number": unit.unit_number,
            "owner_person_ids": [str(o.pk) for o in owners if isinstance(o, Person)],
            "owner_organisation_ids": [str(o.pk) for o in owners if isinstance(o, Organisation)],
        },
        subject_type="property_unit",
        subject_id=unit.unit_number,
    )
    return unit


def _owner_key(owner) -> tuple[str, str]:
    return ("person" if isinstance(owner, Person) else "organisation", str(owner.pk))


@owned_by("real-estate")
def property_transfer(
    *,
    actor: Actor,
    unit: PropertyUnit,
    from_owners: Sequence[Person | Organisation],
    to_owners: Sequence[Person | Organisation],
    shares: Sequence | None = None,
    case_id=None,
    on: datetime.date | None = None,
    certificate_number: str | None = None,
) -> list[PropertyOwnership]:
    """转移登记: end the current ownerships of ``unit`` and register ``to_owners`` with ``shares``.

    ``from_owners`` must be exactly the current owners (a stale page or a wrong seller is refused: 400). A seized
    unit cannot be transferred (409); a mortgaged one can (带押过户), the mortgage stays on the unit. A new
    certificate number is issued. Emits ``property.transferred``; returns the new ownerships.
    """
    on = on or _today()
    unit = PropertyUnit.objects.select_for_update().select_related("district").get(pk=unit.pk)
    if Seizure.objects.filter(unit=unit, lifted_on__isnull=True).exists():
        raise Conflict(_("The unit is seized by a court and cannot be transferred."))
    current = list(PropertyOwnership.objects.filter(unit=unit, ended_at__isnull=True))
    current_keys = {
        ("person", str(o.owner_person_id))
        if o.owner_person_id
        else ("organisation", str(o.owner_organisation_id))
        for o in current
    }
    if not current or current_keys != {_owner_key(o) for o in from_owners}:
        raise ValidationError({"from_owners": _("The sellers are not the current owners of this unit.")})
    shares = _shares(to_owners, shares)
    if len({_owner_key(o) for o in to_owners}) != len(to_owners):
        raise ValidationError({"to_owners": _("Each new owner is named once.")})
    if any(o.since > on for o in current):
        raise ValidationError({"on": _("The transfer date is before the current owners acquired the unit.")})
    PropertyOwnership.objects.filter(pk__in=[o.pk for o in current]).update(
        ended_at=on, updated_at=timezone.now()
    )
    rows = [
        _ownership(unit, owner, share, on, case_id) for owner, share in zip(to_owners, shares, strict=True)
    ]
    for row in rows:
        row.full_clean()
    PropertyOwnership.objects.bulk_create(rows)
    unit.certificate_number = certificate_number or _new_certificate_number(unit, on)
    unit.save(update_fields=["certificate_number", "updated_at"])
    _audit(
        actor,
        "registry.property.transferred",
        "property_unit",
        unit.unit_number,
        case_id=case_id,
        certificate_number=unit.certificate_number,
    )
    event_emit(
        PROPERTY_TRANSFERRED,
        {
            "unit_id": str(unit.pk),
            "unit_number": unit.unit_number,
            "from_person_ids": [str(o.owner_person_id) for o in current if o.owner_person_id],
            "from_organisation_ids": [
                str(o.owner_organisation_id) for o in current if o.owner_organisation_id
            ],
            "to_person_ids": [str(o.pk) for o in to_owners if isinstance(o, Person)],
            "to_organisation_ids": [str(o.pk) for o in to_owners if isinstance(o, Organisation)],
            "shares": [str(s) for s in shares],
            "case_id": str(case_id) if case_id else None,
            "certificate_number": unit.certificate_number,
            "on": on.isoformat(),
        },
        subject_type="property_unit",
        subject_id=unit.unit_number,
    )
    return rows


def _encumbrance_event(name, action, actor, obj, key, case_id=None):
    _audit(actor, action, "property_unit", obj.unit.unit_number, case_id=case_id, **{key: str(obj.pk)})
    event_emit(
        name,
        {key: str(obj.pk), "unit_id": str(obj.unit_id), "unit_number": obj.unit.unit_number},
        subject_type="property_unit",
        subject_id=obj.unit.unit_number,
    )


@owned_by("real-estate")
def mortgage_register(
    *,
    actor: Actor,
    unit: PropertyUnit,
    creditor: str,
    amount: Decimal,
    registered_on: datetime.date | None = None,
    case_id=None,
) -> Mortgage:
    """抵押权登记. Emits ``mortgage.registered``."""
    mortgage = _clean_save(
        Mortgage(
            unit=unit,
            creditor=(creditor or "").strip(),
            amount=amount,
            registered_on=registered_on or _today(),
        )
    )
    _encumbrance_event(
        MORTGAGE_REGISTERED, "registry.mortgage.registered", actor, mortgage, "mortgage_id", case_id
    )
    return mortgage


@owned_by("real-estate")
def mortgage_release(
    *, actor: Actor, mortgage: Mortgage, released_on: datetime.date | None = None, case_id=None
) -> Mortgage:
    """抵押权注销登记. Emits ``mortgage.released``."""
    mortgage = Mortgage.objects.select_for_update().select_related("unit").get(pk=mortgage.pk)
    if mortgage.released_on is not None:
        raise Conflict(_("This mortgage is released already."))
    mortgage.released_on = released_on or _today()
    _clean_save(mortgage)
    _encumbrance_event(
        MORTGAGE_RELEASED, "registry.mortgage.released", actor, mortgage, "mortgage_id", case_id
    )
    return mortgage


@owned_by("real-estate")
def seizure_register(
    *,
    actor: Actor,
    unit: PropertyUnit,
    court: str,
    reference: str = "",
    ordered_on: datetime.date | None = None,
) -> Seizure:
    """查封登记 at a court's order. Emits ``seizure.registered``."""
    seizure = _clean_save(
        Seizure(
            unit=unit, court=(court or "").strip(), reference=reference, ordered_on=ordered_on or _today()
        )
    )
    _encumbrance_event(SEIZURE_REGISTERED, "registry.seizure.registered", actor, seizure, "seizure_id")
    return seizure


@owned_by("real-estate")
def seizure_lift(*, actor: Actor, seizure: Seizure, lifted_on: datetime.date | None = None) -> Seizure:
    """解封登记. Emits ``seizure.lifted``."""
    seizure = Seizure.objects.select_for_update().select_related("unit").get(pk=seizure.pk)
    if seizure.lifted_on is not None:
        raise Conflict(_("This seizure is lifted already."))
    seizure.lifted_on = lifted_on or _today()
    _clean_save(seizure)
    _encumbrance_event(SEIZURE_LIFTED, "registry.seizure.lifted", actor, seizure, "seizure_id")
    return seizure


# --- business register (market-regulation) -------------------------------------------------------


@owned_by("business")
def business_register(
    *,
    actor: Actor,
    organisation: Organisation,
    business_scope: str,
    registered_capital: Decimal = Decimal("0"),
    registered_on: datetime.date | None = None,
    industry_code: str = "",
    case_id=None,
) -> BusinessRegistration:
    """设立登记: register an organisation as a market entity. Emits ``business.registered``."""
    if BusinessRegistration.objects.filter(organisation=organisation).exists():
        raise Conflict(_("This organisation is registered already."))
    registration = _clean_save(
        BusinessRegistration(
            organisation=organisation,
            business_scope=(business_scope or "").strip(),
            registered_capital=registered_capital,
            registered_on=registered_on or _today(),
            industry_code=(industry_code or "").strip().upper(),
        )
    )
    _audit(actor, "registry.business.registered", "organisation", organisation.pk, case_id=case_id)
    event_emit(
        BUSINESS_REGISTERED,
        {
            "organisation_id": str(organisation.pk),
            "credit_code": organisation.credit_code,
            "registered_on": registration.registered_on.isoformat(),
        },
        subject_type="organisation",
        subject_id=str(organisation.pk),
    )
    return registration


# --- tax (tax) -----------------------------------------------------------------------------------


@owned_by("tax")
def tax_register(
    *,
    actor: Actor,
    organisation: Organisation | None = None,
    person: Person | None = None,
    registered_on: datetime.date | None = None,
) -> TaxRegistration:
    """税务登记 of an organisation (taxpayer number = credit code) or a person (= resident ID).

    Emits ``tax.registered``.
    """
    if (organisation is None) == (person is None):
        raise ValidationError(_("Register either an organisation or a person."))
    taxpayer = organisation or person
    number = organisation.credit_code if organisation else person.resident_id
    if TaxRegistration.objects.filter(taxpayer_number=number).exists():
        raise Conflict(_("This taxpayer is registered already."))
    registration = _clean_save(
        TaxRegistration(
            organisation=organisation,
            person=person,
            taxpayer_number=number,
            registered_on=registered_on or _today(),
        )
    )
    subject_type = "organisation" if organisation else "person"
    _audit(actor, "registry.tax.registered", subject_type, taxpayer.pk)
    event_emit(
        TAX_REGISTERED,
        {"tax_registration_id": str(registration.pk), "taxpayer_number": number},
        subject_type=subject_type,
        subject_id=str(taxpayer.pk),
    )
    return registration


def _new_receipt_number(on: datetime.date) -> str:
    while True:
        number = f"{on.year}31{secrets.randbelow(10**12):012d}T"
        if not DeedTaxPayment.objects.filter(receipt_number=number).exists():
            return number


@owned_by("tax")
def deed_tax_record(
    *,
    actor: Actor,
    unit: PropertyUnit,
    payer: Person,
    amount: Decimal,
    case_id=None,
    paid_on: datetime.date | None = None,
    receipt_number: str | None = None,
) -> DeedTaxPayment:
    """契税缴纳: record the deed tax a buyer paid for ``unit`` (for the case ``case_id``) and its receipt.

    One payment per case and payer (a second is a 409). Emits ``deed_tax.paid``.
    """
    paid_on = paid_on or _today()
    if case_id and DeedTaxPayment.objects.filter(case_id=case_id, payer=payer, unit=unit).exists():
        raise Conflict(_("Deed tax for this case is paid already."))
    payment = _clean_save(
        DeedTaxPayment(
            unit=unit,
            payer=payer,
            amount=Decimal(str(amount)),
            paid_on=paid_on,
            case_id=case_id,
            receipt_number=receipt_number or _new_receipt_number(paid_on),
        )
    )
    _audit(
        actor,
        "registry.deed_tax.paid",
        "property_unit",
        unit.unit_number,
        case_id=case_id,
        receipt_number=payment.receipt_number,
    )
    event_emit(
        DEED_TAX_PAID,
        {
            "payment_id": str(payment.pk),
            "unit_id": str(unit.pk),
            "unit_number": unit.unit_number,
            "payer_id": str(payer.pk),
            "amount": str(payment.amount),
            "case_id": str(case_id) if case_id else None,
            "receipt_number": payment.receipt_number,
        },
        subject_type="property_unit",
        subject_id=unit.unit_number,
    )
    return payment


# --- enterprise figures: head-count (hrss), quarterly filings and credit rating (tax), qualifications ----------


def _enterprise_event(name, organisation, **payload):
    event_emit(
        name,
        {"organisation_id": str(organisation.pk), "credit_code": organisation.credit_code, **payload},
        subject_type="organisation",
        subject_id=str(organisation.pk),
    )


@owned_by("social-insurance")
def employer_quarter_report(
    *, actor: Actor, organisation: Organisation, quarter: datetime.date, insured: int
) -> EmployerQuarterHeadcount:
    """单位参保人数: the number of people an employer insured in a quarter (a correction replaces the figure).
    Emits ``social_insurance.employer_reported``."""
    row = EmployerQuarterHeadcount.objects.filter(organisation=organisation, quarter=quarter).first()
    row = row or EmployerQuarterHeadcount(organisation=organisation, quarter=quarter)
    row.insured = insured
    _clean_save(row)
    _audit(actor, "registry.headcount.reported", "organisation", organisation.pk, quarter=quarter.isoformat())
    _enterprise_event(EMPLOYER_REPORTED, organisation, quarter=quarter.isoformat(), insured=insured)
    return row


@owned_by("tax")
def tax_quarter_file(
    *, actor: Actor, organisation: Organisation, quarter: datetime.date, revenue: Decimal, tax_paid: Decimal
) -> TaxQuarterFiling:
    """季度纳税申报: an enterprise's revenue and tax paid in a quarter (10,000 CNY). Emits ``tax.filed``."""
    row = TaxQuarterFiling.objects.filter(organisation=organisation, quarter=quarter).first()
    row = row or TaxQuarterFiling(organisation=organisation, quarter=quarter)
    row.revenue, row.tax_paid = Decimal(revenue), Decimal(tax_paid)
    _clean_save(row)
    _audit(actor, "registry.tax.filed", "organisation", organisation.pk, quarter=quarter.isoformat())
    _enterprise_event(TAX_FILED, organisation, quarter=quarter.isoformat())
    return row


@owned_by("tax")
def tax_credit_rate(*, actor: Actor, organisation: Organisation, rating: str) -> TaxRegistration:
    """纳税信用评价: set the organisation's tax credit rating (A, B, M, C or D). Emits ``tax.rated``."""
    registration = TaxRegistration.objects.filter(organisation=organisation).first()
    if registration is None:
        raise ValidationError({"organisation": _("This organisation is not registered for tax.")})
    registration.credit_rating = (rating or "").strip().upper()
    _clean_save(registration)
    _audit(actor, "registry.tax.rated", "organisation", organisation.pk, rating=registration.credit_rating)
    _enterprise_event(TAX_RATED, organisation, rating=registration.credit_rating)
    return registration


@owned_by("business")
def qualification_record(
    *, actor: Actor, organisation: Organisation, kind: str, number: str, valid_until: datetime.date
) -> EnterpriseQualification:
    """企业资质认定: record (or renew) a qualification the enterprise holds. Emits ``business.qualified``."""
    row = EnterpriseQualification.objects.filter(organisation=organisation, kind=kind).first()
    row = row or EnterpriseQualification(organisation=organisation, kind=kind)
    row.number, row.valid_until = (number or "").strip(), valid_until
    _clean_save(row)
    _audit(actor, "registry.qualification.recorded", "organisation", organisation.pk, kind=kind)
    _enterprise_event(BUSINESS_QUALIFIED, organisation, kind=kind)
    return row
