"""Reads for the staff pages, filtered by who is asking."""

from tongban.core.selectors import audit_entry_list
from tongban.identity.permissions import has_permission
from tongban.identity.selectors import actor_for, staff_for


def audit_entries_for(user, *, limit=20):
    """The latest audit entries ``user`` may see, and whether they are the whole department's.

    Those with ``audit.view`` for their department (its head, supervisors, data stewards) see the
    department's entries; everyone else sees only their own actions.
    """
    staff = staff_for(user)
    department_wide = staff is not None and has_permission(user, "audit.view", department=staff.department)
    if department_wide:
        return audit_entry_list(department=staff.department.code, limit=limit), True
    return audit_entry_list(actor=actor_for(user), limit=limit), False
