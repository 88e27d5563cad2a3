"""The workbench home: who I am at work, what waits for me, and the latest audit entries I may see."""

from django.shortcuts import render

from tongban.identity.permissions import has_permission, staff_required
from tongban.identity.selectors import staff_for

from ..selectors import audit_entries_for, audit_subjects_named, inbox_summary

AUDIT_LIMIT = 20


@staff_required
def home(request):
    """The workbench home: my inbox at a glance, my department and roles, and the audit trail."""
    staff = staff_for(request.user)
    entries, department_wide = audit_entries_for(request.user, limit=AUDIT_LIMIT)
    context = {
        "staff": staff,
        "roles": list(staff.roles.all()) if staff else [],
        "entries": audit_subjects_named(entries),
        "department_wide": department_wide,
        "summary": inbox_summary(request.user) if staff else None,
        "is_clerk": has_permission(request.user, "case.accept"),
    }
    return render(request, "workbench/home.html", context)
