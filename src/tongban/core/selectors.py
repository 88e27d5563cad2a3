"""Reads of core data for other apps, the workbench and the admin."""

from django.db.models import Q, QuerySet

from tongban.core.models import AuditEntry, OutboxEvent

# --- audit -------------------------------------------------------------------


def audit_entry_list(
    *,
    actor=None,
    department: str | None = None,
    subject: tuple[str, str] | None = None,
    case_id: str | None = None,
    ticket_id: str | None = None,
    action: str | None = None,
    limit: int | None = 50,
) -> QuerySet[AuditEntry] | list[AuditEntry]:
    """Audit entries, newest first, filtered by who acted, in which department, on what.

    ``actor`` is a ``tongban.core.audit.Actor`` (kind and id are matched); ``department`` a
    department code; ``subject`` a ``(subject_type, subject_id)`` pair. The caller decides who may
    see what (a supervisor sees all, a department head their department) and passes the filter.
    ``limit=None`` returns the unsliced queryset, for paginating views and the admin.
    """
    entries = AuditEntry.objects.all()
    if actor is not None:
        entries = entries.filter(actor_kind=actor.kind, actor_id=actor.id)
    if department is not None:
        entries = entries.filter(actor_department=department)
    if subject is not None:
        subject_type, subject_id = subject
        entries = _in_partial_index(
            entries.filter(subject_type=subject_type, subject_id=str(subject_id)), "subject_id"
        )
    if case_id is not None:
        entries = _in_partial_index(entries.filter(case_id=str(case_id)), "case_id")
    if ticket_id is not None:
        entries = _in_partial_index(entries.filter(ticket_id=str(ticket_id)), "ticket_id")
    if action is not None:
        entries = entries.filter(action=action)
    entries = entries.order_by("-id")
    return entries if limit is None else list(entries[:limit])


def _in_partial_index(entries, column: str):
    """The filter restated with the partial index's own condition, ``NOT (column = '')``, as a literal: SQLite uses
    a partial index only when the query states its condition, and the ORM binds the '' of a ``~Q(column="")`` as a
    parameter, which SQLite cannot check. Without it a case's, ticket's or subject's entries were found by reading
    the whole audit table (25 ms at 88,000 entries; 0.015 ms with the index)."""
    table = AuditEntry._meta.db_table
    return entries.extra(where=[f'NOT ("{table}"."{column}" = \'\')'])  # noqa: S610 - our own names


# --- end audit ---------------------------------------------------------------


def outbox_events_since(start, *, after=None, limit: int):
    """Outbox events recorded at or after ``start`` (after the event ``after``, a page's last, when given), oldest
    first: the integrations' relay reads the outbox with it a page at a time."""
    query = OutboxEvent.objects.all()
    if after is None:
        query = query.filter(created_at__gte=start)
    else:
        query = query.filter(
            Q(created_at__gt=after.created_at) | Q(created_at=after.created_at, id__gt=after.id)
        )
    return query.order_by("created_at", "id")[:limit]
