"""The few writes the staff pages make themselves: audit entries for reads of personal data (留痕).

State changes go through the owning app's services (cases, workflow); these only record that a staff member
looked at someone's data, and why.
"""

from django.db import transaction

from tongban.core.audit import audit_record
from tongban.identity.selectors import actor_for

PURPOSE_HANDLING = "handling"
PURPOSE_WINDOW = "window acceptance"


def case_view_record(*, user, case, purpose: str = PURPOSE_HANDLING) -> None:
    """Record that ``user`` read ``case`` (its applicant's personal data) for ``purpose``."""
    with transaction.atomic():
        audit_record(
            actor=actor_for(user),
            action="case.viewed",
            subject_type="case",
            subject_id=str(case.pk),
            case_id=str(case.pk),
            purpose=purpose,
            details={"number": case.number},
        )


def material_download_record(*, user, case, material) -> None:
    """Record that ``user`` opened a material (a document of the applicant) of ``case``."""
    with transaction.atomic():
        audit_record(
            actor=actor_for(user),
            action="case.material_downloaded",
            subject_type="case_material",
            subject_id=str(material.pk),
            case_id=str(case.pk),
            purpose=PURPOSE_HANDLING,
            details={"number": case.number, "material": material.code},
        )


def applicant_lookup_record(*, user, applicant) -> None:
    """Record that a window clerk looked up a person or an organisation to apply on their behalf."""
    kind = "person" if hasattr(applicant, "resident_id") else "organisation"
    with transaction.atomic():
        audit_record(
            actor=actor_for(user),
            action=f"{kind}.viewed",
            subject_type=kind,
            subject_id=str(applicant.pk),
            purpose=PURPOSE_WINDOW,
        )
