"""The few writes the staff pages make themselves: audit entries for reads of personal data (留痕).

State changes go through the owning app's services (cases, workflow); these only record that a staff member
looked at someone's data, and why.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from tongban.core.audit import audit_record
from tongban.identity.permissions import require_permission
from tongban.identity.selectors import UserActor

PURPOSE_HANDLING = "handling"
PURPOSE_WINDOW = "window acceptance"


def _require_staff(actor: UserActor) -> None:
    """The read being recorded was allowed by the case selectors (``case_get_for_user``); only staff record one."""
    if actor.kind != "staff":
        raise PermissionDenied(_("This page is for staff only."))


def case_view_record(*, actor: UserActor, case, purpose: str = PURPOSE_HANDLING) -> None:
    """Record that ``actor`` read ``case`` (its applicant's personal data) for ``purpose``."""
    _require_staff(actor)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="case.viewed",
            subject_type="case",
            subject_id=str(case.pk),
            case_id=str(case.pk),
            purpose=purpose,
            details={"number": case.number},
        )


def material_download_record(*, actor: UserActor, case, material) -> None:
    """Record that ``actor`` opened a material (a document of the applicant) of ``case``."""
    _require_staff(actor)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="case.material_downloaded",
            subject_type="case_material",
            subject_id=str(material.pk),
            case_id=str(case.pk),
            purpose=PURPOSE_HANDLING,
            details={"number": case.number, "material": material.code},
        )


def applicant_lookup_record(*, actor: UserActor, applicant) -> None:
    """Record that a window clerk looked up a person or an organisation to apply on their behalf."""
    require_permission(actor, "case.accept")
    kind = "person" if hasattr(applicant, "resident_id") else "organisation"
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=f"{kind}.viewed",
            subject_type=kind,
            subject_id=str(applicant.pk),
            purpose=PURPOSE_WINDOW,
        )
