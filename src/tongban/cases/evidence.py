"""Materials the platform obtains itself (免提交): from a department's registry through the data hub, or from an
e-licence, instead of asking the applicant to upload what a department already holds.

A catalogue material says how it may be satisfied (``Material.satisfied_by`` / ``evidence`` /
``evidence_subject``). At submission the case asks the data hub as the service's lead department, for the
purpose of checking the application, with the case's id, so the lookup is audited and shows in the person's
"who used my data". What the hub cannot provide (no record, no grant) falls back to an upload, with the reason:
the applicant always keeps a manual way.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from tongban.core.audit import Actor

REGISTRY = "registry"
LICENCE = "licence"
# The purpose of the lookups a case makes, as written on the grants that allow them (not translated: it is
# matched against the grant's purpose and shown to the person as it was recorded).
CHECK_PURPOSE = "办件受理核验"


@dataclass
class Evidence:
    """A material satisfied by data, as it will be kept on the case (trust level A: issued by the authority)."""

    code: str
    item_code: str
    name: str
    origin: str  # "registry" | "licence" (CaseMaterial.Origin values)
    reference: str


@dataclass
class Unavailable:
    code: str
    reason: str


def _subject_key(material, form_data, applicant_person, applicant_organisation) -> str:
    if material.evidence_subject:
        return str(form_data.get(material.evidence_subject) or "").strip().upper()
    if applicant_organisation is not None:
        return applicant_organisation.credit_code
    return applicant_person.resident_id if applicant_person is not None else ""


def obtain(
    *,
    material,
    form_data: dict,
    applicant_person,
    applicant_organisation,
    department,
    service_name: str,
    case_id,
    case_number: str,
) -> Evidence | Unavailable:
    """Ask the data hub or the licence library for one material; never raises for a missing record or grant."""
    key = _subject_key(material, form_data, applicant_person, applicant_organisation)
    item_code = getattr(material, "item_code", None) or material.item.code
    if not key:
        return Unavailable(material.code, _("the form does not say whose record it is"))
    if material.satisfied_by == LICENCE:
        from tongban.licences.selectors import licence_valid_for

        licence = licence_valid_for(holder_id_number=key, type_code=material.evidence)
        if licence is None:
            return Unavailable(material.code, _("no valid e-licence was found"))
        return Evidence(material.code, item_code, material.name, LICENCE, licence.number)
    from tongban.core.exceptions import DomainError
    from tongban.exchange.services import lookup

    actor = Actor(kind="system", id="system", label="system", department=department.code)
    try:
        result = lookup(
            actor=actor,
            department=department,
            resource_code=material.evidence,
            subject_key=key,
            purpose=CHECK_PURPOSE,
            case_id=case_id,
            case_number=case_number,
            raise_refused=False,
        )
    except DomainError as exc:  # e.g. an unknown resource: say why, fall back to an upload
        return Unavailable(material.code, str(exc))
    if not result.allowed:  # no grant for the department: the refusal is audited by the hub
        return Unavailable(material.code, result.reason or _("no data-sharing grant"))
    if not getattr(result, "allowed", False) or not result.data:
        return Unavailable(
            material.code, _("the department's records hold nothing for %(key)s") % {"key": key}
        )
    return Evidence(material.code, item_code, material.name, REGISTRY, f"{material.evidence}:{key}")
