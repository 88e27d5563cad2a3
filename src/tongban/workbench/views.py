"""Staff pages: the workbench home with the staff member's department, roles and audit trail."""

from django.shortcuts import render

from tongban.identity.permissions import staff_required
from tongban.identity.selectors import staff_for

from .selectors import audit_entries_for

AUDIT_LIMIT = 20


@staff_required
def home(request):
    """The workbench home: who I am at work and the latest audit entries I may see."""
    staff = staff_for(request.user)
    entries, department_wide = audit_entries_for(request.user, limit=AUDIT_LIMIT)
    context = {
        "staff": staff,
        "roles": list(staff.roles.all()) if staff else [],
        "entries": entries,
        "department_wide": department_wide,
    }
    return render(request, "workbench/home.html", context)
