"""Reads of the cases app. Every query that lists cases filters by who is asking.

A citizen sees the cases they applied for (or that were submitted on their behalf), an enterprise agent the
cases of their organisations; staff the cases their department leads, accepted, or has a step in; city-wide
supervisors every case.
"""

from django.core.exceptions import ValidationError
from django.db.models import Q

from tongban.identity.permissions import has_permission
from tongban.identity.selectors import department_scope_ids, roles_for, staff_for
from tongban.workflow.selectors import case_ids_for_departments

from .models import Case, CaseStep, SupplementRequest

_CITY_ROLES = frozenset({"supervisor", "platform_admin"})


def _applicant_q(user) -> Q:
    return Q(applicant_person__user=user) | Q(applicant_organisation__agents=user) | Q(submitted_by=user)


def case_list_for_applicant(user):
    """The cases of a citizen or enterprise agent, newest first."""
    if not user.is_authenticated:
        return Case.objects.none()
    return (
        Case.objects.filter(_applicant_q(user))
        .distinct()
        .select_related("item", "bundle", "lead_department")
        .order_by("-submitted_at", "-created_at")
    )


def case_list_for_staff(user, *, status=None, search=None):
    """The cases a staff member may see: led, accepted, or worked by their department (all for supervisors)."""
    if not user.is_authenticated:
        return Case.objects.none()
    if user.is_superuser or roles_for(user) & _CITY_ROLES:
        query = Case.objects.all()
    else:
        staff = staff_for(user)
        if staff is None or not has_permission(user, "case.view", department=staff.department_id):
            if staff is not None and has_permission(user, "case.accept"):
                query = Case.objects.filter(accepting_department_id=staff.department_id)
            else:
                return Case.objects.none()
        else:
            ids = department_scope_ids(staff, read_only=True)
            query = Case.objects.filter(
                Q(lead_department_id__in=ids)
                | Q(accepting_department_id__in=ids)
                | Q(pk__in=case_ids_for_departments(ids))
            )
    if status:
        query = query.filter(status=status)
    if search:
        query = query.filter(Q(number__icontains=search) | Q(title__icontains=search))
    return query.select_related("item", "bundle", "lead_department").order_by("-submitted_at", "-created_at")


def case_visible_to(user, case: Case) -> bool:
    if not user.is_authenticated:
        return False
    if case.submitted_by_id == user.pk:
        return True
    if case.applicant_person_id and case.applicant_person.user_id == user.pk:
        return True
    if case.applicant_organisation_id and case.applicant_organisation.agents.filter(pk=user.pk).exists():
        return True
    return case_list_for_staff(user).filter(pk=case.pk).exists()


def case_get_for_user(user, number: str) -> Case | None:
    """The case with this number if ``user`` may see it, else None (the caller answers 404)."""
    case = (
        Case.objects.select_related(
            "item",
            "bundle",
            "lead_department",
            "accepting_department",
            "jurisdiction_district",
            "applicant_person",
            "applicant_organisation",
        )
        .filter(number=number)
        .first()
    )
    if case is None or not case_visible_to(user, case):
        return None
    return case


def case_is_applicant(user, case: Case) -> bool:
    """Whether ``user`` is the applicant (or acts for the applicant organisation) or submitted the case."""
    if case.submitted_by_id == user.pk:
        return True
    if case.applicant_person_id and case.applicant_person.user_id == user.pk:
        return True
    return bool(
        case.applicant_organisation_id and case.applicant_organisation.agents.filter(pk=user.pk).exists()
    )


def case_timeline(case: Case):
    return CaseStep.objects.filter(case=case).select_related("department").order_by("at", "id")


def case_materials(case: Case, *, include_superseded=False):
    query = case.materials.all()
    if not include_superseded:
        query = query.filter(superseded=False)
    return query.order_by("item_code", "code", "created_at")


def case_open_supplement(case: Case):
    return case.supplements.filter(answered_at__isnull=True).order_by("-created_at").first()


def case_awaiting_acceptance(user):
    """Submitted cases waiting for manual acceptance that a clerk may accept."""
    if not has_permission(user, "case.accept"):
        return Case.objects.none()
    return (
        Case.objects.filter(status=Case.Status.SUBMITTED)
        .select_related("item", "bundle")
        .order_by("submitted_at")
    )


def case_reference(number: str) -> dict | None:
    """What another app may know of a case by its number, without personal data: the number, the service item or
    bundle code and the lead department's code (the hotline links a ticket about a case); None if unknown."""
    number = (number or "").replace("\x00", "").strip()[:32]
    if not number:
        return None
    row = (
        Case.objects.filter(number=number)
        .values("number", "item__code", "bundle__code", "lead_department__code")
        .first()
    )
    if row is None:
        return None
    return {
        "number": row["number"],
        "service_code": row["item__code"] or row["bundle__code"] or "",
        "lead_department": row["lead_department__code"],
    }


# --- for the applicant's notifications (messaging reads a case by id from its event handlers) -----------------


def case_for_notification(case_id) -> Case | None:
    """The case with its applicant and service, for a system reader that tells the applicant what happened
    (no user: the event handler acts for the platform); None for an unknown or malformed id."""
    try:
        return (
            Case.objects.select_related("item", "bundle", "applicant_person", "applicant_organisation")
            .filter(pk=case_id)
            .first()
        )
    except (ValueError, TypeError, ValidationError):
        return None


def case_supplement_get(supplement_id):
    """One supplement request by id (the complete list asked of the applicant), or None."""
    try:
        return SupplementRequest.objects.filter(pk=supplement_id).first()
    except (ValueError, TypeError, ValidationError):
        return None
