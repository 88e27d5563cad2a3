"""Writes of the hotline: take a ticket, route it, handle, reply, call back, reopen.

Each service is one transaction writing the ticket, a timeline step, an audit entry and an event. Routing asks the
classifier (``routing``); above ``TONGBAN_HOTLINE_AUTO_DISPATCH`` confidence the ticket goes straight to the
department (its branch in the ticket's district when it has one), below it waits for a dispatcher, whose choice is
kept as a correction for the next training.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import uuid

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core import calendar
from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.core.db import fast
from tongban.core.events import event_emit
from tongban.core.exceptions import Conflict
from tongban.core.sla import SLAClock
from tongban.identity.models import AdminUnit, Department
from tongban.identity.permissions import has_permission, require_permission
from tongban.identity.reference import branch_code
from tongban.identity.selectors import UserActor, admin_unit_cached, department_cached, person_for

from .models import FaqEntry, RoutingCorrection, Ticket, TicketStep

MAX_TEXT = 10_000
REOPEN_WORKING_DAYS = 10
COMPLEX_LIMIT = 15  # working days for a complex ticket, after a supervisor's approval
RECHECK_LIMIT = 3  # working days for a supervised ticket (督办) and for a reopened one (回访复核)
# Time limits in working days by type (DOMAIN.md: 1 for consultations and suggestions, 5 for complaints and help
# requests); urgent and very urgent tickets are due the same working day.
LIMITS = {
    Ticket.Type.CONSULT: 1,
    Ticket.Type.SUGGESTION: 1,
    Ticket.Type.COMPLAINT: 5,
    Ticket.Type.HELP: 5,
    Ticket.Type.REPORT: 5,
}


def auto_dispatch_threshold(model=None) -> float:
    """The routing confidence at or above which a ticket goes straight to the department: the setting
    ``TONGBAN_HOTLINE_AUTO_DISPATCH`` when it is set, else the threshold the model's training chose on
    hand-written calls it had not fitted (the validation split and the cross-validated spoken training calls,
    ``manifest["auto_dispatch_threshold"]``), else 0.6."""
    configured = getattr(settings, "TONGBAN_HOTLINE_AUTO_DISPATCH", None)
    if configured not in (None, ""):
        return float(configured)
    if model is None:
        try:
            from .routing import model_current
        except ImportError:  # a stand-in classifier without versions
            return 0.6
        model = model_current()
    chosen = (getattr(model, "manifest", None) or {}).get("auto_dispatch_threshold")
    return float(chosen) if chosen is not None else 0.6


MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# The first bytes of each accepted type: what the file is, whatever its name or declared type says.
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"%PDF-", "application/pdf", ".pdf"),
)


def _sniff(upload) -> tuple[str, str] | None:
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    for signature, content_type, suffix in _SIGNATURES:
        if head.startswith(signature):
            return content_type, suffix
    return None


def _attachments_errors(files) -> list[str]:
    """What is wrong with the attachments, one message a file (named), or none."""
    errors = []
    if len(files) > MAX_ATTACHMENTS:
        errors.append(_("Attach at most %(n)s files.") % {"n": MAX_ATTACHMENTS})
    for upload in files:
        name = getattr(upload, "name", "") or "?"
        size = getattr(upload, "size", 0) or 0
        if size <= 0:
            errors.append(_("%(name)s: the file is empty.") % {"name": name})
        elif size > MAX_ATTACHMENT_BYTES:
            errors.append(
                _("%(name)s: the file is larger than %(mb)s MB.")
                % {"name": name, "mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)}
            )
        elif _sniff(upload) is None:
            errors.append(_("%(name)s: attach a photo (JPEG, PNG) or a PDF.") % {"name": name})
    return errors


def _attach(ticket, files, now):
    import hashlib
    import os

    from django.core.files.base import ContentFile

    from .models import TicketAttachment

    made = []
    for upload in files:
        content_type, suffix = _sniff(upload)
        data = b"".join(upload.chunks())
        stem = os.path.splitext(os.path.basename(getattr(upload, "name", "") or "file"))[0][:80] or "file"
        attachment = TicketAttachment(
            ticket=ticket,
            name=f"{stem}{suffix}"[:200],
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_at=now,
        )
        # A random stored name: the caller's file name is kept for display only.
        attachment.file.save(f"{uuid.uuid4().hex}{suffix}", ContentFile(data), save=False)
        attachment.save()
        made.append(attachment)
    return made


def _number(now) -> str:
    return f"12345{calendar.as_local_date(now):%y%m%d}{secrets.randbelow(10**7):07d}"


def _insert_numbered(ticket, now, attempts: int = 5):
    """Insert a new ticket; if its random number is already taken (a few in ten million a day), draw another."""
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                if fast.plain(Ticket):  # one hand-written INSERT (core.db.fast): the intake's hot path
                    fast.insert([ticket])
                else:
                    ticket.save(force_insert=True)
            return
        except IntegrityError:
            if attempt == attempts - 1 or not Ticket.objects.filter(number=ticket.number).exists():
                raise
            ticket.number = _number(now)


def _step(ticket, *, at, kind, actor: Actor, department_id=None, note=""):
    TicketStep.objects.create(
        **_step_fields(ticket, at=at, kind=kind, actor=actor, department_id=department_id, note=note)
    )


def _step_fields(ticket, *, at, kind, actor: Actor, department_id=None, note=""):
    return {
        "ticket": ticket,
        "at": at,
        "kind": kind,
        "actor": actor.label[:200],
        "department_id": department_id,
        "note": note,
    }


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


def _plain(value, limit: int) -> str:
    """A short free-text field as stored: NUL bytes dropped (PostgreSQL refuses them), trimmed, cut to its column."""
    return (value or "").replace("\x00", "").strip()[:limit]


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
        district = admin_unit_cached(district_code, AdminUnit.Level.DISTRICT)
        if district is None:
            raise ValidationError({"district": [_("Unknown district %(code)s.") % {"code": district_code}]})
    if street_code:
        street = admin_unit_cached(street_code, AdminUnit.Level.STREET)
        if street is None or (district is not None and street.parent_id != district.pk):
            raise ValidationError(
                {"street": [_("Unknown street %(code)s in this district.") % {"code": street_code}]}
            )
    return district, street


def _department_for(code: str, district) -> Department | None:
    """The department that handles a ticket: its branch in the ticket's district when it has one."""
    codes = [branch_code(code, district.code), code] if district is not None else [code]
    # Reference data, kept per process (identity's cache): no statement on the intake path.
    return next((found for c in codes if (found := department_cached(c)) is not None), None)


def _start_clock(ticket, now, limit: int | None = None):
    if ticket.urgency != Ticket.Urgency.GENERAL:
        limit = 0
    elif limit is None:
        limit = LIMITS.get(ticket.ticket_type, 5)
    clock = SLAClock.start(now, limit)
    ticket.limit_days, ticket.clock, ticket.due_date = limit, clock.to_dict(), clock.due_date()


def ticket_create(
    *,
    actor: Actor,
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
    faq=None,
    attachments=(),
    case_number: str = "",
    now: dt.datetime | None = None,
) -> Ticket:
    """Take a request (受理). A consultation answered at first contact (in the operator's words or with an FAQ
    entry) closes at once; anything else is routed. Every ticket gets its topic from the classifier, and one that
    looks like an open ticket about the same problem at the same place waits for a dispatcher as a possible
    duplicate, to be merged or dispatched. ``actor`` is the citizen, the operator taking a call (who needs
    ``ticket.take``) or an anonymous Open311 client."""
    if channel == Ticket.Channel.PHONE:
        require_permission(actor, "ticket.take")
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
    attachments = list(attachments or ())
    if problems := _attachments_errors(attachments):
        errors["attachments"] = problems
    case = None
    if (case_number or "").strip():
        from tongban.cases.selectors import case_reference

        # Hotline staff link any case; a citizen only their own, with one answer for "not yours" and "unknown".
        if has_permission(actor, "ticket.take"):
            case = case_reference(case_number)
            missing = _("No case has the number %(number)s.")
        else:
            # A caller with no account (Open311, anonymous) owns no case: nothing is found for them.
            case = case_reference(case_number, applicant=getattr(actor, "user", None) or AnonymousUser())
            missing = _("None of your cases has the number %(number)s.")
        if case is None:
            errors["case_number"] = [missing % {"number": case_number.strip()[:32]}]
    if errors:
        raise ValidationError(errors)
    if faq is not None and not isinstance(faq, FaqEntry):
        faq = FaqEntry.objects.filter(pk=faq, active=True).first() if _is_uuid(faq) else None
        if faq is None:
            raise ValidationError({"faq": [_("Unknown FAQ entry.")]})
    answer = _plain(answer, MAX_TEXT)
    answered = ticket_type == Ticket.Type.CONSULT and bool(answer or faq is not None)
    now = now or timezone.now()
    user = getattr(actor, "user", None)
    from .routing import classify

    # The district lets the district-dependent routing rules apply (knowledge.json).
    prediction = classify([text], districts=[district.code if district is not None else ""])[0]
    topic = getattr(prediction, "topic", "") or ""
    duplicate = None
    if not answered and district is not None:
        from .selectors import duplicate_candidates

        candidates = duplicate_candidates(
            text=text,
            district_id=district.pk,
            street_id=street.pk if street else None,
            address=address,
            topic=topic,
            department=prediction.department,
            now=now,
            limit=1,
        )
        duplicate = candidates[0][0] if candidates else None
    with transaction.atomic():
        ticket = Ticket(
            number=_number(now),
            channel=channel,
            ticket_type=ticket_type,
            urgency=urgency,
            text=text,
            district=district,
            street=street,
            address=_plain(address, 200),
            caller=caller,
            contact_name=_plain(contact_name, 64),
            contact_phone=_plain(contact_phone, 20),
            taken_by=user if getattr(user, "is_authenticated", False) else None,
            topic=topic[:32],
            duplicate_of=duplicate,
            case_number=case["number"] if case else "",
            service_code=case["service_code"] if case else "",
            suggested_department=prediction.department,
            suggestion_confidence=round(float(prediction.confidence), 4),
            suggested_top3=[[str(code), round(float(p), 4)] for code, p in (prediction.top3 or [])][:3],
        )
        if answered:
            ticket.status, ticket.closed_at, ticket.faq = Ticket.Status.ANSWERED, now, faq
            ticket.answer = answer or faq.answer
            ticket.service_code = (
                faq.service_code if faq is not None and faq.service_code else ticket.service_code
            )
        else:
            department = (
                _department_for(prediction.department, district)
                if prediction.confidence >= auto_dispatch_threshold() and duplicate is None
                else None
            )
            if department is not None:
                ticket.status, ticket.department = Ticket.Status.DISPATCHED, department
                _start_clock(ticket, now)
            else:
                # Below the threshold, or perhaps a duplicate: a dispatcher decides (merge or dispatch).
                ticket.status = Ticket.Status.DISPATCHING
        _insert_numbered(ticket, now)
        # A new ticket's attachments are the ones just stored: kept as its prefetched list, so that showing the
        # ticket does not read them back.
        stored = ticket.attachments.all()
        stored._result_cache, stored._prefetch_done = (
            (_attach(ticket, attachments, now) if attachments else []),
            True,
        )
        ticket._prefetched_objects_cache = {"attachments": stored}
        steps = [_step_fields(ticket, at=now, kind="taken", actor=actor, note=ticket.get_channel_display())]
        if ticket.department_id:
            steps.append(
                _step_fields(
                    ticket,
                    at=now,
                    kind="dispatched",
                    actor=actor,
                    department_id=ticket.department_id,
                    note="auto",
                )
            )
        fast.insert([TicketStep(**fields) for fields in steps])  # one statement; their ids are not needed
        details = {"suggested": ticket.suggested_department, "topic": ticket.topic}
        if duplicate is not None:
            details["duplicate_of"] = duplicate.number
        _record(ticket, actor=actor, action="created", details=details)
    return ticket


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _locked(ticket) -> Ticket:
    return Ticket.objects.select_for_update(of=("self",)).select_related("department").get(pk=ticket.pk)


def ticket_dispatch(*, actor: UserActor, ticket: Ticket, department_code: str, now=None) -> Ticket:
    """A dispatcher sends the ticket to a department (派单); a choice other than the suggestion is kept."""
    require_permission(actor, "ticket.dispatch")
    now = now or timezone.now()
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


def _require_handler(actor: UserActor, ticket):
    require_permission(actor, "ticket.handle", department=ticket.department_id)


def ticket_return(*, actor: UserActor, ticket: Ticket, reason: str, now=None) -> Ticket:
    """The department says the ticket is not theirs (退单), with the reason; it goes back to the dispatchers."""
    _require_handler(actor, ticket)
    reason = _plain(reason, 2000)
    if not reason:
        raise ValidationError({"reason": [_("Say why the ticket is not for your department.")]})
    now = now or timezone.now()
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


def ticket_accept(*, actor: UserActor, ticket: Ticket, now=None) -> Ticket:
    _require_handler(actor, ticket)
    now = now or timezone.now()
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


def ticket_reply(*, actor: UserActor, ticket: Ticket, reply: str, now=None) -> Ticket:
    """The department's reply (回复): not empty, not a bare formula, and about the request."""
    _require_handler(actor, ticket)
    reply = _plain(reply, MAX_TEXT)
    if len(reply) < 15:
        raise ValidationError(
            {"reply": [_("Write a reply of at least 15 characters that answers the request.")]}
        )
    if not _addresses(reply, ticket.text):
        raise ValidationError({"reply": [_("The reply does not mention what the request is about.")]})
    now = now or timezone.now()
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
        # The tickets merged into this one get the same reply, and each caller is called back.
        merged = Ticket.objects.select_for_update().filter(merged_into=ticket, status=Ticket.Status.MERGED)
        for other in merged:
            other.reply, other.status = reply, Ticket.Status.REPLIED
            other.save(update_fields=["reply", "status", "updated_at"])
            _step(other, at=now, kind="replied", actor=actor, department_id=ticket.department_id, note=reply)
            _record(other, actor=actor, action="replied", details={"via": ticket.number})
    return ticket


def ticket_callback(
    *, actor: UserActor, ticket: Ticket, satisfaction: int, note: str = "", now=None
) -> Ticket:
    """The platform calls the citizen back (回访) and records their satisfaction (1–5); the ticket closes."""
    require_permission(actor, "ticket.callback")
    note = _plain(note, 2000)
    if satisfaction not in (1, 2, 3, 4, 5):
        raise ValidationError({"satisfaction": [_("Choose a satisfaction from 1 to 5.")]})
    now = now or timezone.now()
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.status != Ticket.Status.REPLIED:
            raise Conflict(_("Only a replied ticket can be called back."), code="ticket_not_replied")
        ticket.satisfaction, ticket.status, ticket.closed_at = satisfaction, Ticket.Status.CLOSED, now
        ticket.save(update_fields=["satisfaction", "status", "closed_at", "updated_at"])
        _step(ticket, at=now, kind="called_back", actor=actor, note=f"{satisfaction}/5 {note}".strip())
        # Supervision opens a rectification for the handling department when the caller is not satisfied (1–2).
        _record(
            ticket,
            actor=actor,
            action="closed",
            details={
                "satisfaction": satisfaction,
                "note": (note or "")[:300],
                "department": str(ticket.department_id) if ticket.department_id else None,
            },
        )
    return ticket


def ticket_reopen(*, actor: UserActor, ticket: Ticket, reason: str, now=None) -> Ticket:
    """An unsatisfied citizen reopens a closed ticket within 10 working days; it goes back to its department."""
    # The call-back staff reopen on the caller's word; the caller may reopen their own ticket themselves.
    if ticket.caller_id is None or ticket.caller != person_for(actor.user):
        require_permission(actor, "ticket.callback")
    reason = _plain(reason, 2000)
    if not reason:
        raise ValidationError({"reason": [_("Say what is still wrong.")]})
    now = now or timezone.now()
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
        ticket.status, ticket.closed_at, ticket.warning = Ticket.Status.DISPATCHED, None, ""
        _start_clock(ticket, now, limit=RECHECK_LIMIT)
        ticket.save(
            update_fields=["status", "closed_at", "warning", "limit_days", "clock", "due_date", "updated_at"]
        )
        _step(ticket, at=now, kind="reopened", actor=actor, department_id=ticket.department_id, note=reason)
        _record(ticket, actor=actor, action="reopened", details={"reason": reason[:300]})
    return ticket


def ticket_merge(*, actor: UserActor, ticket: Ticket, into: Ticket, now=None) -> Ticket:
    """A dispatcher merges a duplicate into the open ticket about the same problem (合并): it follows that
    ticket, gets its reply, and its caller is called back; nothing of it is lost (its text, caller and steps)."""
    require_permission(actor, "ticket.dispatch")
    if into.pk == ticket.pk:
        raise ValidationError({"into": [_("A ticket cannot be merged into itself.")]})
    now = now or timezone.now()
    with transaction.atomic():
        ticket, into = _locked(ticket), _locked(into)
        if ticket.status not in (Ticket.Status.DISPATCHING, Ticket.Status.DISPATCHED, Ticket.Status.REOPENED):
            raise Conflict(_("Only a ticket not yet in hand can be merged."), code="ticket_not_mergeable")
        if into.status not in Ticket.OPEN or into.merged_into_id:
            raise Conflict(_("A ticket can only be merged into an open ticket."), code="target_not_open")
        ticket.status, ticket.merged_into, ticket.duplicate_of = Ticket.Status.MERGED, into, into
        if ticket.clock:
            ticket.clock = SLAClock.from_dict(ticket.clock).stop(now).to_dict()
        ticket.save(update_fields=["status", "merged_into", "duplicate_of", "clock", "updated_at"])
        _step(ticket, at=now, kind="merged", actor=actor, department_id=into.department_id, note=into.number)
        _step(
            into, at=now, kind="merged_in", actor=actor, department_id=into.department_id, note=ticket.number
        )
        _record(ticket, actor=actor, action="merged", details={"into": into.number})
    return ticket


def ticket_not_duplicate(*, actor: UserActor, ticket: Ticket, now=None) -> Ticket:
    """A dispatcher says a proposed duplicate is another problem: the proposal is dropped (the ticket then waits
    for dispatch like any other)."""
    require_permission(actor, "ticket.dispatch")
    now = now or timezone.now()
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.duplicate_of_id is None or ticket.status == Ticket.Status.MERGED:
            raise Conflict(_("This ticket is not proposed as a duplicate."), code="not_a_duplicate")
        other = ticket.duplicate_of.number
        ticket.duplicate_of = None
        ticket.save(update_fields=["duplicate_of", "updated_at"])
        _step(ticket, at=now, kind="not_duplicate", actor=actor, note=other)
        _record(ticket, actor=actor, action="not_duplicate", details={"of": other})
    return ticket


def ticket_supervise(*, actor: UserActor, ticket: Ticket, note: str, now=None) -> Ticket:
    """A supervisor presses the department about an open ticket (督办), saying what is expected."""
    require_permission(actor, "supervision.warn")
    note = _plain(note, 2000)
    if not note:
        raise ValidationError({"note": [_("Say what the department must do.")]})
    now = now or timezone.now()
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.status not in Ticket.OPEN:
            raise Conflict(_("Only an open ticket can be supervised."), code="ticket_not_open")
        ticket.supervised_at, ticket.supervision_note = ticket.supervised_at or now, note[:2000]
        # The department answers a supervision within 3 working days (or by its own due date if sooner).
        due = calendar.add_working_days(now, RECHECK_LIMIT)
        ticket.supervision_due = min(due, ticket.supervision_due or due)
        ticket.save(update_fields=["supervised_at", "supervision_note", "supervision_due", "updated_at"])
        _step(ticket, at=now, kind="supervised", actor=actor, department_id=ticket.department_id, note=note)
        _record(
            ticket,
            actor=actor,
            action="supervised",
            details={"department": str(ticket.department_id) if ticket.department_id else None},
        )
    return ticket


def ticket_extension_request(*, actor: UserActor, ticket: Ticket, reason: str, now=None) -> Ticket:
    """The department asks to treat the ticket as a complex case (15 working days), with the reason."""
    _require_handler(actor, ticket)
    reason = _plain(reason, 2000)
    if len(reason) < 10:
        raise ValidationError({"reason": [_("Explain in a sentence why the ticket needs more time.")]})
    now = now or timezone.now()
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.status not in (Ticket.Status.DISPATCHED, Ticket.Status.IN_HAND):
            raise Conflict(_("This ticket is not being handled."), code="ticket_not_in_hand")
        if ticket.urgency != Ticket.Urgency.GENERAL:
            raise Conflict(_("An urgent ticket cannot be extended."), code="urgent_no_extension")
        if ticket.extension in (Ticket.Extension.REQUESTED, Ticket.Extension.APPROVED):
            raise Conflict(_("An extension was already asked for this ticket."), code="extension_exists")
        ticket.extension, ticket.extension_reason = Ticket.Extension.REQUESTED, reason[:2000]
        ticket.save(update_fields=["extension", "extension_reason", "updated_at"])
        _step(
            ticket,
            at=now,
            kind="extension_requested",
            actor=actor,
            department_id=ticket.department_id,
            note=reason,
        )
        _record(ticket, actor=actor, action="extension_requested")
    return ticket


def ticket_extension_decide(
    *, actor: UserActor, ticket: Ticket, approve: bool, note: str = "", now=None
) -> Ticket:
    """A supervisor approves the extension (the limit becomes 15 working days from the start, the warnings start
    over) or refuses it with a reason (the limit stays)."""
    require_permission(actor, "supervision.warn")
    note = _plain(note, 2000)
    if not approve and not note:
        raise ValidationError({"note": [_("Say why the extension is refused.")]})
    now = now or timezone.now()
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.extension != Ticket.Extension.REQUESTED or ticket.status not in Ticket.OPEN:
            raise Conflict(_("No extension is waiting for a decision."), code="no_extension_request")
        fields = ["extension", "updated_at"]
        if approve:
            ticket.extension = Ticket.Extension.APPROVED
            if ticket.clock:
                clock = dataclasses.replace(SLAClock.from_dict(ticket.clock), limit_days=COMPLEX_LIMIT)
                ticket.clock, ticket.due_date = clock.to_dict(), clock.due_date()
            ticket.limit_days, ticket.warning = COMPLEX_LIMIT, ""
            fields += ["clock", "due_date", "limit_days", "warning"]
        else:
            ticket.extension = Ticket.Extension.REFUSED
        ticket.save(update_fields=fields)
        kind = "extension_approved" if approve else "extension_refused"
        _step(ticket, at=now, kind=kind, actor=actor, department_id=ticket.department_id, note=note)
        _record(ticket, actor=actor, action=kind, details={"due": str(ticket.due_date or "")})
    return ticket


# --- the knowledge base ----------------------------------------------------------------------------------


def faq_errors(*, question, answer, keywords, department, service_code, entry=None) -> dict:
    """The field errors of an FAQ entry (empty when it may be saved)."""
    errors = {}
    if not question:
        errors["question"] = [_("Write the question as callers ask it.")]
    elif len(question) > 200:
        errors["question"] = [_("Keep the question under 200 characters.")]
    elif FaqEntry.objects.filter(question=question).exclude(pk=getattr(entry, "pk", None)).exists():
        errors["question"] = [_("This question is already in the knowledge base.")]
    if len(answer) < 10:
        errors["answer"] = [_("Write an answer of at least 10 characters.")]
    if len(keywords) > 200:
        errors["keywords"] = [_("Keep the keywords under 200 characters.")]
    if department and not Department.objects.filter(code=department).exists():
        errors["department"] = [_("Unknown department %(code)s.") % {"code": department}]
    if service_code:
        from tongban.catalog.selectors import item_get

        if item_get(service_code) is None:
            errors["service_code"] = [_("Unknown service item %(code)s.") % {"code": service_code}]
    return errors


def faq_save(
    *,
    actor: Actor,
    question: str,
    answer: str,
    keywords: str = "",
    department: str = "",
    service_code: str = "",
    active: bool = True,
    entry: FaqEntry | None = None,
    question_en: str | None = None,
    answer_en: str | None = None,
) -> FaqEntry:
    """Create or change an FAQ entry of the knowledge base (知识库), audited; every bad field is reported.

    A person editing (their ``UserActor``) needs ``faq.edit``; an import from a file passes ``SYSTEM``."""
    if actor.kind != SYSTEM.kind:
        require_permission(actor, "faq.edit")
    from tongban.catalog.text import search_text

    question, answer = _plain(question, 10_000), _plain(answer, 10_000)
    keywords, department, service_code = (
        _plain(keywords, 1000),
        _plain(department, 64),
        _plain(service_code, 64),
    )
    errors = faq_errors(
        question=question,
        answer=answer,
        keywords=keywords,
        department=department,
        service_code=service_code,
        entry=entry,
    )
    if errors:
        raise ValidationError(errors)
    entry = entry or FaqEntry()
    created = entry.pk is None or entry._state.adding
    entry.question, entry.answer, entry.keywords = question, answer, keywords
    entry.department, entry.service_code, entry.active = department, service_code, bool(active)
    if question_en is not None:  # the English wording (an English page shows it); None: left as it is
        entry.question_en = _plain(question_en, 300)
    if answer_en is not None:
        entry.answer_en = _plain(answer_en, 10_000)
    entry.search_text = search_text(question, keywords, answer)
    with transaction.atomic():
        entry.save()
        audit_record(
            actor=actor,
            action="faq.created" if created else "faq.changed",
            subject_type="faq",
            subject_id=str(entry.pk),
            details={"question": question[:100], "active": entry.active},
        )
    return entry


def corrections_rows() -> list[dict]:
    """The dispatchers' corrections, as training rows for the routing model."""
    return [
        {"text": text, "department": code}
        for text, code in RoutingCorrection.objects.values_list("text", "department")
    ]


def ticket_warning_set(*, actor: Actor, ticket: Ticket, level: str, due: dt.date | None) -> bool:
    """Raise an open ticket's card to ``yellow`` or ``red`` (never lowered; once each), audited and announced.

    Supervision's deadline job decides the level (one policy for cases, tasks and tickets) and records the
    warning; the ticket's own field changes only here, conditional on the card the job read.
    """
    order = {"": 0, "yellow": 1, "red": 2}
    if order[level] <= order[ticket.warning or ""]:
        return False
    with transaction.atomic():
        if not Ticket.objects.filter(pk=ticket.pk, warning=ticket.warning).update(warning=level):
            return False
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
                "department": str(ticket.department_id) if ticket.department_id else None,
                "due": due.isoformat() if due else None,
            },
            subject_type="ticket",
            subject_id=ticket.pk,
        )
    return True
