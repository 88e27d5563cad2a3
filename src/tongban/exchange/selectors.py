"""Reads of the sharing layer: the public data catalogue, grants by who asks, and data uses.

Lists of personal data filter by the user who asks: a citizen sees only the uses of their own data; a data
steward sees the grant requests for their department's resources and the grants their department holds.
"""

from __future__ import annotations

from django.db.models import Q

from tongban.identity.models import Department
from tongban.identity.permissions import has_permission
from tongban.identity.selectors import department_scope_ids, person_for, staff_for

from .models import DataResource, DataUse, SharingGrant
from .resources import resource_spec

__all__ = [
    "case_evidence",
    "case_evidence_rows",
    "data_use_for_person",
    "data_use_rows",
    "grant_get_for",
    "grant_list_for",
    "resource_get",
    "resource_list",
    "resource_names",
]


def resource_list(*, active: bool = True, owner: Department | None = None, sharing: str | None = None):
    """The public data catalogue: resources with their owners, sharing classes and legal basis (no data)."""
    query = DataResource.objects.select_related("owner").order_by("owner__code", "code")
    if active is not None:
        query = query.filter(active=active)
    if owner is not None:
        query = query.filter(owner=owner)
    if sharing:
        query = query.filter(sharing=sharing)
    return query


def resource_get(code: str) -> DataResource | None:
    return DataResource.objects.select_related("owner").filter(code=code).first()


def resource_names() -> dict[str, DataResource]:
    """Every resource by code (to label data uses, which keep the code only)."""
    return {r.code: r for r in DataResource.objects.all()}


def _grant_departments(user) -> tuple[set, set]:
    """(departments whose resources the user decides on, departments whose requests the user sees)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set(), set()
    if user.is_superuser:
        return {"*"}, {"*"}
    staff = staff_for(user)
    if staff is None:
        return set(), set()
    scope = set(department_scope_ids(staff))
    owners = {d for d in scope if has_permission(user, "exchange.grant", department=d)}
    requesters = {d for d in scope if has_permission(user, "exchange.request", department=d)}
    return owners, requesters


def grant_list_for(user, *, status: str | None = None, role: str | None = None):
    """Grants the user may see: requests for resources their department owns (a data steward decides on
    them) and the grants their department requested. ``role`` narrows to ``"owner"`` or ``"requester"``."""
    owners, requesters = _grant_departments(user)
    query = SharingGrant.objects.select_related("department", "resource", "resource__owner")
    if "*" not in owners:
        condition = Q(pk__in=[])
        if owners and role in (None, "owner"):
            condition |= Q(resource__owner_id__in=owners)
        if requesters and role in (None, "requester"):
            condition |= Q(department_id__in=requesters)
        query = query.filter(condition)
    if status:
        query = query.filter(status=status)
    return query.order_by("-created_at")


def grant_get_for(user, pk) -> SharingGrant | None:
    return grant_list_for(user).filter(pk=pk).first()


def data_use_for_person(user):
    """The data uses of the signed-in citizen's own person record, newest first (none for anyone else)."""
    person = person_for(user)
    if person is None:
        return DataUse.objects.none()
    return DataUse.objects.filter(person_id=person.pk).select_related("department").order_by("-at", "-id")


def case_evidence(case_id):
    """The data uses of a case (what the hub read for it), oldest first, with their departments: for the
    workbench case page. The caller checks that the user may see the case."""
    if not case_id:
        return DataUse.objects.none()
    return DataUse.objects.filter(case_id=case_id).select_related("department", "person").order_by("at", "id")


def case_evidence_rows(case_id) -> list[dict]:
    """``case_evidence`` as display rows, one per lookup (a lookup of a unit with two owners wrote two uses)."""
    seen, unique = set(), []
    for use in case_evidence(case_id):
        key = (use.at, use.department_id, use.resource_code, use.allowed)
        if key not in seen:
            seen.add(key)
            unique.append(use)
    return data_use_rows(unique)


def data_use_rows(uses, *, names: dict | None = None) -> list[dict]:
    """Data uses as display rows with the resource's name and the fields' labels."""
    names = resource_names() if names is None else names
    rows = []
    for use in uses:
        resource = names.get(use.resource_code)
        rows.append(
            {
                "use": use,
                "resource": resource,
                "resource_code": use.resource_code,
                "field_labels": resource.field_labels(use.fields) if resource else list(use.fields),
            }
        )
    return rows


def resource_fields(code: str) -> dict[str, str] | None:
    """The fields of a data resource with their sensitivity (public, internal, personal, sensitive); None when no
    resource has this code."""
    spec = resource_spec(code)
    if spec is None:
        return None
    return {name: field.sensitivity for name, field in spec.fields.items()}
