"""Writes of identity: persons, organisations, users, staff, departments and second-factor devices.

Each service is atomic and keyword-only, takes the acting ``actor`` (an ``tongban.core.audit.Actor``),
validates with ``full_clean()`` (bad input raises ``ValidationError`` with field messages), and writes its
audit entry and events in the same transaction. Login and logout are in ``identity.authentication``.
"""

from collections.abc import Iterable
from datetime import date

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.core.events import event_emit
from tongban.core.ids import normalize_credit_code, normalize_resident_id, parse_resident_id
from tongban.core.models.saving import save_prevalidated, validated
from tongban.core.transactions import service_atomic

from . import events
from .models import AdminUnit, Department, Household, Organisation, Person, Role, Staff, User
from .reference import STAFF_ROLE_CODES, load_departments, load_roles
from .selectors import forget_roles

PERSON_UPDATABLE = ("name", "phone", "household_district", "household", "user")
ORGANISATION_UPDATABLE = ("name", "org_type", "legal_representative", "district")


def _code(unit):
    return unit.code if unit is not None else ""


# --- reference data ------------------------------------------------------------------------------


@transaction.atomic
def roles_ensure(*, actor: Actor = SYSTEM) -> int:
    """Create the twelve roles if missing (the data migration does it too); returns how many were created."""
    created = load_roles(Role)
    if created:
        audit_record(actor=actor, action="role.ensured", subject_type="role", details={"created": created})
    return created


@transaction.atomic
def departments_ensure(*, actor: Actor = SYSTEM) -> dict:
    """Create the city, its 16 districts, the municipal departments and their district branches, and the roles.

    Idempotent: a second call creates nothing. Returns ``{"admin_units": n, "departments": n, "roles": n}``
    with the numbers created by this call.
    """
    counts = load_departments(AdminUnit, Department)
    counts["roles"] = load_roles(Role)
    if any(counts.values()):
        audit_record(actor=actor, action="department.ensured", subject_type="department", details=counts)
    return counts


@transaction.atomic
def admin_unit_ensure(
    *, actor: Actor = SYSTEM, code: str, name: str, level: str, parent=None, name_en: str = ""
):
    """Create or rename an administrative unit (e.g. a street of a district)."""
    unit = AdminUnit.objects.filter(code=code).first() or AdminUnit(code=code)
    created = unit._state.adding
    unit.name, unit.name_en, unit.level, unit.parent = name, name_en, level, parent
    unit.full_clean()
    unit.save()
    if created:
        audit_record(actor=actor, action="admin_unit.created", subject_type="admin_unit", subject_id=code)
    return unit


# --- persons -------------------------------------------------------------------------------------


def _person_identity(resident_id, sex, birth_date):
    """Canonical ID number, with sex and birth date taken from it when not given."""
    resident_id = normalize_resident_id(resident_id or "")
    try:
        parsed = parse_resident_id(resident_id)
    except ValidationError as exc:
        raise ValidationError({"resident_id": exc.messages}) from exc
    return resident_id, sex or parsed.sex, birth_date or parsed.birth_date, parsed


@service_atomic
def person_create(
    *,
    actor: Actor,
    resident_id: str,
    name: str,
    sex: str | None = None,
    birth_date: date | None = None,
    phone: str = "",
    household_district: AdminUnit | None = None,
    household: Household | None = None,
    user: User | None = None,
) -> Person:
    """Register a person (自然人). Sex and birth date come from the ID number unless given (then they must match).

    The household district defaults to the district of the ID number's area code when that is a current
    district of the city. Emits ``person.registered``.
    """
    person, audit, event = person_create_prepare(
        actor=actor,
        resident_id=resident_id,
        name=name,
        sex=sex,
        birth_date=birth_date,
        phone=phone,
        household_district=household_district,
        household=household,
    )
    person.user = user  # the person's own account, if any
    save_prevalidated(
        person
    )  # the database refuses a taken resident ID (the field's message), no query first
    audit_record(**audit)
    event_emit(event[0], event[1], subject_type=event[2], subject_id=event[3])
    return person


def person_create_prepare(
    *,
    actor: Actor,
    resident_id: str,
    name: str,
    sex: str | None = None,
    birth_date: date | None = None,
    phone: str = "",
    household_district: AdminUnit | None = None,
    household: Household | None = None,
) -> tuple[Person, dict, tuple]:
    """``person_create`` without its writes: the person (fields validated, not saved), its audit entry's
    ``audit_record`` arguments and its event ``(name, payload, subject_type, subject_id)``; for a caller that
    inserts them later (a case step's effect prepared before its transaction, ``core.effects``)."""
    resident_id, sex, birth_date, parsed = _person_identity(resident_id, sex, birth_date)
    if household_district is None:
        household_district = AdminUnit.objects.filter(
            code=parsed.area_code, level=AdminUnit.Level.DISTRICT
        ).first()
    person = Person(
        resident_id=resident_id,
        name=(name or "").strip(),
        sex=sex,
        birth_date=birth_date,
        phone=(phone or "").strip(),
        household_district=household_district,
        household=household,
    )
    validated(person)
    audit = {
        "actor": actor,
        "action": "person.created",
        "subject_type": "person",
        "subject_id": str(person.pk),
        "details": {"district": _code(household_district)},
    }
    event = (
        events.PERSON_REGISTERED,
        {
            "person_id": str(person.pk),
            "sex": person.sex,
            "birth_date": person.birth_date.isoformat(),
            "district": _code(household_district),
        },
        "person",
        str(person.pk),
    )
    return person, audit, event


@transaction.atomic
def person_update(*, actor: Actor, person: Person, **changes) -> Person:
    """Change a person's name, phone, household district or household, or link a user account.

    The resident ID number, sex and birth date are not changed here: a correction of the number is a
    registry procedure of its own. Audits the names of the changed fields (never their values).
    """
    unknown = set(changes) - set(PERSON_UPDATABLE)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})
    person = Person.objects.select_for_update().get(pk=person.pk)
    changed = []
    for field, value in changes.items():
        if isinstance(value, str):
            value = value.strip()
        if getattr(person, field) != value:
            setattr(person, field, value)
            changed.append(field)
    if not changed:
        return person
    person.full_clean()
    person.save()
    audit_record(
        actor=actor,
        action="person.updated",
        subject_type="person",
        subject_id=str(person.pk),
        details={"fields": sorted(changed)},
    )
    event_emit(
        events.PERSON_UPDATED,
        {"person_id": str(person.pk), "fields": sorted(changed)},
        subject_type="person",
        subject_id=str(person.pk),
    )
    return person


# --- organisations -------------------------------------------------------------------------------


@transaction.atomic
def organisation_create(
    *,
    actor: Actor,
    credit_code: str,
    name: str,
    org_type: str = Organisation.Type.ENTERPRISE,
    legal_representative: Person | None = None,
    district: AdminUnit | None = None,
) -> Organisation:
    """Register an organisation (法人) by its unified social credit code. Emits ``organisation.registered``."""
    organisation = Organisation(
        credit_code=normalize_credit_code(credit_code or ""),
        name=(name or "").strip(),
        org_type=org_type,
        legal_representative=legal_representative,
        district=district,
    )
    organisation.full_clean()
    organisation.save()
    audit_record(
        actor=actor,
        action="organisation.created",
        subject_type="organisation",
        subject_id=str(organisation.pk),
        details={"credit_code": organisation.credit_code, "district": _code(district)},
    )
    event_emit(
        events.ORGANISATION_REGISTERED,
        {
            "organisation_id": str(organisation.pk),
            "credit_code": organisation.credit_code,
            "org_type": organisation.org_type,
            "district": _code(district),
        },
        subject_type="organisation",
        subject_id=str(organisation.pk),
    )
    return organisation


@transaction.atomic
def organisation_update(*, actor: Actor, organisation: Organisation, **changes) -> Organisation:
    """Change an organisation's name, type, legal representative or district (not its credit code)."""
    unknown = set(changes) - set(ORGANISATION_UPDATABLE)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    changed = []
    for field, value in changes.items():
        if getattr(organisation, field) != value:
            setattr(organisation, field, value)
            changed.append(field)
    if changed:
        organisation.full_clean()
        organisation.save()
        audit_record(
            actor=actor,
            action="organisation.updated",
            subject_type="organisation",
            subject_id=str(organisation.pk),
            details={"fields": sorted(changed)},
        )
    return organisation


def _agents_changed(*, actor: Actor, organisation: Organisation, user: User, action: str) -> None:
    forget_roles(user)
    audit_record(
        actor=actor,
        action=action,
        subject_type="organisation",
        subject_id=str(organisation.pk),
        details={"user_id": str(user.pk)},
    )


@transaction.atomic
def organisation_agent_add(*, actor: Actor, organisation: Organisation, user: User) -> None:
    """Let ``user`` act for ``organisation`` as its enterprise agent (企业经办人)."""
    organisation.agents.add(user)
    _agents_changed(actor=actor, organisation=organisation, user=user, action="organisation.agent_added")


@transaction.atomic
def organisation_agent_remove(*, actor: Actor, organisation: Organisation, user: User) -> None:
    """Stop ``user`` acting for ``organisation``."""
    organisation.agents.remove(user)
    _agents_changed(actor=actor, organisation=organisation, user=user, action="organisation.agent_removed")


# --- users and staff -----------------------------------------------------------------------------


@transaction.atomic
def user_create(
    *,
    actor: Actor,
    username: str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    check_password: bool = True,
) -> User:
    """Create a login. ``password=None`` makes an account that cannot log in with a password yet.

    The password is checked against the password validators unless ``check_password`` is False (the demo
    seed uses known, simple passwords).
    """
    user = User(username=(username or "").strip(), first_name=first_name, last_name=last_name, email=email)
    if password is None:
        user.set_unusable_password()
    else:
        if check_password:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise ValidationError({"password": exc.messages}) from exc
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(actor=actor, action="user.created", subject_type="user", subject_id=str(user.pk))
    return user


def _roles(codes: Iterable[str]):
    codes = sorted(set(codes))
    unknown = [code for code in codes if code not in STAFF_ROLE_CODES]
    if unknown:
        raise ValidationError(
            {"roles": _("Unknown or non-staff role: %(codes)s.") % {"codes": ", ".join(unknown)}}
        )
    if not codes:
        raise ValidationError({"roles": _("A staff member needs at least one role.")})
    if Role.objects.filter(code__in=codes).count() != len(codes):
        load_roles(Role)  # the rows may be gone after a test database flush; the table is the source
    return list(Role.objects.filter(code__in=codes))


@transaction.atomic
def staff_create(
    *, actor: Actor, user: User, department: Department, roles: Iterable[str], title: str = ""
) -> Staff:
    """Make ``user`` a staff member of ``department`` holding ``roles`` (role codes)."""
    role_objects = _roles(roles)
    if Staff.objects.filter(user=user).exists():
        raise ValidationError({"user": _("This user is already a staff member.")})
    staff = Staff(user=user, department=department, title=title)
    staff.full_clean()
    staff.save()
    staff.roles.set(role_objects)
    forget_roles(user)
    audit_record(
        actor=actor,
        action="staff.created",
        subject_type="staff",
        subject_id=str(staff.pk),
        details={
            "user_id": str(user.pk),
            "department": department.code,
            "roles": [r.code for r in role_objects],
        },
    )
    return staff


@transaction.atomic
def staff_roles_set(*, actor: Actor, staff: Staff, roles: Iterable[str]) -> Staff:
    """Replace a staff member's roles."""
    role_objects = _roles(roles)
    before = sorted(staff.roles.values_list("code", flat=True))
    staff.roles.set(role_objects)
    forget_roles(staff.user)
    audit_record(
        actor=actor,
        action="staff.roles_changed",
        subject_type="staff",
        subject_id=str(staff.pk),
        details={"before": before, "after": sorted(r.code for r in role_objects)},
    )
    return staff


@transaction.atomic
def staff_move(*, actor: Actor, staff: Staff, department: Department) -> Staff:
    """Move a staff member to another department."""
    before = staff.department.code
    staff.department = department
    staff.full_clean()
    staff.save(update_fields=["department", "updated_at"])
    forget_roles(staff.user)
    audit_record(
        actor=actor,
        action="staff.moved",
        subject_type="staff",
        subject_id=str(staff.pk),
        details={"before": before, "after": department.code},
    )
    return staff


@transaction.atomic
def staff_deactivate(*, actor: Actor, staff: Staff) -> Staff:
    """A staff member who leaves keeps their record (for the audit trail) but loses every role's rights."""
    staff.active = False
    staff.save(update_fields=["active", "updated_at"])
    forget_roles(staff.user)
    audit_record(actor=actor, action="staff.deactivated", subject_type="staff", subject_id=str(staff.pk))
    return staff


@transaction.atomic
def staff_record_admin_change(*, actor: Actor, staff: Staff, created: bool) -> None:
    """Audit a change made to a staff member in the Django admin (the admin saves the form itself)."""
    audit_record(
        actor=actor,
        action="staff.created" if created else "staff.updated",
        subject_type="staff",
        subject_id=str(staff.pk),
        details={
            "department": staff.department.code,
            "roles": sorted(staff.roles.values_list("code", flat=True)),
            "active": staff.active,
            "via": "admin",
        },
    )


# --- second factor -------------------------------------------------------------------------------


@transaction.atomic
def totp_device_ensure(
    *, actor: Actor, user: User, confirmed: bool = True, name: str = "default"
) -> TOTPDevice:
    """The user's TOTP device named ``name``, created if missing (the demo seed gives staff a confirmed one)."""
    device = TOTPDevice.objects.filter(user=user, name=name).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=name, confirmed=confirmed)
        audit_record(
            actor=actor,
            action="otp.device_created",
            subject_type="user",
            subject_id=str(user.pk),
            details={"confirmed": confirmed},
        )
    elif confirmed and not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    return device


@transaction.atomic
def totp_device_reset(*, actor: Actor, user: User) -> int:
    """Remove a user's TOTP devices (a lost phone): the next login asks them to set up a new one."""
    count, _ = TOTPDevice.objects.filter(user=user).delete()
    audit_record(
        actor=actor,
        action="otp.device_reset",
        subject_type="user",
        subject_id=str(user.pk),
        details={"removed": count},
    )
    return count
