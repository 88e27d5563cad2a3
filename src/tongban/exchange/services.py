"""Writes of the sharing layer: the data catalogue, sharing grants, lookups and evidence checks.

* ``data_resources_sync`` mirrors the registries' ``ResourceSpec`` objects into ``DataResource`` rows.
* ``grant_request`` / ``grant_approve`` / ``grant_refuse`` / ``grant_revoke``: the life of a ``SharingGrant``.
  A conditional resource needs the owner's data steward to approve; an unconditional one is approved on request;
  a not-shared one cannot be requested. ``grant_ensure`` records a standing approved grant (demo, bench).
* ``lookup`` reads a registry for a requesting department, purpose and case: it checks the grant, returns only
  granted fields, writes one audit entry (``data.lookup`` or ``data.lookup_refused``) and one ``DataUse`` row for
  each person concerned, and refuses with ``GrantMissing``, naming the grant that is missing.
* ``evidence_*`` answer the questions a case asks of the registries (is this person married, ...) through
  ``lookup``.

Who may read without a grant: the owner of a resource (and the district branches of a municipal owner) read
their own data for a purpose, still audited and recorded. A grant to a municipal department also covers its
district branches (a grant to ``public-security`` lets ``public-security-310104`` read).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from dataclasses import dataclass, field
from functools import lru_cache, partial

from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongban.core import calendar
from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.core.db import fast
from tongban.core.db.deferred import defer
from tongban.core.events import event_emit
from tongban.core.exceptions import Conflict, DomainError
from tongban.identity.models import Department, Organisation, Person
from tongban.identity.permissions import has_permission, require_permission
from tongban.identity.selectors import UserActor

from .models import DataResource, DataUse, SharingGrant
from .resources import ResourceSpec, resource_spec, resource_specs

logger = logging.getLogger(__name__)

__all__ = [
    "Evidence",
    "GrantMissing",
    "LookupResult",
    "data_resources_sync",
    "data_uses_submission_refused",
    "evidence_deed_tax_paid",
    "evidence_is_married",
    "evidence_owns_unit",
    "evidence_unit_free",
    "grant_approve",
    "grant_ensure",
    "grant_refuse",
    "grant_request",
    "grant_revoke",
    "lookup",
]

# Resource codes the evidence helpers read (defined by the registries, exchange/registries/*.py).
MARRIAGE_RESOURCE = "marriage-status"
PROPERTY_OWNERSHIP_RESOURCE = "property-ownership"
PROPERTY_ENCUMBRANCE_RESOURCE = "property-encumbrances"
DEED_TAX_RESOURCE = "deed-tax"

Status = SharingGrant.Status


class GrantMissing(DomainError):
    """A lookup that no approved, valid grant covers; the message names the grant that is missing.

    The API answers it with 403. ``params`` holds ``resource``, ``fields``, ``purpose``, ``department`` and
    ``reason`` (``not_shared`` | ``no_grant`` | ``fields`` | ``expired`` | ``pending`` | ``inactive``).
    """

    default_message = gettext_lazy("No sharing grant allows this lookup.")
    default_code = "grant_missing"


@dataclass(frozen=True)
class LookupResult:
    """What a lookup returned: ``data`` holds only ``fields`` (the granted ones); None when refused or when the
    registry holds nothing for the subject."""

    allowed: bool
    resource: str
    subject_key: str
    fields: tuple[str, ...] = ()
    data: dict | list | None = None
    missing: str = ""
    reason: str = ""
    basis: str = ""  # "grant" | "owner" | ""
    grant_ids: tuple = ()
    person_ids: tuple = ()

    @property
    def found(self) -> bool:
        return self.allowed and self.data not in (None, [], {})


@dataclass(frozen=True)
class Evidence:
    """The answer to an evidence question, with the lookup that gave it (its granted facts in ``facts``)."""

    holds: bool
    resource: str
    facts: dict | list | None = None
    lookup: LookupResult | None = field(default=None, repr=False)


# --- the catalogue ---------------------------------------------------------------------------------------------


def _spec_fields(spec: ResourceSpec) -> list[dict]:
    return [
        {
            "name": name,
            "type": f.type,
            "sensitivity": f.sensitivity,
            "label": f.label_zh or name,
            "label_en": f.label_en,
        }
        for name, f in spec.fields.items()
    ]


@transaction.atomic
def data_resources_sync(*, actor: Actor = SYSTEM, specs: list[ResourceSpec] | None = None) -> dict:
    """Create or update one ``DataResource`` per registered ``ResourceSpec``; deactivate rows whose spec is gone.

    Idempotent: a second call changes nothing. Returns ``{"created": n, "updated": n, "deactivated": n}``.
    Run by ``tongban exchange sync-resources`` and by the demo seed (no post_migrate hook).
    """
    specs = resource_specs() if specs is None else specs
    owners = {d.code: d for d in Department.objects.filter(code__in={s.owner for s in specs})}
    unknown = sorted({s.owner for s in specs} - owners.keys())
    if unknown:
        raise ValueError(f"data resources name unknown owner departments: {', '.join(unknown)}")
    existing = {r.code: r for r in DataResource.objects.all()}
    counts = {"created": 0, "updated": 0, "deactivated": 0}
    changed = []
    for spec in specs:
        values = {
            "owner_id": owners[spec.owner].pk,
            "name_zh": spec.name_zh,
            "name_en": spec.name_en,
            "subject": spec.subject,
            "fields": _spec_fields(spec),
            "sharing": spec.sharing,
            "frequency": spec.frequency,
            "legal_basis": spec.legal_basis,
            "active": True,
        }
        row = existing.get(spec.code)
        if row is None:
            row = DataResource(code=spec.code, **values)
            row.full_clean()
            row.save()
            counts["created"] += 1
            changed.append(spec.code)
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.full_clean()
            row.save()
            counts["updated"] += 1
            changed.append(spec.code)
    codes = {s.code for s in specs}
    for code, row in existing.items():
        if code not in codes and row.active:
            row.active = False
            row.save(update_fields=["active", "updated_at"])
            counts["deactivated"] += 1
            changed.append(code)
    if changed:
        audit_record(
            actor=actor,
            action="data_resource.synced",
            subject_type="data_resource",
            details={**counts, "codes": sorted(changed)[:100]},
        )
    return counts


# --- grants ----------------------------------------------------------------------------------------------------


def _resource(resource) -> DataResource:
    if isinstance(resource, DataResource):
        return resource
    found = DataResource.objects.select_related("owner").filter(code=str(resource), active=True).first()
    if found is None:
        raise ValidationError({"resource": _("No active data resource has this code.")})
    return found


def _department(department) -> Department:
    if isinstance(department, Department):
        return department
    found = Department.objects.select_related("parent").filter(code=str(department)).first()
    if found is None:
        raise ValidationError({"department": _("No department has this code.")})
    return found


def _department_codes(department: Department) -> set[str]:
    codes = {department.code}
    if department.parent_id:
        codes.add(department.parent.code)
    return codes


def _grant_payload(grant: SharingGrant) -> dict:
    return {
        "grant_id": str(grant.pk),
        "department": grant.department.code,
        "resource": grant.resource.code,
        "owner": grant.resource.owner.code,
        "fields": list(grant.fields),
        "purpose": grant.purpose,
        "status": grant.status,
    }


def _grant_audit(actor: Actor, action: str, grant: SharingGrant, **details) -> None:
    audit_record(
        actor=actor,
        action=action,
        subject_type="sharing_grant",
        subject_id=str(grant.pk),
        purpose=grant.purpose,
        details={
            "department": grant.department.code,
            "resource": grant.resource.code,
            "fields": list(grant.fields),
            **details,
        },
    )


def _clean_fields(resource: DataResource, fields) -> list[str]:
    if isinstance(fields, str) or not fields:
        raise ValidationError({"fields": _("Choose at least one field of the resource.")})
    names = resource.field_names
    unknown = [f for f in fields if f not in names]
    if unknown:
        raise ValidationError(
            {"fields": _("The resource has no field %(fields)s.") % {"fields": ", ".join(map(str, unknown))}}
        )
    chosen = set(fields)
    return [name for name in names if name in chosen]  # the resource's order, no duplicates


def _label(actor: Actor) -> str:
    return (f"{actor.label} ({actor.department})" if actor.department else actor.label)[:200]


def grant_request(
    *,
    actor: Actor,
    department,
    resource,
    fields,
    purpose: str,
    legal_basis: str = "",
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> SharingGrant:
    """A department asks to read ``fields`` of ``resource`` for ``purpose`` (申请共享).

    A person acting (not the ``SYSTEM`` actor of a job) needs ``exchange.request`` for ``department``. A not-shared resource cannot be
    requested (ValidationError); an unconditional one is approved at once; a conditional one waits for the
    owner's data steward. One pending request, and one approved grant still valid, per department, resource
    and purpose: another one is a Conflict.
    """
    department = _department(department)
    if actor.kind != SYSTEM.kind:
        require_permission(actor, "exchange.request", department=department)
    resource = _resource(resource)
    if resource.sharing == DataResource.Sharing.NOT_SHARED:
        raise ValidationError(
            {"resource": _("This data resource is not shared (不予共享): it cannot be requested.")}
        )
    if resource.owner.code in _department_codes(department):
        raise ValidationError({"resource": _("The owner reads its own data resource without a grant.")})
    fields = _clean_fields(resource, fields)
    purpose = " ".join((purpose or "").split())
    if not purpose:
        raise ValidationError({"purpose": _("Say for what purpose the data is needed.")})
    legal_basis = (legal_basis or "").strip()
    if not legal_basis:
        if resource.sharing == DataResource.Sharing.CONDITIONAL:
            raise ValidationError(
                {"legal_basis": _("A conditional resource needs the legal basis of the request.")}
            )
        legal_basis = resource.legal_basis
    today = calendar.today()
    valid_from = valid_from or today
    if valid_until is not None and valid_until < max(valid_from, today):
        raise ValidationError(
            {"valid_until": _("The grant must be valid until a day after its start and today.")}
        )
    unconditional = resource.sharing == DataResource.Sharing.UNCONDITIONAL
    now = timezone.now()
    with transaction.atomic():
        active = (
            SharingGrant.objects.select_for_update()
            .filter(department=department, resource=resource, purpose=purpose)
            .filter(
                Q(status=Status.REQUESTED)
                | (Q(status=Status.APPROVED) & (Q(valid_until__isnull=True) | Q(valid_until__gte=today)))
            )
            .first()
        )
        if active is not None:
            raise Conflict(
                _("This department already has a %(status)s grant of this resource for this purpose.")
                % {"status": active.get_status_display()},
                code="grant_exists",
                params={"grant_id": str(active.pk)},
            )
        grant = SharingGrant(
            department=department,
            resource=resource,
            fields=fields,
            purpose=purpose,
            legal_basis=legal_basis,
            valid_from=valid_from,
            valid_until=valid_until,
            status=Status.APPROVED if unconditional else Status.REQUESTED,
            requested_by=_label(actor),
        )
        if unconditional:
            grant.decided_by = _("system: unconditional sharing")
            grant.decided_at = now
        grant.full_clean()
        grant.save()
        _grant_audit(actor, "grant.requested", grant, auto_approved=unconditional)
        event_emit(
            "grant.requested", _grant_payload(grant), subject_type="sharing_grant", subject_id=grant.pk
        )
        if unconditional:
            event_emit(
                "grant.approved", _grant_payload(grant), subject_type="sharing_grant", subject_id=grant.pk
            )
    return grant


def _decide(*, actor: Actor, grant: SharingGrant, to: str, from_: tuple, action: str, reason: str = ""):
    now = timezone.now()
    with transaction.atomic():
        updated = SharingGrant.objects.filter(pk=grant.pk, status__in=from_).update(
            status=to, decided_by=_label(actor), decided_at=now, reason=reason, updated_at=now
        )
        if not updated:
            current = SharingGrant.objects.filter(pk=grant.pk).values_list("status", flat=True).first()
            raise Conflict(
                _("This grant is %(status)s: it cannot be %(action)s.")
                % {"status": Status(current).label if current else "?", "action": Status(to).label},
                code="grant_state",
            )
        grant.status, grant.decided_by, grant.decided_at, grant.reason = to, _label(actor), now, reason
        _grant_audit(actor, action, grant, reason=reason)
        event_emit(action, _grant_payload(grant), subject_type="sharing_grant", subject_id=grant.pk)
    return grant


def _reason(reason: str, message) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationError({"reason": message})
    return text[:2000]


def grant_approve(*, actor: UserActor, grant: SharingGrant) -> SharingGrant:
    """The owner department's data steward approves a requested grant (``exchange.grant`` for the owner)."""
    require_permission(actor, "exchange.grant", department=grant.resource.owner_id)
    return _decide(
        actor=actor, grant=grant, to=Status.APPROVED, from_=(Status.REQUESTED,), action="grant.approved"
    )


def grant_refuse(*, actor: UserActor, grant: SharingGrant, reason: str) -> SharingGrant:
    """The owner department's data steward refuses a requested grant; the reason is required."""
    require_permission(actor, "exchange.grant", department=grant.resource.owner_id)
    text = _reason(reason, _("Give the reason for the refusal."))
    return _decide(
        actor=actor,
        grant=grant,
        to=Status.REFUSED,
        from_=(Status.REQUESTED,),
        action="grant.refused",
        reason=text,
    )


def grant_revoke(*, actor: UserActor, grant: SharingGrant, reason: str) -> SharingGrant:
    """End a grant (approved or still requested), with a reason: the owner's steward revokes it, or the
    requesting department withdraws it."""
    if not has_permission(actor, "exchange.request", department=grant.department_id):
        require_permission(actor, "exchange.grant", department=grant.resource.owner_id)
    text = _reason(reason, _("Give the reason for revoking the grant."))
    return _decide(
        actor=actor,
        grant=grant,
        to=Status.REVOKED,
        from_=(Status.REQUESTED, Status.APPROVED),
        action="grant.revoked",
        reason=text,
    )


@transaction.atomic
def grant_ensure(
    *,
    actor: Actor = SYSTEM,
    department,
    resource,
    fields=None,
    purpose: str,
    legal_basis: str = "",
    valid_until: dt.date | None = None,
) -> SharingGrant:
    """A standing approved grant (e.g. an agreement signed on paper), created if missing; for the demo seed and
    the bench. ``fields=None`` means every field. Not-shared resources are refused as in ``grant_request``."""
    department = _department(department)
    resource = _resource(resource)
    if resource.sharing == DataResource.Sharing.NOT_SHARED:
        raise ValidationError(
            {"resource": _("This data resource is not shared (不予共享): it cannot be requested.")}
        )
    fields = _clean_fields(resource, fields if fields is not None else resource.field_names)
    purpose = " ".join(purpose.split())
    today = calendar.today()
    existing = (
        SharingGrant.objects.filter(
            department=department, resource=resource, purpose=purpose, status=Status.APPROVED
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .first()
    )
    if existing is not None and set(fields) <= set(existing.fields):
        return existing
    if existing is not None:
        existing.fields = _clean_fields(resource, [*existing.fields, *fields])
        existing.save(update_fields=["fields", "updated_at"])
        _grant_audit(actor, "grant.extended", existing)
        return existing
    grant = SharingGrant(
        department=department,
        resource=resource,
        fields=fields,
        purpose=purpose,
        legal_basis=legal_basis or resource.legal_basis,
        valid_from=today,
        valid_until=valid_until,
        status=Status.APPROVED,
        requested_by=_label(actor),
        decided_by=_label(actor),
        decided_at=timezone.now(),
    )
    grant.full_clean()
    grant.save()
    _grant_audit(actor, "grant.approved", grant, standing=True)
    event_emit("grant.approved", _grant_payload(grant), subject_type="sharing_grant", subject_id=grant.pk)
    return grant


# --- lookups ---------------------------------------------------------------------------------------------------


USES_PER_INSERT = 80  # rows of one INSERT of data uses (11 parameters each, within every SQLite's limit)


@lru_cache(maxsize=4)
def _hot_sql(vendor: str) -> dict:
    """The lookup's statements, written once: the ORM would compile each of them again on every lookup, which
    cost more than running them (the grant check's join and OR took ~0.3 ms to build)."""
    grant, resource, person, use = (m._meta for m in (SharingGrant, DataResource, Person, DataUse))

    def col(meta, name):
        return meta.get_field(name).column

    use_columns = [
        col(use, name)
        for name in (
            "person",
            "organisation",
            "at",
            "department",
            "resource_code",
            "fields",
            "purpose",
            "case_id",
            "case_number",
            "allowed",
            "refused_reason",
        )
    ]
    return {
        "grants": (
            f"SELECT g.{col(grant, 'id')}, g.{col(grant, 'fields')} FROM {grant.db_table} g "  # noqa: S608
            f"INNER JOIN {resource.db_table} r ON r.{col(resource, 'id')} = g.{col(grant, 'resource')} "
            f"WHERE r.{col(resource, 'code')} = %s AND r.{col(resource, 'active')} = %s "
            f"AND g.{col(grant, 'department')} IN (%s, %s) AND g.{col(grant, 'status')} = %s "
            f"AND g.{col(grant, 'purpose')} = %s AND g.{col(grant, 'valid_from')} <= %s "
            f"AND (g.{col(grant, 'valid_until')} IS NULL OR g.{col(grant, 'valid_until')} >= %s)"
        ),
        "person": (
            f"SELECT {col(person, 'id')} FROM {person.db_table} WHERE {col(person, 'resident_id')} = %s"  # noqa: S608
        ),
        "use": (
            f"INSERT INTO {use.db_table} ({', '.join(use_columns)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(use_columns))})"
        ),
    }


def _uuid_param(value, connection):
    return None if value is None else DataUse._meta.get_field("case_id").get_db_prep_value(value, connection)


def _as_uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _grants_for(resource_code: str, department: Department, purpose: str, today: dt.date):
    """(grant id, fields) of the approved grants valid ``today``: one indexed query."""
    connection = connections[router.db_for_read(SharingGrant)]
    day = connection.ops.adapt_datefield_value(today)
    rows = fast.fetchall(
        _hot_sql(connection.vendor)["grants"],
        [
            resource_code,
            True,
            _uuid_param(department.pk, connection),
            _uuid_param(department.parent_id or department.pk, connection),
            Status.APPROVED.value,
            purpose,
            day,
            day,
        ],
    )
    return [(_as_uuid(pk), json.loads(names) if isinstance(names, str) else names) for pk, names in rows]


def _why_refused(resource_code: str, department: Department, purpose: str, today: dt.date) -> str:
    """Why no grant covers a lookup (the refusal path only: one more query to say it precisely)."""
    ids = [department.pk] + ([department.parent_id] if department.parent_id else [])
    rows = SharingGrant.objects.filter(resource__code=resource_code, department_id__in=ids, purpose=purpose)
    statuses = {(s, u) for s, u in rows.values_list("status", "valid_until")}
    if any(s == Status.APPROVED and u is not None and u < today for s, u in statuses):
        return "expired"
    if any(s == Status.APPROVED for s, _u in statuses):
        return "not_yet_valid"
    if any(s == Status.REQUESTED for s, _u in statuses):
        return "pending"
    return "no_grant"


_REASONS = {
    "not_shared": gettext_lazy("the resource is not shared"),
    "inactive": gettext_lazy("the resource is not in the catalogue"),
    "no_grant": gettext_lazy("no grant"),
    "expired": gettext_lazy("the grant has expired"),
    "not_yet_valid": gettext_lazy("the grant is not valid yet"),
    "pending": gettext_lazy("the request awaits the owner's approval"),
    "fields": gettext_lazy("fields not granted"),
}


def _missing_text(*, spec: ResourceSpec, fields, purpose: str, department: Department, reason: str) -> str:
    return _(
        "Missing grant: %(department)s may not read %(fields)s of data resource %(resource)s (%(owner)s) for "
        "purpose “%(purpose)s” — %(reason)s."
    ) % {
        "department": department.code,
        "fields": ", ".join(fields) if fields else _("any field"),
        "resource": spec.code,
        "owner": spec.owner,
        "purpose": purpose,
        "reason": _REASONS.get(reason, reason),
    }


def _persons_concerned(spec: ResourceSpec, subject_key: str, fields) -> tuple[list, list]:
    """(person ids, organisation ids) whose data a lookup of ``fields`` of ``subject_key`` touches: the spec's
    ``person_ids(subject_key, fields)`` (else the person named by a resident ID), and the organisation named by a
    credit code."""
    organisations = []
    if spec.subject == "organisation":
        organisations = list(
            Organisation.objects.filter(credit_code=subject_key).values_list("pk", flat=True)[:1]
        )
    if spec.person_ids is not None:
        return list(dict.fromkeys(spec.person_ids(subject_key, fields) or ())), organisations
    if spec.subject == "person":
        row = fast.fetchone(_hot_sql(connections[router.db_for_read(Person)].vendor)["person"], [subject_key])
        return ([_as_uuid(row[0])] if row else []), organisations
    return [], organisations


def _data_uses_insert(
    uses, *, at, department, resource_code, fields, purpose, case_id, case_number, allowed, refused_reason
) -> None:
    """One INSERT of the DataUse rows of a lookup (``uses``: (person id, organisation id) pairs)."""
    connection = connections[router.db_for_write(DataUse)]
    common = [
        connection.ops.adapt_datetimefield_value(at),
        _uuid_param(department.pk, connection),
        resource_code,
        json.dumps(list(fields), ensure_ascii=False),
        purpose[:200],
        _uuid_param(case_id, connection),
        case_number[:40],
        allowed,
        refused_reason,
    ]
    rows = [[_uuid_param(pid, connection), _uuid_param(oid, connection), *common] for pid, oid in uses]
    insert = _hot_sql(connection.vendor)["use"]
    values = insert[insert.index("VALUES ") + len("VALUES ") :]
    # A household's members are one multi-row INSERT (executemany would be one statement per person).
    for start in range(0, len(rows), USES_PER_INSERT):
        chunk = rows[start : start + USES_PER_INSERT]
        fast.execute(insert + (", " + values) * (len(chunk) - 1), [value for row in chunk for value in row])


def _uses_not_yet_today(uses, *, department, resource_code, fields, purpose, allowed) -> list:
    """Those of ``uses`` (person id, organisation id) with no line of this very read recorded today."""
    start = dt.datetime.combine(calendar.today(), dt.time.min, tzinfo=calendar.SHANGHAI)
    people = [pid for pid, _oid in uses if pid is not None]
    organisations = [oid for _pid, oid in uses if oid is not None]
    wanted = list(fields)
    seen = {
        (pid, oid)
        for pid, oid, recorded in DataUse.objects.filter(
            Q(person_id__in=people) | Q(organisation_id__in=organisations),
            at__gte=start,
            department=department,
            resource_code=resource_code,
            purpose=purpose[:200],
            allowed=allowed,
            case_id__isnull=True,
        ).values_list("person_id", "organisation_id", "fields")
        if list(recorded) == wanted
    }
    return [use for use in uses if use not in seen]


def _subject_for_audit(spec: ResourceSpec, subject_key: str, person_ids: list, organisation_ids: list):
    if spec.subject == "person":
        return "person", str(person_ids[0]) if person_ids else ""
    if spec.subject == "organisation":
        return "organisation", str(organisation_ids[0]) if organisation_ids else subject_key[:64]
    return spec.subject, subject_key[:64]


def lookup(
    *,
    actor: Actor,
    department,
    resource_code: str,
    subject_key: str,
    fields=None,
    purpose: str,
    case_id=None,
    case_number: str = "",
    raise_refused: bool = True,
    today: dt.date | None = None,
    once_a_day: bool = False,
) -> LookupResult:
    """Read ``fields`` (default: every granted field) of ``resource_code`` about ``subject_key`` for
    ``department`` and ``purpose``, in a case if given.

    Allowed when the department owns the resource (or is a branch of its owner), or when an approved grant of
    the department (or of its municipal department) for exactly this purpose, valid today, covers every field
    asked for. Either way one audit entry (``data.lookup`` / ``data.lookup_refused``) and one ``DataUse`` per
    person concerned are written in one transaction. A refusal raises ``GrantMissing`` (after that
    transaction commits; inside a caller's transaction, catch it or pass ``raise_refused=False`` to get a
    ``LookupResult`` with ``allowed=False``, or the refusal's record rolls back with the caller's work).

    With ``once_a_day`` (prefill: a page load is not a new use of the data), a person's ``DataUse`` line is
    written only when no line of the same department, resource, fields, purpose and outcome was written for
    them today (Asia/Shanghai) outside a case; the audit entry is written every time.

    The hot path: the spec from memory, one grant query, the registry's fetch, one query for the persons
    concerned, the audit append and one INSERT of the DataUse rows. Inside ``core.db.deferred.writes_deferred()``
    (a submission's checks) the reads run without a transaction and the record is written by the caller later,
    in its transaction, with the lookup's time.
    """
    spec = resource_spec(resource_code)
    if spec is None:
        raise ValidationError({"resource": _("No data resource has this code.")})
    department = _department(department)
    purpose = " ".join((purpose or "").split())
    if not purpose:
        raise ValidationError({"purpose": _("Say for what purpose the data is needed.")})
    subject_key = (
        (subject_key or "").strip().upper()
        if spec.subject != "property_unit"
        else (subject_key or "").strip()
    )
    if not subject_key:
        raise ValidationError({"subject": _("Name the subject of the lookup.")})
    if fields is not None:
        if isinstance(fields, str):
            fields = [fields]
        unknown = [f for f in fields if f not in spec.fields]
        if unknown:
            raise ValidationError(
                {
                    "fields": _("The resource has no field %(fields)s.")
                    % {"fields": ", ".join(map(str, unknown))}
                }
            )
        requested = [name for name in spec.fields if name in set(fields)]
    else:
        requested = None
    today = today or calendar.today()
    if isinstance(case_id, str) and case_id:
        case_id = uuid.UUID(case_id)

    # Decide (reads only, outside the write transaction).
    reason, basis, grant_ids, granted = "", "", (), []
    if spec.owner in _department_codes(department):
        basis, granted = "owner", list(requested or spec.fields)
    elif spec.sharing == "not_shared":
        reason = "not_shared"
    else:
        rows = _grants_for(spec.code, department, purpose, today)
        covered = set()
        for _pk, names in rows:
            covered.update(names)
        if not rows:
            reason = _why_refused(spec.code, department, purpose, today)
            if reason == "no_grant" and not DataResource.objects.filter(code=spec.code, active=True).exists():
                reason = "inactive"
        elif requested is not None and not set(requested) <= covered:
            reason = "fields"
        else:
            basis, grant_ids = "grant", tuple(pk for pk, _names in rows)
            granted = [
                name for name in spec.fields if name in covered and (requested is None or name in requested)
            ]
    allowed = not reason
    asked = requested if requested is not None else granted
    data = spec.fetch(subject_key, list(granted)) if allowed else None
    person_ids, organisation_ids = _persons_concerned(spec, subject_key, asked)
    missing = ""
    if not allowed:
        missing_fields = (
            [f for f in requested if f not in covered]
            if reason == "fields"
            else (requested or list(spec.fields))
        )
        missing = _missing_text(
            spec=spec, fields=missing_fields, purpose=purpose, department=department, reason=reason
        )

    # Record (one audit append and one INSERT).
    subject_type, subject_id = _subject_for_audit(spec, subject_key, person_ids, organisation_ids)
    now = timezone.now()
    refused_reason = str(_REASONS.get(reason, reason))[:300] if reason else ""
    uses = [(pid, None) for pid in person_ids] + [(None, oid) for oid in organisation_ids]
    if once_a_day and uses and case_id is None:
        uses = _uses_not_yet_today(
            uses,
            department=department,
            resource_code=spec.code,
            fields=asked,
            purpose=purpose,
            allowed=allowed,
        )
    details = {"resource": spec.code, "fields": asked, "department": department.code}
    if allowed:
        details["basis"] = basis
        details["found"] = data not in (None, [], {})
        if grant_ids:
            details["grants"] = [str(pk) for pk in grant_ids]
    else:
        details["reason"] = reason
    if case_number:
        details["case_number"] = case_number
    if len(person_ids) > 1:
        details["persons"] = len(person_ids)
    record = partial(
        _lookup_record,
        actor=actor,
        action="data.lookup" if allowed else "data.lookup_refused",
        subject_type=subject_type,
        subject_id=subject_id,
        purpose=purpose,
        details=details,
        uses=uses,
        at=now,
        department=department,
        resource_code=spec.code,
        fields=asked,
        case_id=case_id,
        case_number=case_number,
        allowed=allowed,
        refused_reason=refused_reason,
    )
    # Outside a transaction, in a block that puts records off (a submission's checks, core.db.deferred), the record
    # is written with the case or the refusal that follows, without holding the write lock now.
    if not defer(record):
        record()
    result = LookupResult(
        allowed=allowed,
        resource=spec.code,
        subject_key=subject_key,
        fields=tuple(granted if allowed else asked),
        data=data,
        missing=missing,
        reason=reason,
        basis=basis,
        grant_ids=grant_ids,
        person_ids=tuple(person_ids),
    )
    if not allowed and raise_refused:
        raise GrantMissing(
            missing,
            params={
                "resource": spec.code,
                "fields": list(asked),
                "purpose": purpose,
                "department": department.code,
                "reason": reason,
            },
        )
    return result


def _lookup_record(
    *,
    actor,
    action,
    subject_type,
    subject_id,
    purpose,
    details,
    uses,
    at,
    department,
    resource_code,
    fields,
    case_id,
    case_number,
    allowed,
    refused_reason,
) -> None:
    """A lookup's audit entry and its DataUse rows, together (in a caller's transaction, its own)."""
    with transaction.atomic(savepoint=False):
        audit_record(
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            case_id=str(case_id) if case_id else "",
            purpose=purpose,
            details=details,
            at=at,
        )
        if uses:
            _data_uses_insert(
                uses,
                at=at,
                department=department,
                resource_code=resource_code,
                fields=fields,
                purpose=purpose,
                case_id=case_id,
                case_number=case_number,
                allowed=allowed,
                refused_reason=refused_reason,
            )


@transaction.atomic
def data_uses_submission_refused(*, actor: Actor, submission_id) -> int:
    """The lookups made for a submission that was then refused: they happened, so their lines stay in the
    persons' "who used my data", but without the case number the submission would have had (no such case
    exists) and with the outcome "submission refused". One audit entry says so, naming the submission id the
    lookups' own audit entries carry. Returns the number of lines changed."""
    changed = DataUse.objects.filter(case_id=submission_id).update(
        case_id=None, case_number="", outcome=DataUse.Outcome.SUBMISSION_REFUSED
    )
    if changed:
        audit_record(
            actor=actor,
            action="data.submission_refused",
            subject_type="submission",
            subject_id=str(submission_id),
            details={"data_uses": changed},
        )
    return changed


# --- evidence --------------------------------------------------------------------------------------------------


def _facts(data) -> dict:
    if isinstance(data, list):
        return data[0] if data else {}
    return data or {}


def evidence_is_married(
    *, actor: Actor, department, resident_id: str, purpose: str, case_id=None, case_number: str = ""
) -> Evidence:
    """Is the person with ``resident_id`` married now (civil-affairs ``marriage-status``)? Raises GrantMissing."""
    result = lookup(
        actor=actor,
        department=department,
        resource_code=MARRIAGE_RESOURCE,
        subject_key=resident_id,
        fields=["married", "marital_status", "registered_on"],
        purpose=purpose,
        case_id=case_id,
        case_number=case_number,
    )
    facts = _facts(result.data)
    return Evidence(holds=bool(facts.get("married")), resource=result.resource, facts=facts, lookup=result)


def evidence_owns_unit(
    *,
    actor: Actor,
    department,
    resident_id: str,
    unit_number: str,
    purpose: str,
    case_id=None,
    case_number: str = "",
) -> Evidence:
    """Is the person with ``resident_id`` a current owner of property unit ``unit_number``
    (planning-resources ``property-ownership``)? Raises GrantMissing."""
    result = lookup(
        actor=actor,
        department=department,
        resource_code=PROPERTY_OWNERSHIP_RESOURCE,
        subject_key=unit_number,
        fields=["unit_number", "owners"],
        purpose=purpose,
        case_id=case_id,
        case_number=case_number,
    )
    facts = _facts(result.data)
    wanted = (resident_id or "").strip().upper()
    holds = any(
        o.get("kind") == "person" and (o.get("id_number") or "").upper() == wanted
        for o in facts.get("owners") or []
    )
    return Evidence(holds=holds, resource=result.resource, facts=facts, lookup=result)


def evidence_unit_free(
    *, actor: Actor, department, unit_number: str, purpose: str, case_id=None, case_number: str = ""
) -> Evidence:
    """Is property unit ``unit_number`` free of an active mortgage and of a seizure (planning-resources
    ``property-encumbrances``)? An unknown unit is not free. Raises GrantMissing."""
    result = lookup(
        actor=actor,
        department=department,
        resource_code=PROPERTY_ENCUMBRANCE_RESOURCE,
        subject_key=unit_number,
        fields=["mortgaged", "seized"],
        purpose=purpose,
        case_id=case_id,
        case_number=case_number,
    )
    facts = _facts(result.data)
    holds = result.found and facts.get("mortgaged") is False and facts.get("seized") is False
    return Evidence(holds=holds, resource=result.resource, facts=facts, lookup=result)


def evidence_deed_tax_paid(
    *, actor: Actor, department, unit_number: str, purpose: str, case_id=None, case_number: str = ""
) -> Evidence:
    """Has deed tax been paid for the transfer of ``unit_number`` (tax ``deed-tax``)? With ``case_id``, only a
    payment recorded for that case counts. Raises GrantMissing."""
    result = lookup(
        actor=actor,
        department=department,
        resource_code=DEED_TAX_RESOURCE,
        subject_key=unit_number,
        fields=["paid", "payments"],
        purpose=purpose,
        case_id=case_id,
        case_number=case_number,
    )
    facts = _facts(result.data)
    payments = facts.get("payments") or []
    if case_id:
        holds = any(str(p.get("case_id") or "") == str(case_id) for p in payments)
    else:
        holds = bool(facts.get("paid"))
    return Evidence(holds=holds, resource=result.resource, facts=facts, lookup=result)
