"""Reads of the hotline, filtered by who asks."""

from tongban.identity.permissions import has_permission
from tongban.identity.selectors import department_scope_ids, roles_for, staff_for

from .models import Ticket

_CITY = frozenset({"hotline_operator", "dispatcher", "supervisor", "platform_admin"})


def tickets_visible_to(user):
    """Operators, dispatchers and supervisors see every ticket; a department its own (and branches for a head)."""
    if user.is_superuser or roles_for(user) & _CITY:
        return Ticket.objects.all()
    staff = staff_for(user)
    if staff is None or not has_permission(user, "ticket.view", department=staff.department_id):
        return Ticket.objects.none()
    return Ticket.objects.filter(department_id__in=department_scope_ids(staff, read_only=True))


def ticket_get_for_user(user, number: str):
    return tickets_visible_to(user).select_related("department", "district").filter(number=number).first()


def dispatch_queue():
    return Ticket.objects.filter(status__in=[Ticket.Status.DISPATCHING, Ticket.Status.REOPENED]).order_by(
        "created_at"
    )


def department_tickets(user):
    staff = staff_for(user)
    if staff is None:
        return Ticket.objects.none()
    return (
        Ticket.objects.filter(department_id=staff.department_id, status__in=Ticket.OPEN)
        .select_related("district")
        .order_by("due_date", "created_at")
    )


def callbacks_due():
    return (
        Ticket.objects.filter(status=Ticket.Status.REPLIED)
        .select_related("department")
        .order_by("updated_at")
    )


def similar_tickets(*, text: str, district_code: str = "", department: str = "", limit: int = 5):
    """Recent open tickets about the same thing at the same place: candidates for merging (duplicates)."""
    query = Ticket.objects.filter(status__in=Ticket.OPEN)
    if district_code:
        query = query.filter(district__code=district_code)
    if department:
        query = query.filter(suggested_department=department)
    return list(query.order_by("-created_at")[:limit])


def knowledge_for(text: str, limit: int = 3) -> list[dict]:
    """Service guides that may answer a consultation at first contact (the catalogue's guides, jieba search)."""
    from tongban.catalog.selectors import catalog_search

    hits = catalog_search(text, limit=limit) if len((text or "").strip()) >= 2 else []
    return [
        {
            "kind": hit.kind,
            "code": hit.code,
            "name": hit.object.name_zh,
            "url": f"/services/{'bundles' if hit.kind == 'bundle' else 'items'}/{hit.code}/",
            "promised_limit_days": hit.object.promised_limit_days,
        }
        for hit in hits
    ]


def first_contact_rate(*, since=None) -> dict:
    """Consultations answered at first contact, out of all consultations (since a date if given)."""
    query = Ticket.objects.filter(ticket_type=Ticket.Type.CONSULT)
    if since is not None:
        query = query.filter(created_at__date__gte=since)
    total = query.count()
    answered = query.filter(status=Ticket.Status.ANSWERED).count()
    return {
        "consultations": total,
        "answered": answered,
        "rate": round(answered / total, 3) if total else None,
    }
