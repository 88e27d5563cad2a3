"""Supervision learns of the hotline's call-back satisfaction by event (the hotline does not call supervision).

(Ticket warnings need no event here: supervision's own deadline job raises and records them.)"""

from tongban.core.events import subscriber

from .services import ticket_rectification_open

BAD_SATISFACTION = 2  # 不满意 (2) and 非常不满意 (1) open a rectification, as a bad rating of a case does


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
