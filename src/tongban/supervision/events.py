"""Supervision learns of the hotline's time-limit warnings by event (the hotline does not call supervision):
each ``ticket.warning`` becomes a Warning row, shown on the supervision page beside those of cases and tasks."""

import datetime as dt
import uuid

from tongban.core.events import subscriber

from .models import Warning
from .services import _warning_record


@subscriber("ticket.warning", name="supervision.ticket_warning")
def ticket_warning_recorded(event):
    """Record a ticket's warning once (at-least-once delivery: a replay finds the row and adds nothing)."""
    payload = event.payload
    if payload.get("level") not in Warning.Level.values or not payload.get("department"):
        return
    due = payload.get("due")
    _warning_record(
        subject_type=Warning.SubjectType.TICKET,
        subject_id=uuid.UUID(str(payload["ticket"])),
        case_id=None,
        case_number=payload.get("number", "")[:32],
        task_name="",
        department_id=payload["department"],
        level=payload["level"],
        due=dt.date.fromisoformat(due) if due else None,
        now=event.created_at,
    )
