"""Writes of the licences app: licence types, signing keys, issuing and revoking licences; and verification.

Issuing is idempotent per (case, type, holder): a retried call for the same case result returns the licence
made the first time. Every write records its audit entry and event in its own transaction. Verification
(``licence_verify``) is a read that anyone may do; it writes nothing.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.core.db import fast
from tongban.core.events import event_emit
from tongban.core.exceptions import Conflict
from tongban.core.refcache import reference_cached
from tongban.identity.models import Department, Organisation, Person

from . import crypto, keys, signing
from .models import Licence, LicenceType, SigningKey
from .reference import ALIASES, LICENCE_TYPES

__all__ = [
    "VerificationResult",
    "key_active",
    "key_ensure",
    "key_rotate",
    "licence_data_from",
    "licence_issue",
    "licence_issue_prepare",
    "licence_revoke",
    "licence_token",
    "licence_type_ensure",
    "licence_type_get",
    "licence_types_demo_ensure",
    "licence_verify",
    "licence_view_record",
    "licences_for_case_results",
]

NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed without doubt
NUMBER_RANDOM_LENGTH = 8
MAX_VALUE_LENGTH = 500


# --- licence types ---------------------------------------------------------------------------------------


@transaction.atomic
def licence_type_ensure(
    *,
    actor: Actor = SYSTEM,
    code: str,
    name_zh: str,
    name_en: str,
    number_prefix: str,
    department_code: str,
    fields: list,
    validity_years: int | None = None,
) -> LicenceType:
    """Create the licence type ``code`` or bring it up to date; audited when something changed."""
    values = {
        "name_zh": name_zh,
        "name_en": name_en,
        "number_prefix": number_prefix,
        "department_code": department_code,
        "fields": fields,
        "validity_years": validity_years,
    }
    licence_type = LicenceType.objects.select_for_update().filter(code=code).first()
    created = licence_type is None
    if created:
        licence_type = LicenceType(code=code, **values)
    else:
        changed = {k: v for k, v in values.items() if getattr(licence_type, k) != v}
        if not changed:
            return licence_type
        for name, value in changed.items():
            setattr(licence_type, name, value)
    licence_type.full_clean()
    licence_type.save()
    audit_record(
        actor=actor,
        action="licence_type.created" if created else "licence_type.updated",
        subject_type="licence_type",
        subject_id=code,
    )
    return licence_type


def licence_types_demo_ensure(*, actor: Actor = SYSTEM) -> int:
    """The licence types of the demo catalogue (``reference.LICENCE_TYPES``); returns how many there are."""
    for definition in LICENCE_TYPES:
        licence_type_ensure(
            actor=actor,
            code=definition.code,
            name_zh=definition.name_zh,
            name_en=definition.name_en,
            number_prefix=definition.prefix,
            department_code=definition.department,
            fields=definition.fields,
            validity_years=definition.validity_years,
        )
    return len(LICENCE_TYPES)


def licence_type_get(code: str) -> LicenceType | None:
    """The licence type with ``code`` (or a known alias of it, e.g. ``property-certificate``); kept for a minute
    per process (types change rarely; a change made in this process is seen at once)."""
    return _licence_type(ALIASES.get(code, code))


@reference_cached(LicenceType)
def _licence_type(code: str) -> LicenceType | None:
    return LicenceType.objects.filter(code=code).first()


def licence_data_from(licence_type: LicenceType, values: dict) -> dict:
    """The fields of ``values`` (e.g. a case's form data) that ``licence_type`` carries, empty ones left out."""
    names = {spec["name"] for spec in licence_type.fields}
    return {k: v for k, v in (values or {}).items() if k in names and v not in (None, "")}


# --- signing keys ----------------------------------------------------------------------------------------


def _department(value) -> Department:
    if isinstance(value, Department):
        return value
    found = Department.objects.filter(code=value).first()
    if found is None:
        raise ValidationError({"department": _("Unknown department %(code)s.") % {"code": value}})
    return found


def _new_key(
    *, actor: Actor, department: Department, algorithm: str, replaces: SigningKey | None
) -> SigningKey:
    if algorithm not in crypto.ALGORITHMS:
        raise ValidationError({"algorithm": _("Choose ed25519 or sm2.")})
    pair = crypto.generate(algorithm)
    # The private half goes to the key storage before the row exists: a row without its private key could
    # be chosen to sign, a file without its row is harmless.
    keys.storage().save(pair.key_id, pair.private)
    now = timezone.now()
    if replaces is not None:
        SigningKey.objects.filter(pk=replaces.pk).update(active=False, retired_at=now)
    key = SigningKey.objects.create(
        department=department, key_id=pair.key_id, algorithm=algorithm, public_key=pair.public
    )
    audit_record(
        actor=actor,
        action="licence_key.rotated" if replaces else "licence_key.created",
        subject_type="licence_key",
        subject_id=key.key_id,
        details={
            "department": department.code,
            "algorithm": algorithm,
            "retired": replaces.key_id if replaces else "",
        },
    )
    return key


def key_ensure(*, actor: Actor = SYSTEM, department, algorithm: str | None = None) -> SigningKey:
    """The department's active signing key, made on first use.

    A new key uses ``algorithm`` or else ``settings.TONGBAN_LICENCE_ALGORITHM``. Asking for an algorithm other
    than the active key's rotates to a new key of that algorithm.
    """
    department = _department(department)
    active = _active_key(department.pk)
    if active is not None and (algorithm is None or active.algorithm == algorithm):
        return active
    try:
        with transaction.atomic():
            if active is not None:
                return key_rotate(actor=actor, department=department, algorithm=algorithm)
            return _new_key(
                actor=actor,
                department=department,
                algorithm=algorithm or settings.TONGBAN_LICENCE_ALGORITHM,
                replaces=None,
            )
    except IntegrityError:  # another process made the department's key at the same moment
        return SigningKey.objects.get(department=department, active=True)


def key_active(department) -> SigningKey | None:
    """The department's active signing key, or None (none is made: see ``key_ensure``)."""
    department = _department(department)
    return _active_key(department.pk)


@reference_cached(SigningKey)
def _active_key(department_id) -> SigningKey | None:
    """The department's active key, kept for a minute per process: a rotation made here is seen at once, one made
    by another process within the minute (a licence signed meanwhile with the retired key still verifies: retired
    keys are kept)."""
    return (
        SigningKey.objects.filter(department_id=department_id, active=True)
        .select_related("department")
        .first()
    )


@transaction.atomic
def key_rotate(*, actor: Actor, department, algorithm: str | None = None) -> SigningKey:
    """A new active key for the department; the old one is retired and kept, so its licences still verify."""
    department = _department(department)
    # Lock the department's row so that two rotations queue instead of both retiring the same key.
    Department.objects.select_for_update().filter(pk=department.pk).first()
    active = SigningKey.objects.filter(department=department, active=True).first()
    return _new_key(
        actor=actor,
        department=department,
        algorithm=algorithm or (active.algorithm if active else settings.TONGBAN_LICENCE_ALGORITHM),
        replaces=active,
    )


_private_cache: dict[str, str] = {}


def _private_key(key: SigningKey) -> str:
    private = _private_cache.get(key.key_id)
    if private is None:
        try:
            private = keys.storage().load(key.key_id)
        except KeyError:
            raise Conflict(
                _("The private key %(key)s of %(department)s is missing from the key storage.")
                % {"key": key.key_id, "department": key.department.code},
                code="licence_key_missing",
            ) from None
        _private_cache[key.key_id] = private
    return private


# --- issuing ---------------------------------------------------------------------------------------------


def _clean_data(licence_type: LicenceType, data) -> dict:
    if not isinstance(data, dict):
        raise ValidationError({"data": _("Give the licence's data as an object of fields.")})
    specs = {spec["name"]: spec for spec in licence_type.fields}
    errors: dict[str, list[str]] = {}
    for name in data:
        if name not in specs:
            errors[f"data.{name}"] = [_("A %(type)s has no such field.") % {"type": licence_type.name_zh}]
    cleaned = {}
    for name, spec in specs.items():
        value = data.get(name)
        if isinstance(value, str):
            value = value.replace("\x00", "").strip()
        if value is None or value == "":
            if spec.get("required"):
                errors[f"data.{name}"] = [_("This field is required.")]
            continue
        if isinstance(value, float) and value != value:  # NaN
            value = None
        if not isinstance(value, str | int | float | bool | dt.date | dt.datetime) or value is None:
            errors[f"data.{name}"] = [_("Give a single value.")]
            continue
        if isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
            errors[f"data.{name}"] = [_("At most %(n)s characters.") % {"n": MAX_VALUE_LENGTH}]
            continue
        cleaned[name] = value
    if errors:
        raise ValidationError(errors)
    return signing.json_ready(cleaned)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _existing_or_number(case_id, licence_type: LicenceType, holder_key: str, year: int) -> tuple:
    """(the licence this case already has for the holder, None) or (None, a free number), in one query a draw."""
    if case_id is None:
        return None, _new_number(licence_type, year)
    for _attempt in range(10):
        number = _draw_number(licence_type, year)
        rows = [
            (fast.convert(Licence, "id", pk), found)
            for pk, found in fast.fetchall(
                "SELECT id, number FROM licences_licence WHERE "
                "(case_id = %s AND type_id = %s AND holder_key = %s) OR number = %s LIMIT 2",
                [
                    fast.prep(Licence, "case_id", case_id),
                    fast.prep(Licence, "type", licence_type.pk),
                    holder_key,
                    number,
                ],
            )
        ]
        mine = [pk for pk, found in rows if found != number]
        if rows and not mine:  # the drawn number is taken: by this very licence? (astronomically rare)
            mine = list(
                Licence.objects.filter(
                    pk__in=[pk for pk, _found in rows],
                    case_id=case_id,
                    type=licence_type,
                    holder_key=holder_key,
                ).values_list("pk", flat=True)
            )
        if mine:
            return Licence.objects.select_related("type", "department", "key").get(pk=mine[0]), None
        if not rows:
            return None, number
    raise RuntimeError("could not draw a free licence number")


def _draw_number(licence_type: LicenceType, year: int) -> str:
    tail = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_RANDOM_LENGTH))
    return f"{licence_type.number_prefix}-{year}-{tail}"


def _new_number(licence_type: LicenceType, year: int) -> str:
    for _attempt in range(10):
        tail = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_RANDOM_LENGTH))
        number = f"{licence_type.number_prefix}-{year}-{tail}"
        if not Licence.objects.filter(number=number).exists():
            return number
    raise RuntimeError("could not draw a free licence number")  # 32^8 numbers a type and year


def _holder(holder_person, holder_organisation) -> tuple[str, str, str]:
    if (holder_person is None) == (holder_organisation is None):
        raise ValidationError({"holder": _("A licence has exactly one holder: a person or an organisation.")})
    if holder_person is not None:
        return f"person:{holder_person.pk}", holder_person.name, holder_person.resident_id
    return f"organisation:{holder_organisation.pk}", holder_organisation.name, holder_organisation.credit_code


def licence_issue(
    *,
    actor: Actor,
    type: LicenceType | str,
    data: dict,
    department,
    holder_person: Person | None = None,
    holder_organisation: Organisation | None = None,
    case_id=None,
    valid_until: dt.date | None = None,
) -> Licence:
    """Issue a licence of ``type`` to its holder, signed by ``department``'s key.

    ``data`` must fit the type's fields (unknown fields and missing required ones are refused; pass a case's
    form data through ``licence_data_from`` first). The department must be the type's issuing department or
    one of its district branches. ``valid_until`` defaults to the type's validity from today. With a
    ``case_id`` the call is idempotent per (case, type, holder): a retry returns the first licence.
    """
    prepared = licence_issue_prepare(
        actor=actor,
        type=type,
        data=data,
        department=department,
        holder_person=holder_person,
        holder_organisation=holder_organisation,
        case_id=case_id,
        valid_until=valid_until,
    )
    if isinstance(prepared, Licence):
        return prepared
    licence, audit, event = prepared
    try:
        with transaction.atomic(savepoint=_needs_savepoint()):
            fast.insert([licence])  # licence.save(force_insert=True) in one prepared statement
            audit_record(**audit)
            event_emit(event[0], event[1], subject_type=event[2], subject_id=event[3])
    except IntegrityError:
        existing = _existing(case_id, licence.type, licence.holder_key) if case_id is not None else None
        if existing is None:
            raise
        return existing
    return licence


def licence_issue_prepare(
    *,
    actor: Actor,
    type: LicenceType | str,
    data: dict,
    department,
    holder_person: Person | None = None,
    holder_organisation: Organisation | None = None,
    case_id=None,
    valid_until: dt.date | None = None,
) -> Licence | tuple[Licence, dict, tuple]:
    """``licence_issue`` without its writes: the licence this case already has (a retry), or the new licence
    (number drawn, data checked, signed; not saved) with its audit entry's ``audit_record`` arguments and its
    event ``(name, payload, subject_type, subject_id)``. For a caller that inserts them later (a case step's
    effect prepared before its transaction, ``core.effects``): the licence's unique number and its unique
    (case, type, holder) then catch a number or a licence taken meanwhile."""
    licence_type = type if isinstance(type, LicenceType) else licence_type_get(type)
    if licence_type is None:
        raise ValidationError({"type": _("Unknown licence type %(code)s.") % {"code": type}})
    department = _department(department)
    holder_key, holder_name, holder_id = _holder(holder_person, holder_organisation)
    issued_at = timezone.now().replace(microsecond=0)
    # One query asks both whether this case already has the licence (a retry) and whether the drawn number is free.
    existing, number = _existing_or_number(
        case_id, licence_type, holder_key, timezone.localdate(issued_at).year
    )
    if existing is not None:
        return existing
    if department.code != licence_type.department_code and (
        department.parent_id is None or department.parent.code != licence_type.department_code
    ):
        raise ValidationError(
            {
                "department": _("%(department)s does not issue %(type)s.")
                % {"department": department.name_zh, "type": licence_type.name_zh}
            }
        )
    cleaned = _clean_data(licence_type, data)
    key = key_ensure(actor=actor, department=department)
    private = _private_key(key)
    if valid_until is None and licence_type.validity_years:
        valid_until = _add_years(timezone.localdate(issued_at), licence_type.validity_years)
    licence = Licence(
        number=number,
        type=licence_type,
        holder_person=holder_person,
        holder_organisation=holder_organisation,
        holder_key=holder_key,
        holder_name=holder_name,
        holder_id_number=holder_id,
        data=cleaned,
        issued_at=issued_at,
        valid_until=valid_until,
        department=department,
        case_id=case_id,
        key=key,
        algorithm=key.algorithm,
    )
    payload = signing.canonical_payload(licence)
    licence.signature = signing.b64(crypto.sign(key.algorithm, private, payload, public=key.public_key))
    audit = {
        "actor": actor,
        "action": "licence.issued",
        "subject_type": "licence",
        "subject_id": licence.number,
        "case_id": str(case_id) if case_id else "",
        "details": {
            "type": licence_type.code,
            "department": department.code,
            "holder": holder_key,
            "key_id": key.key_id,
            "algorithm": key.algorithm,
        },
    }
    event = (
        "licence.issued",
        {
            "licence": str(licence.pk),
            "number": licence.number,
            "type": licence_type.code,
            "department": department.code,
            "holder_person": str(holder_person.pk) if holder_person else None,
            "holder_organisation": str(holder_organisation.pk) if holder_organisation else None,
            "case_id": str(case_id) if case_id else None,
        },
        "licence",
        licence.number,
    )
    return licence, audit, event


def licences_import_existing(
    *,
    actor: Actor,
    type: LicenceType | str,
    department,
    holders,
    batch_size: int = 1000,
) -> int:
    """存量证照归集: licences a department issued on paper before the platform, signed and stored in bulk.

    ``holders`` yields ``(organisation or person, data)``; each licence is built and signed as by
    ``licence_issue`` (the data checked against the type, a free number drawn, the department's key) and written
    ``batch_size`` at a time, with one ``licence.imported`` audit entry a batch (type, department, count, the
    first and last number). No ``licence.issued`` event: the holders already hold these licences, nothing is
    new to tell them. Returns the number imported. Only the system (a seed, a migration's command) or staff of the
    issuing department may import (PermissionDenied otherwise, before anything is read).
    """
    department = _department(department)
    if actor.kind != SYSTEM.kind and actor.department != department.code:
        raise PermissionDenied(_("Only the issuing department imports its existing licences."))
    imported = 0
    batch: list[Licence] = []

    def flush():
        nonlocal imported
        if not batch:
            return
        with transaction.atomic():
            Licence.objects.bulk_create(batch)
            audit_record(
                actor=actor,
                action="licence.imported",
                subject_type="licence_type",
                subject_id=batch[0].type.code,
                details={
                    "department": batch[0].department.code,
                    "count": len(batch),
                    "first": batch[0].number,
                    "last": batch[-1].number,
                },
            )
        imported += len(batch)
        batch.clear()

    for holder, data in holders:
        is_person = isinstance(holder, Person)
        prepared = licence_issue_prepare(
            actor=actor,
            type=type,
            data=data,
            department=department,
            holder_person=holder if is_person else None,
            holder_organisation=None if is_person else holder,
        )
        batch.append(prepared[0])
        if len(batch) >= batch_size:
            flush()
    flush()
    return imported


def _needs_savepoint() -> bool:
    """Whether an issue needs a savepoint to survive a concurrent issue of the same licence (an IntegrityError).

    Not inside a SQLite transaction: it holds the database's write lock since BEGIN, so no other process can
    insert between ``_existing`` and the INSERT (two statements fewer per licence on the case path).
    """
    connection = connections[router.db_for_write(Licence)]
    return not (connection.vendor == "sqlite" and connection.in_atomic_block)


def _existing(case_id, licence_type, holder_key) -> Licence | None:
    found = (
        Licence.objects.filter(case_id=case_id, type=licence_type, holder_key=holder_key)
        .values_list("pk", flat=True)
        .first()
    )  # the usual answer is none: a cheap query first, the licence with its relations only when there is one
    if found is None:
        return None
    return Licence.objects.select_related("type", "department", "key").get(pk=found)


def licences_for_case_results(
    *,
    actor: Actor,
    case_id,
    results: list[dict],
    form_data: dict,
    holder_person: Person | None = None,
    holder_organisation: Organisation | None = None,
    department_codes: dict[str, str] | None = None,
) -> list[Licence]:
    """Issue the licences of a completed case: one for each result whose ``licence_type`` is set.

    ``results`` are the case's result package entries (``{"item", "licence_type", ...}``); the department
    that signs is ``department_codes[item]`` when given (e.g. the district branch that handled it), else
    the licence type's issuing department. The licence's data are the type's fields taken from
    ``form_data``. Idempotent: a retry returns the licences of the first call.
    """
    issued = []
    for result in results:
        code = result.get("licence_type")
        if not code:
            continue
        licence_type = licence_type_get(code)
        if licence_type is None:
            raise ValidationError({"licence_type": _("Unknown licence type %(code)s.") % {"code": code}})
        department = (department_codes or {}).get(result.get("item"), licence_type.department_code)
        issued.append(
            licence_issue(
                actor=actor,
                type=licence_type,
                data=licence_data_from(licence_type, form_data),
                department=department,
                holder_person=holder_person,
                holder_organisation=holder_organisation,
                case_id=case_id,
            )
        )
    return issued


# --- revoking --------------------------------------------------------------------------------------------


@transaction.atomic
def licence_revoke(*, actor: Actor, licence: Licence, reason: str) -> Licence:
    """Revoke a licence (撤销) for ``reason``; from then on it verifies as revoked."""
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for revoking the licence.")})
    if len(reason) > 1000:
        raise ValidationError({"reason": _("At most %(n)s characters.") % {"n": 1000}})
    locked = Licence.objects.select_for_update().get(pk=licence.pk)
    if locked.status == Licence.Status.REVOKED:
        raise Conflict(_("The licence is already revoked."), code="licence_revoked")
    now = timezone.now()
    Licence.objects.filter(pk=licence.pk).update(
        status=Licence.Status.REVOKED, revoked_at=now, revoked_reason=reason, revoked_by=actor.label[:200]
    )
    licence.status, licence.revoked_at = Licence.Status.REVOKED, now
    licence.revoked_reason, licence.revoked_by = reason, actor.label[:200]
    audit_record(
        actor=actor,
        action="licence.revoked",
        subject_type="licence",
        subject_id=licence.number,
        case_id=str(licence.case_id) if licence.case_id else "",
        details={"reason": reason[:300], "type": licence.type.code},
    )
    event_emit(
        "licence.revoked",
        {"licence": str(licence.pk), "number": licence.number, "type": licence.type.code},
        subject_type="licence",
        subject_id=licence.number,
    )
    return licence


def licence_view_record(*, actor: Actor, licence: Licence, what: str = "licence") -> None:
    """Put on record that staff (not the holder) read a licence with its personal data (PDF or API)."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="licence.viewed",
            subject_type="licence",
            subject_id=licence.number,
            case_id=str(licence.case_id) if licence.case_id else "",
            purpose="handling",
            details={"what": what, "type": licence.type.code},
        )


# --- tokens and verification -----------------------------------------------------------------------------


def licence_token(licence: Licence) -> str:
    """The token the licence's QR code carries: its signed payload and the signature."""
    return f"{signing.b64(signing.canonical_payload(licence))}.{licence.signature}"


VALID, REVOKED, ALTERED, UNKNOWN = "valid", "revoked", "altered", "unknown"


@dataclass
class VerificationResult:
    """What verifying a token says: ``status`` is valid, revoked, altered or unknown.

    ``licence`` is set for valid and revoked; ``public_fields`` holds only the fields marked public, as
    ``{"name", "label_zh", "label_en", "value"}``; ``expired`` is true for a licence past its validity.
    """

    status: str
    licence: Licence | None = None
    public_fields: list = field(default_factory=list)
    expired: bool = False

    @property
    def ok(self) -> bool:
        return self.status == VALID and not self.expired


def public_fields(licence: Licence) -> list[dict]:
    return [
        {
            "name": spec["name"],
            "label_zh": spec.get("label_zh", spec["name"]),
            "label_en": spec.get("label_en", spec["name"]),
            "value": licence.data[spec["name"]],
        }
        for spec in licence.type.fields
        if spec.get("sensitivity") == "public" and spec["name"] in licence.data
    ]


def token_from_document(document: str) -> str:
    """The token in ``document``: the token itself, or a verification link holding it as ``?t=``."""
    document = (document or "").strip()
    if "?" in document and "t=" in document:
        try:
            values = parse_qs(urlsplit(document).query).get("t")
        except (
            ValueError
        ):  # not a URL after all (e.g. "http://[x?t=…"): read as a token, which then fails to verify
            values = None
        if values:
            return values[0]
    return document


def licence_verify(document: str) -> VerificationResult:
    """Verify a presented licence: the token of its QR code (or the verification link).

    unknown: not a token, or neither its key nor its number is known here, or a genuine signature on a
    number this register does not hold; altered: the signature does not verify, or the payload differs from
    the licence on record; revoked: genuine but revoked; valid otherwise (``expired`` flags one past its date).
    """
    try:
        parsed = signing.token_parse(token_from_document(document))
    except signing.NotAToken:
        return VerificationResult(UNKNOWN)
    except signing.TokenMalformed:
        return VerificationResult(ALTERED)
    if "\x00" in parsed.number or "\x00" in parsed.key_id:  # PostgreSQL refuses NUL in a query: a 500
        return VerificationResult(ALTERED)
    licence = (
        Licence.objects.select_related("type", "department", "key", "key__department")
        .filter(number=parsed.number)
        .first()
    )
    key = SigningKey.objects.select_related("department").filter(key_id=parsed.key_id).first()
    if key is None:
        if licence is None:
            return VerificationResult(UNKNOWN)
        key = licence.key  # the key id was changed: check against the key of the licence with that number
    if not crypto.verify(key.algorithm, key.public_key, parsed.payload, parsed.signature):
        return VerificationResult(ALTERED)
    if parsed.fields.get("issuer") != key.department.code:
        return VerificationResult(ALTERED)
    if licence is None:
        return VerificationResult(UNKNOWN)
    if (
        licence.key_id != key.pk
        or signing.canonical_payload(licence) != parsed.payload
        or licence.signature != signing.b64(parsed.signature)
    ):
        return VerificationResult(ALTERED)
    expired = licence.is_expired
    status = REVOKED if licence.status == Licence.Status.REVOKED else VALID
    return VerificationResult(status, licence=licence, public_fields=public_fields(licence), expired=expired)
