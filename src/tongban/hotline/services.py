"""Writes of the hotline: take a ticket, route it, handle, reply, call back, reopen.

Each service is one transaction writing the ticket, a timeline step, an audit entry and an event. Routing asks the
classifier (``routing``); above ``TONGBAN_HOTLINE_AUTO_DISPATCH`` confidence the ticket goes straight to the
department (its branch in the ticket's district when it has one), below it waits for a dispatcher, whose choice is
kept as a correction for the next training.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core import calendar
from tongban.core.audit import Actor, audit_record
from tongban.core.events import event_emit
from tongban.core.exceptions import Conflict
from tongban.core.sla import SLAClock
from tongban.identity.models import AdminUnit, Department
from tongban.identity.permissions import require_permission
from tongban.identity.reference import branch_code
from tongban.identity.selectors import actor_for

from .models import RoutingCorrection, Ticket, TicketStep

MAX_TEXT = 10_000
REOPEN_WORKING_DAYS = 10
# Time limits in working days by type (DOMAIN.md: 1 for consultations and suggestions, 5 for complaints and help
# requests); urgent and very urgent tickets are due the same working day.
LIMITS = {
    Ticket.Type.CONSULT: 1,
    Ticket.Type.SUGGESTION: 1,
    Ticket.Type.COMPLAINT: 5,
    Ticket.Type.HELP: 5,
    Ticket.Type.REPORT: 5,
}


def auto_dispatch_threshold() -> float:
    return float(getattr(settings, "TONGBAN_HOTLINE_AUTO_DISPATCH", 0.6))


def _number(now) -> str:
    return f"12345{calendar.as_local_date(now):%y%m%d}{secrets.randbelow(10**7):07d}"


def _step(ticket, *, at, kind, actor: Actor, department_id=None, note=""):
    TicketStep.objects.create(
        ticket=ticket, at=at, kind=kind, actor=actor.label[:200], department_id=department_id, note=note
    )


def _record(ticket, *, actor: Actor, action: str, details: dict | None = None):
    audit_record(
        actor=actor,
        action=f"ticket.{action}",
        subject_type="ticket",
        subject_id=str(ticket.pk),
        ticket_id=str(ticket.pk),
        details={"number": ticket.number, "status": ticket.status, **(details or {})},
    )
    event_emit(
        f"ticket.{action}",
        {"ticket": str(ticket.pk), "number": ticket.number, "status": ticket.status, **(details or {})},
        subject_type="ticket",
        subject_id=ticket.pk,
    )


def _clean_text(text) -> str:
    value = (text or "").replace("\x00", "").strip()
    if not value:
        raise ValidationError({"text": [_("Say what the request is about.")]})
    if len(value) > MAX_TEXT:
        raise ValidationError(
            {
                "text": [
                    _("The text is longer than %(n)s characters; shorten it or attach a file.")
                    % {"n": MAX_TEXT}
                ]
            }
        )
    return value


def _place(district_code: str, street_code: str):
    district = street = None
    if district_code:
        district = AdminUnit.objects.filter(code=district_code, level=AdminUnit.Level.DISTRICT).first()
        if district is None:
            raise ValidationError({"district": [_("Unknown district %(code)s.") % {"code": district_code}]})
    if street_code:
        street = AdminUnit.objects.filter(code=street_code, level=AdminUnit.Level.STREET).first()
        if street is None or (district is not None and street.parent_id != district.pk):
            raise ValidationError(
                {"street": [_("Unknown street %(code)s in this district.") % {"code": street_code}]}
            )
    return district, street


def _department_for(code: str, district) -> Department | None:
    """The department that handles a ticket: its branch in the ticket's district when it has one."""
    if district is not None:
        branch = Department.objects.filter(code=branch_code(code, district.code)).first()
        if branch is not None:
            return branch
    return Department.objects.filter(code=code).first()


def _start_clock(ticket, now):
    limit = 0 if ticket.urgency != Ticket.Urgency.GENERAL else LIMITS.get(ticket.ticket_type, 5)
    clock = SLAClock.start(now, limit)
    ticket.limit_days, ticket.clock, ticket.due_date = limit, clock.to_dict(), clock.due_date()


def ticket_create(
    *,
    user,
    channel: str,
    ticket_type: str,
    text: str,
    urgency: str = Ticket.Urgency.GENERAL,
    district_code: str = "",
    street_code: str = "",
    address: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    caller=None,
    answer: str = "",
    now: dt.datetime | None = None,
) -> Ticket:
    """Take a request (受理). A consultation answered at first contact closes at once; anything else is routed."""
    errors = {}
    if channel not in Ticket.Channel.values:
        errors["channel"] = [_("Unknown channel.")]
    if ticket_type not in Ticket.Type.values:
        errors["ticket_type"] = [_("Unknown type.")]
    if urgency not in Ticket.Urgency.values:
        errors["urgency"] = [_("Unknown urgency.")]
    try:
        text = _clean_text(text)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        district, street = _place(district_code, street_code)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if channel == Ticket.Channel.PHONE:
        require_permission(user, "ticket.take")
    now = now or timezone.now()
    actor = actor_for(user)
    prediction = None
    if not (ticket_type == Ticket.Type.CONSULT and answer.strip()):
        from .routing import classify

        prediction = classify([text])[0]
    with transaction.atomic():
        ticket = Ticket(
            number=_number(now),
            channel=channel,
            ticket_type=ticket_type,
            urgency=urgency,
            text=text,
            district=district,
            street=street,
            address=address[:200],
            caller=caller,
            contact_name=contact_name[:64],
            contact_phone=contact_phone[:20],
            taken_by=user if getattr(user, "is_authenticated", False) else None,
            created_at=now,
            updated_at=now,
        )
        if prediction is None:
            ticket.status, ticket.answer, ticket.closed_at = Ticket.Status.ANSWERED, answer.strip(), now
        else:
            ticket.suggested_department = prediction.department
            ticket.suggestion_confidence = round(float(prediction.confidence), 4)
            department = (
                _department_for(prediction.department, district)
                if prediction.confidence >= auto_dispatch_threshold()
                else None
            )
            if department is not None:
                ticket.status, ticket.department = Ticket.Status.DISPATCHED, department
                _start_clock(ticket, now)
            else:
                ticket.status = Ticket.Status.DISPATCHING
        ticket.save(force_insert=True)
        _step(ticket, at=now, kind="taken", actor=actor, note=ticket.get_channel_display())
        if ticket.department_id:
            _step(
                ticket,
                at=now,
                kind="dispatched",
                actor=actor,
                department_id=ticket.department_id,
                note="auto",
            )
        _record(ticket, actor=actor, action="created", details={"suggested": ticket.suggested_department})
    return ticket


def _locked(ticket) -> Ticket:
    return Ticket.objects.select_for_update(of=("self",)).select_related("department").get(pk=ticket.pk)


def ticket_dispatch(*, user, ticket: Ticket, department_code: str, now=None) -> Ticket:
    """A dispatcher sends the ticket to a department (派单); a choice other than the suggestion is kept."""
    require_permission(user, "ticket.dispatch")
    now = now or timezone.now()
    actor = actor_for(user)
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.status not in (Ticket.Status.DISPATCHING, Ticket.Status.REOPENED):
            raise Conflict(_("This ticket is not waiting for a dispatcher."), code="ticket_not_dispatching")
        department = _department_for(department_code, ticket.district)
        if department is None:
            raise ValidationError(
                {"department": [_("Unknown department %(code)s.") % {"code": department_code}]}
            )
        if department_code != ticket.suggested_department:
            RoutingCorrection.objects.create(
                ticket=ticket,
                text=ticket.text,
                suggested=ticket.suggested_department,
                department=department_code,
            )
        ticket.department, ticket.status = department, Ticket.Status.DISPATCHED
        if not ticket.clock:
            _start_clock(ticket, now)
        ticket.save(update_fields=["department", "status", "limit_days", "clock", "due_date", "updated_at"])
        _step(ticket, at=now, kind="dispatched", actor=actor, department_id=department.pk)
        _record(ticket, actor=actor, action="dispatched", details={"department": department.code})
    return ticket


def _require_handler(user, ticket):
    require_permission(user, "ticket.handle", department=ticket.department_id)


def ticket_return(*, user, ticket: Ticket, reason: str, now=None) -> Ticket:
    """The department says the ticket is not theirs (退单), with the reason; it goes back to the dispatchers."""
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the ticket is not for your department.")]})
    _require_handler(user, ticket)
    now = now or timezone.now()
    actor = actor_for(user)
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.status not in (Ticket.Status.DISPATCHED, Ticket.Status.IN_HAND):
            raise Conflict(_("Only a dispatched ticket can be returned."), code="ticket_not_dispatched")
        previous = ticket.department_id
        ticket.status, ticket.department = Ticket.Status.DISPATCHING, None
        ticket.save(update_fields=["status", "department", "updated_at"])
        _step(ticket, at=now, kind="returned", actor=actor, department_id=previous, note=reason)
        _record(ticket, actor=actor, action="returned", details={"reason": reason[:300]})
    return ticket


def ticket_accept(*, user, ticket: Ticket, now=None) -> Ticket:
    _require_handler(user, ticket)
    now = now or timezone.now()
    actor = actor_for(user)
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.status != Ticket.Status.DISPATCHED:
            raise Conflict(_("Only a dispatched ticket can be taken in hand."), code="ticket_not_dispatched")
        ticket.status = Ticket.Status.IN_HAND
        ticket.save(update_fields=["status", "updated_at"])
        _step(ticket, at=now, kind="accepted", actor=actor, department_id=ticket.department_id)
        _record(ticket, actor=actor, action="accepted")
    return ticket


def _addresses(reply: str, text: str) -> bool:
    """Whether a reply speaks to the request: it shares a word of two characters or more with it."""
    import jieba

    words = {w for w in jieba.lcut(text) if len(w.strip()) >= 2}
    return any(w in reply for w in words)


def ticket_reply(*, user, ticket: Ticket, reply: str, now=None) -> Ticket:
    """The department's reply (回复): not empty, not a bare formula, and about the request."""
    reply = (reply or "").strip()
    if len(reply) < 15:
        raise ValidationError(
            {"reply": [_("Write a reply of at least 15 characters that answers the request.")]}
        )
    if not _addresses(reply, ticket.text):
        raise ValidationError({"reply": [_("The reply does not mention what the request is about.")]})
    _require_handler(user, ticket)
    now = now or timezone.now()
    actor = actor_for(user)
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.status not in (Ticket.Status.DISPATCHED, Ticket.Status.IN_HAND):
            raise Conflict(_("This ticket is not being handled."), code="ticket_not_in_hand")
        ticket.reply, ticket.status = reply, Ticket.Status.REPLIED
        clock = SLAClock.from_dict(ticket.clock).stop(now) if ticket.clock else None
        ticket.clock = clock.to_dict() if clock else ticket.clock
        ticket.save(update_fields=["reply", "status", "clock", "updated_at"])
        _step(ticket, at=now, kind="replied", actor=actor, department_id=ticket.department_id, note=reply)
        _record(ticket, actor=actor, action="replied")
    return ticket


def ticket_callback(*, user, ticket: Ticket, satisfaction: int, note: str = "", now=None) -> Ticket:
    """The platform calls the citizen back (回访) and records their satisfaction (1–5); the ticket closes."""
    require_permission(user, "ticket.callback")
    if satisfaction not in (1, 2, 3, 4, 5):
        raise ValidationError({"satisfaction": [_("Choose a satisfaction from 1 to 5.")]})
    now = now or timezone.now()
    actor = actor_for(user)
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.status != Ticket.Status.REPLIED:
            raise Conflict(_("Only a replied ticket can be called back."), code="ticket_not_replied")
        ticket.satisfaction, ticket.status, ticket.closed_at = satisfaction, Ticket.Status.CLOSED, now
        ticket.save(update_fields=["satisfaction", "status", "closed_at", "updated_at"])
        _step(ticket, at=now, kind="called_back", actor=actor, note=f"{satisfaction}/5 {note}".strip())
        _record(ticket, actor=actor, action="closed", details={"satisfaction": satisfaction})
    return ticket


def ticket_reopen(*, user, ticket: Ticket, reason: str, now=None) -> Ticket:
    """An unsatisfied citizen reopens a closed ticket within 10 working days; it goes back to its department."""
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say what is still wrong.")]})
    require_permission(user, "ticket.callback")
    now = now or timezone.now()
    actor = actor_for(user)
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.status != Ticket.Status.CLOSED:
            raise Conflict(_("Only a closed ticket can be reopened."), code="ticket_not_closed")
        if calendar.working_days_between(ticket.closed_at, now) > REOPEN_WORKING_DAYS:
            raise Conflict(
                _("A ticket can be reopened within %(n)s working days of its closing.")
                % {"n": REOPEN_WORKING_DAYS},
                code="reopen_too_late",
            )
        ticket.status, ticket.closed_at = Ticket.Status.DISPATCHED, None
        _start_clock(ticket, now)
        ticket.save(update_fields=["status", "closed_at", "limit_days", "clock", "due_date", "updated_at"])
        _step(ticket, at=now, kind="reopened", actor=actor, department_id=ticket.department_id, note=reason)
        _record(ticket, actor=actor, action="reopened", details={"reason": reason[:300]})
    return ticket


def corrections_rows() -> list[dict]:
    """The dispatchers' corrections, as training rows for the routing model."""
    return [
        {"text": text, "department": code}
        for text, code in RoutingCorrection.objects.values_list("text", "department")
    ]


def ticket_deadlines_check(*, today: dt.date | None = None, actor: Actor | None = None) -> dict:
    """Raise the yellow warning (on the clock's warning day) and the red card (after the due date) on open tickets.

    Idempotent: a level is raised once and never lowered; each new warning is audited and emits ``ticket.warning``.
    Reads only tickets due by the day after tomorrow (the due-date index), in one query.
    """
    from tongban.core.audit import SYSTEM

    actor = actor or SYSTEM
    today = today or calendar.today()
    counts = {"yellow": 0, "red": 0}
    horizon = today + dt.timedelta(days=2)
    candidates = Ticket.objects.filter(
        status__in=[Ticket.Status.DISPATCHED, Ticket.Status.IN_HAND], due_date__lte=horizon
    ).exclude(warning="red")
    for ticket in candidates.only("pk", "number", "status", "clock", "due_date", "warning", "department_id"):
        if not ticket.clock:
            continue
        clock = SLAClock.from_dict(ticket.clock)
        due = clock.due_date()
        warn_on = clock.warning_date()
        level = ""
        if due is not None and today > due:
            level = "red"
        elif warn_on is not None and today >= warn_on:
            level = "yellow"
        if not level or (level == "yellow" and ticket.warning == "yellow"):
            continue
        with transaction.atomic():
            if not Ticket.objects.filter(pk=ticket.pk, warning=ticket.warning).update(warning=level):
                continue
            ticket.warning = level
            audit_record(
                actor=actor,
                action=f"ticket.warning_{level}",
                subject_type="ticket",
                subject_id=str(ticket.pk),
                ticket_id=str(ticket.pk),
                details={"number": ticket.number, "due": due.isoformat() if due else None},
            )
            event_emit(
                "ticket.warning",
                {
                    "ticket": str(ticket.pk),
                    "number": ticket.number,
                    "level": level,
                    "department": ticket.department_id,
                },
                subject_type="ticket",
                subject_id=ticket.pk,
            )
        counts[level] += 1
    return counts
