"""Supervision learns of the hotline's time-limit warnings by event (the hotline does not call supervision):
each ``ticket.warning`` becomes a Warning row, shown on the supervision page beside those of cases and tasks."""

import datetime as dt
import uuid

from tongban.core.events import subscriber

from .models import Warning
from .services import _warning_record, ticket_rectification_open

BAD_SATISFACTION = 2  # 不满意 (2) and 非常不满意 (1) open a rectification, as a bad rating of a case does


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


@subscriber("ticket.closed", name="supervision.ticket_rectification")
def ticket_rectification(event):
    """A caller not satisfied at the call-back: the handling department must rectify (谁办理谁负责), once per closing."""
    from tongban.core.audit import SYSTEM

    payload = event.payload
    satisfaction = payload.get("satisfaction")
    if not isinstance(satisfaction, int) or satisfaction > BAD_SATISFACTION or not payload.get("department"):
        return
    ticket_rectification_open(
        actor=SYSTEM,
        ticket_id=payload["ticket"],
        number=payload.get("number", ""),
        department_id=payload["department"],
        event_id=event.pk,
        reason=f"12345 {satisfaction}/5 {payload.get('note', '')}".strip(),
        now=event.created_at,
    )
