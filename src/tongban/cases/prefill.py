"""Prefill (预填): what the data hub may provide for a form is filled in, with its source; the applicant confirms
rather than types.

Form fields are mapped to resource fields by their conventional names (the catalogue's shared field names, see
``demo/catalog.py`` FIELDS), each read about the applicant. The lookups are made as the service's lead department
for the purpose ``PREFILL_PURPOSE``, so they need a grant like any other, are audited, and show in the person's
"who used my data" — once a day per person and set of fields, however often the page is loaded (the audit trail
keeps every read). A field the hub cannot fill stays empty; nothing is ever filled that the person could not see.
"""

from __future__ import annotations

from dataclasses import dataclass

from tongban.core.audit import Actor

PREFILL_PURPOSE = "表单预填"

# form field → (resource code, resource field), about the applicant. ``spouse`` fields come from the marriage
# register: for a mother applying for the newborn bundle, her spouse is the father.
FIELD_SOURCES: dict[str, tuple[str, str]] = {
    "applicant_name": ("person-identity", "name"),
    "applicant_resident_id": ("person-identity", "resident_id"),
    "buyer_name": ("person-identity", "name"),
    "buyer_resident_id": ("person-identity", "resident_id"),
    "household_address": ("household-members", "address"),
    "residence_address": ("household-members", "address"),
    "parents_married": ("marriage-status", "married"),
}
MOTHER_FIELDS: dict[str, tuple[str, str]] = {
    "mother_name": ("person-identity", "name"),
    "mother_resident_id": ("person-identity", "resident_id"),
    "father_name": ("marriage-status", "spouse_name"),
    "father_resident_id": ("marriage-status", "spouse_resident_id"),
}


@dataclass(frozen=True)
class Prefilled:
    value: object
    resource: str
    owner: str  # the owning department's name


def sources_for(schema: dict, applicant_person) -> dict[str, tuple[str, str]]:
    """The fields of ``schema`` the hub may fill for this applicant, with their (resource, field)."""
    names = set((schema or {}).get("properties", {}))
    mapping = dict(FIELD_SOURCES)
    if applicant_person is not None and applicant_person.sex == "F":
        mapping.update(MOTHER_FIELDS)
    return {name: source for name, source in mapping.items() if name in names}


def prefill(*, service, applicant_person) -> dict[str, Prefilled]:
    """Ask the hub, once per resource, for the fields it may fill; never raises for a refusal or a gap."""
    if applicant_person is None:
        return {}
    from tongban.exchange.resources import resource_spec
    from tongban.exchange.services import lookup
    from tongban.identity.models import Department

    sources = sources_for(service.form_schema, applicant_person)
    if not sources:
        return {}
    department = service.lead_department if hasattr(service, "lead_department") else service.department
    actor = Actor(kind="system", id="system", label="system", department=department.code)
    by_resource: dict[str, list[str]] = {}
    for _name, (resource, field) in sources.items():
        by_resource.setdefault(resource, []).append(field)
    owners = dict(Department.objects.values_list("code", "name_zh"))
    found: dict[str, Prefilled] = {}
    for resource, fields in by_resource.items():
        spec = resource_spec(resource)
        if spec is None:
            continue
        result = lookup(
            actor=actor,
            department=department,
            resource_code=resource,
            subject_key=applicant_person.resident_id,
            fields=sorted(set(fields)),
            purpose=PREFILL_PURPOSE,
            raise_refused=False,
            once_a_day=True,  # a page load is not a new use: one "who used my data" line a day
        )
        if not result.allowed or not isinstance(result.data, dict):
            continue
        for name, (res, field) in sources.items():
            if res == resource and result.data.get(field) not in (None, ""):
                found[name] = Prefilled(result.data[field], resource, owners.get(spec.owner, spec.owner))
    return found
