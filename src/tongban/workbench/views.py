"""Staff pages: the workbench home with the staff member's department, roles and audit trail."""

from django.shortcuts import render

from tongban.core.selectors import audit_entry_list
from tongban.identity.permissions import has_permission, staff_required
from tongban.identity.selectors import actor_for, staff_for

AUDIT_LIMIT = 20


@staff_required
def home(request):
    """The workbench home: who I am at work and the latest audit entries I may see.

    Those with ``audit.view`` for their department (its head, supervisors, data stewards) see the
    department's latest entries; everyone else sees their own latest actions.
    """
    staff = staff_for(request.user)
    department_wide = staff is not None and has_permission(
        request.user, "audit.view", department=staff.department
    )
    if department_wide:
        entries = audit_entry_list(department=staff.department.code, limit=AUDIT_LIMIT)
    else:
        entries = audit_entry_list(actor=actor_for(request.user), limit=AUDIT_LIMIT)
    context = {
        "staff": staff,
        "roles": list(staff.roles.all()) if staff else [],
        "entries": entries,
        "department_wide": department_wide,
    }
    return render(request, "workbench/home.html", context)
