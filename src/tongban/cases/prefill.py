"""Prefill (预填): what the data hub may provide for a form is filled in, with its source; the applicant confirms
rather than types.

Whose record fills the parents' fields depends on who applies: a mother (``role="mother"``) is the mother and her
spouse in the marriage register the father; a father the other way round; anyone else (a guardian) gets neither.
Without a role (the plain apply page), the person's sex decides. The contact phone is the applicant's own, from
their account (no other department's data is read for it), and the mailing address is the household address when
the applicant says so (``mailing_same``).

Form fields are mapped to resource fields by their conventional names (the catalogue's shared field names, see
``demo/catalog.py`` FIELDS), each read about the applicant. The lookups are made as the service's lead department
for the purpose ``PREFILL_PURPOSE``, so they need a grant like any other, are audited, and show in the person's
"who used my data" — once a day per person and set of fields, however often the page is loaded (the audit trail
keeps every read). A field the hub cannot fill stays empty; nothing is ever filled that the person could not see.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

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
FATHER_FIELDS: dict[str, tuple[str, str]] = {
    "father_name": ("person-identity", "name"),
    "father_resident_id": ("person-identity", "resident_id"),
    "mother_name": ("marriage-status", "spouse_name"),
    "mother_resident_id": ("marriage-status", "spouse_resident_id"),
}
ROLE_FIELDS = {"mother": MOTHER_FIELDS, "father": FATHER_FIELDS}
# The mailing address, when the applicant says post goes to the household address.
MAILING_FIELDS: dict[str, tuple[str, str]] = {"mailing_address": ("household-members", "address")}
# For an application made for an organisation: form field → field of the business register.
ORGANISATION_RESOURCE = "business-registration"
ORGANISATION_SOURCES: dict[str, tuple[str, str]] = {
    "company_name": (ORGANISATION_RESOURCE, "name"),
    "credit_code": (ORGANISATION_RESOURCE, "credit_code"),
    "legal_representative": (ORGANISATION_RESOURCE, "legal_representative"),
}
# Every (resource, field) a form may be filled from: the grants the demo asks for (``demo/scenarios.py``).
ALL_SOURCES: dict[str, tuple[str, str]] = {
    **FIELD_SOURCES,
    **ORGANISATION_SOURCES,
    **MOTHER_FIELDS,
    **FATHER_FIELDS,
    **MAILING_FIELDS,
}
# Form field → attribute of the applicant's own person record (their account: no data-hub read).
ACCOUNT_FIELDS = {"applicant_phone": "phone"}
ACCOUNT = "account"


@dataclass(frozen=True)
class Prefilled:
    value: object
    resource: str
    owner: str  # the owning department's name ("your account" for the applicant's own record)
    at: dt.datetime | None = None  # when it was read


def default_role(applicant_person) -> str:
    """The applicant's part in a birth when nobody said: the mother for a woman, the father for a man."""
    sex = getattr(applicant_person, "sex", "")
    return {"F": "mother", "M": "father"}.get(sex, "")


def sources_for(
    schema: dict, applicant_person, *, role: str | None = None, mailing_same: bool = False
) -> dict[str, tuple[str, str]]:
    """The fields of ``schema`` the hub may fill for this applicant, with their (resource, field)."""
    names = set((schema or {}).get("properties", {}))
    mapping = dict(FIELD_SOURCES)
    if applicant_person is not None:
        mapping.update(ROLE_FIELDS.get(default_role(applicant_person) if role is None else role, {}))
    if mailing_same:
        mapping.update(MAILING_FIELDS)
    return {name: source for name, source in mapping.items() if name in names}


def prefill(
    *, service, applicant_person, role: str | None = None, mailing_same: bool = False
) -> dict[str, Prefilled]:
    """Ask the hub, once per resource, for the fields it may fill; never raises for a refusal or a gap.

    ``role`` is the applicant's part in a birth (``mother``, ``father``, ``other``; None: from their sex).
    """
    if applicant_person is None:
        return {}
    from tongban.exchange.resources import resource_spec
    from tongban.exchange.services import lookup
    from tongban.identity.models import Department

    names = set((service.form_schema or {}).get("properties", {}))
    found: dict[str, Prefilled] = {}
    now = timezone.now()
    for name, attribute in ACCOUNT_FIELDS.items():
        value = getattr(applicant_person, attribute, "")
        if name in names and value:
            found[name] = Prefilled(value, ACCOUNT, str(_("your account")), now)
    sources = sources_for(service.form_schema, applicant_person, role=role, mailing_same=mailing_same)
    if not sources:
        return found
    department = service.lead_department if hasattr(service, "lead_department") else service.department
    actor = Actor(kind="system", id="system", label="system", department=department.code)
    by_resource: dict[str, list[str]] = {}
    for _name, (resource, field) in sources.items():
        by_resource.setdefault(resource, []).append(field)
    english = (get_language() or "").startswith("en")
    owners = {
        code: (name_en if english and name_en else name_zh)
        for code, name_zh, name_en in Department.objects.values_list("code", "name_zh", "name_en")
    }
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
                owner = owners.get(spec.owner, spec.owner)
                found[name] = Prefilled(result.data[field], resource, owner, timezone.now())
    return found


def organisation_prefill(*, service, organisation, agent_person=None) -> dict[str, Prefilled]:
    """For an application made for ``organisation``: its name, credit code and legal representative from the
    business register (through the data hub, as the service's department, once a day per page), and the acting
    agent's phone from their account. Never raises for a refusal or a gap."""
    if organisation is None:
        return {}
    from tongban.exchange.resources import resource_spec
    from tongban.exchange.services import lookup

    names = set((service.form_schema or {}).get("properties", {}))
    found: dict[str, Prefilled] = {}
    if agent_person is not None:
        for name, attribute in ACCOUNT_FIELDS.items():
            value = getattr(agent_person, attribute, "")
            if name in names and value:
                found[name] = Prefilled(value, ACCOUNT, str(_("your account")), timezone.now())
    wanted = {name: field for name, (_resource, field) in ORGANISATION_SOURCES.items() if name in names}
    spec = resource_spec(ORGANISATION_RESOURCE)
    if not wanted or spec is None:
        return found
    department = service.lead_department if hasattr(service, "lead_department") else service.department
    result = lookup(
        actor=Actor(kind="system", id="system", label="system", department=department.code),
        department=department,
        resource_code=ORGANISATION_RESOURCE,
        subject_key=organisation.credit_code,
        fields=sorted(set(wanted.values())),
        purpose=PREFILL_PURPOSE,
        raise_refused=False,
        once_a_day=True,
    )
    if not result.allowed or not isinstance(result.data, dict):
        return found
    from tongban.identity.models import Department

    owner = Department.objects.filter(code=spec.owner).first()
    english = (get_language() or "").startswith("en")
    owner_name = (owner.name_en if english and owner.name_en else owner.name_zh) if owner else spec.owner
    for name, field in wanted.items():
        if result.data.get(field) not in (None, ""):
            found[name] = Prefilled(result.data[field], ORGANISATION_RESOURCE, owner_name, timezone.now())
    return found
