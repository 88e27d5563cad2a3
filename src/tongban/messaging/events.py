"""Subscribers: the applicant is told of every move of their case (办件进度通知).

Each handler reads the case by the id in the event (``cases.selectors``; a payload carries little, and may
carry less tomorrow), picks the template of ``case_messages`` and sends it with ``message_send`` to the
applicant: the applicant person, or the applicant organisation (whose agents all read its inbox). The topic
is "case", whose inbox cannot be switched off; SMS and e-mail follow the recipient's settings (``message_send``
skips an opted-out channel and says why).

Delivery is at least once: every message is keyed on the event's id (``dedupe_key``), so a replayed or
duplicated event sends nothing twice. ``docs/messaging.md`` lists the messages, when and to whom.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from django.urls import reverse

from tongban.cases import selectors as cases
from tongban.cases.models import Case
from tongban.core import calendar
from tongban.core.audit import SYSTEM
from tongban.core.events import subscriber
from tongban.core.sla import SLAClock
from tongban.identity.models import Organisation, Person

from .case_messages import TOPIC, case_template_ready
from .services import message_send

logger = logging.getLogger(__name__)

INBOX = ("inbox",)
INBOX_SMS = ("inbox", "sms")
INBOX_EMAIL = ("inbox", "email")
ALL_CHANNELS = ("inbox", "sms", "email")
# When the legal limit has run out too, the date promised in the apology is this many working days ahead.
OVERDUE_GRACE_WORKING_DAYS = 5
OPEN_STATUSES = frozenset(
    {Case.Status.ACCEPTED, Case.Status.IN_PROGRESS, Case.Status.SUPPLEMENT, Case.Status.RESUBMITTED}
)


# --- whom, and with what -------------------------------------------------------------------------------------


def _recipients(case: Case) -> list[Person | Organisation]:
    """The applicant: the organisation (its agents, the submitter among them, all read its inbox), else the person.

    Online, only the applicant or an agent of the applicant organisation can submit (``portal.apply``), so the
    submitter is always among those who read the message; at a window the clerk is not told, the applicant is.
    """
    if case.applicant_organisation_id:
        return [case.applicant_organisation]
    if case.applicant_person_id:
        return [case.applicant_person]
    return []


def _service_names(case: Case) -> tuple[str, str]:
    service = case.service
    zh = getattr(service, "name_zh", "") or case.title
    return zh, getattr(service, "name_en", "") or zh


def _case_link(case: Case) -> str:
    return reverse("cases:detail", args=[case.number])


def _day(value) -> str:
    return value.isoformat() if value else "—"


def _to(recipient) -> dict:
    return {"organisation": recipient} if isinstance(recipient, Organisation) else {"person": recipient}


def _send(
    event, case: Case, template: str, *, channels, link: str = "", key: str = "", skip=None, **context
) -> int:
    """Send ``template`` about ``case`` to each recipient (but ``skip``) once per event; return how many."""
    if not case_template_ready(template):
        logger.info(
            "message template %s is deactivated: not telling the applicant of %s", template, event.name
        )
        return 0
    service_zh, service_en = _service_names(case)
    link = link or _case_link(case)
    sent = 0
    for recipient in _recipients(case):
        if skip is not None and recipient == skip:
            continue
        message_send(
            actor=SYSTEM,
            topic=TOPIC,
            template=template,
            context={
                "name": recipient.name,
                "case_number": case.number,
                "service": service_zh,
                "service_en": service_en,
                "link": link,
                **context,
            },
            channels=channels,
            link=link,
            dedupe_key=f"{key or event.name}:{event.pk}",
            **_to(recipient),
        )
        sent += 1
    return sent


def _case(event) -> Case | None:
    case = cases.case_for_notification(event.payload.get("case") or event.subject_id)
    if case is None:
        logger.warning("%s %s names no known case; nobody to tell", event.name, event.pk)
    return case


# --- the handlers --------------------------------------------------------------------------------------------


@subscriber("case.submitted", name="messaging.case_submitted")
def case_submitted(event):
    """Received and waiting for a clerk's acceptance. A case accepted at once (online with automatic
    acceptance, or at a window) is past this state when the event is handled: its acceptance message says it."""
    case = _case(event)
    if case is None or case.status != Case.Status.SUBMITTED:
        return
    _send(event, case, "case-received", channels=INBOX)


@subscriber("case.accepted", name="messaging.case_accepted")
def case_accepted(event):
    """Accepted (受理), with the promised date; deemed accepted (the acceptance period ran out), with why."""
    case = _case(event)
    if case is None:
        return
    due = event.payload.get("due") or _day(case.due_date)
    if event.payload.get("action") == "deem_accept":
        # Deemed accepted (视为受理): the apology for the wait, the law, and the day it counts from, in one message.
        received = event.payload.get("accepted_on") or _day(case.accepted_at)
        _send(
            event,
            case,
            "case-deemed-accepted",
            channels=INBOX_SMS,
            date=due,
            received=received,
            deadline=_day(case.acceptance_due_on),
        )
        return
    _send(event, case, "case-accepted", channels=INBOX_SMS, date=due)


def _supplement_items(supplement) -> str:
    lines = [
        f"· {entry.get('name') or entry.get('code')}：{entry.get('reason', '')}"
        for entry in supplement.materials
    ]
    lines += [
        f"· {entry.get('label') or entry.get('field')}：{entry.get('reason', '')}"
        for entry in supplement.fields
    ]
    if (supplement.note or "").strip():
        lines.append(supplement.note.strip())
    return "\n".join(lines)


@subscriber("case.supplement_requested", name="messaging.case_supplement_requested")
def case_supplement_requested(event):
    """The complete list of what is asked (materials and fields, each with its reason), and the day to answer by."""
    case = _case(event)
    if case is None:
        return
    supplement = cases.case_supplement_get(event.payload.get("supplement")) or cases.case_open_supplement(
        case
    )
    if supplement is None:
        logger.warning("%s %s: no supplement request found on %s", event.name, event.pk, case.number)
        return
    _send(
        event,
        case,
        "case-supplement-deadline",
        channels=ALL_CHANNELS,
        link=reverse("cases:supplement", args=[case.number]),
        items=_supplement_items(supplement),
        deadline=_day(supplement.due_on),  # what the supplement page asks: "Please answer by"
    )


@subscriber("case.resubmitted", name="messaging.case_resubmitted")
def case_resubmitted(event):
    """The supplement arrived; the clock runs again, with the new expected date."""
    case = _case(event)
    if case is None:
        return
    _send(event, case, "case-resubmitted", channels=INBOX, date=_day(case.due_date))


@subscriber("case.rejected", name="messaging.case_rejected")
def case_rejected(event):
    """Refused, with the reason and the legal basis: not accepted (不予受理) or refused after examination."""
    case = _case(event)
    if case is None:
        return
    template = "case-refused-acceptance" if case.accepted_at is None else "case-refused"
    _send(
        event,
        case,
        template,
        channels=ALL_CHANNELS,
        reason=case.rejection_reason or "—",
        basis=case.rejection_basis or "—",
    )


def _results(case: Case) -> str:
    lines = []
    for result in case.result or []:
        department = f"，{result['department']}" if result.get("department") else ""
        lines.append(f"· {result.get('name', '')}（{result.get('number', '')}{department}）")
    return "\n".join(lines) or "—"


@subscriber("case.completed", name="messaging.case_completed")
def case_completed(event):
    """Completed: the result package; then an invitation to rate the service (its own message and link).

    A benefit granted without application (免申即享) is told by the proactive service's own message instead.
    """
    case = _case(event)
    if case is None or case.channel == Case.Channel.PROACTIVE:
        return
    _send(event, case, "case-completed", channels=ALL_CHANNELS, results=_results(case))
    _send(
        event,
        case,
        "case-rating",
        channels=INBOX,
        link=reverse("evaluation:rate", args=[case.number]),
        key="case.rating",
    )


@subscriber("case.withdrawn", name="messaging.case_withdrawn")
def case_withdrawn(event):
    """A confirmation of the withdrawal (or of a declined benefit), with the reason given."""
    case = _case(event)
    if case is None:
        return
    _send(event, case, "case-withdrawn", channels=INBOX, reason=case.withdrawal_reason or "—")


def _new_date(case: Case, today: dt.date) -> dt.date:
    """The date promised in the apology: the legal limit's due date (the promise is shorter than the law's),
    or, when that has passed too, a few working days from today."""
    try:
        clock = SLAClock.from_dict(case.clock)
        legal = dataclasses.replace(clock, limit_days=max(case.legal_limit_days, clock.limit_days)).due_date()
    except (ValueError, TypeError, KeyError):
        legal = None
    if legal is not None and legal > today:
        return legal
    return calendar.add_working_days(today, OVERDUE_GRACE_WORKING_DAYS)


@subscriber("case.warning", name="messaging.case_overdue")
def case_overdue(event):
    """Past the promised date (supervision's red card on the case): an apology and the new expected date.
    The yellow warning is the departments' business, not the applicant's."""
    if event.payload.get("level") != "red":
        return
    case = _case(event)
    if case is None or case.status not in OPEN_STATUSES:
        return
    today = calendar.as_local_date(event.created_at)
    _send(
        event,
        case,
        "case-overdue",
        channels=INBOX_SMS,
        date=_day(case.due_date),
        new_date=_day(_new_date(case, today)),
    )


@subscriber("case.acceptance_warning", name="messaging.case_acceptance_late")
def case_acceptance_late(event):
    """Not accepted (nor refused) within the acceptance period (supervision's red card on the acceptance): an
    apology, with the day it should have been done by. The yellow warning is the accepting office's business."""
    if event.payload.get("level") != "red":
        return
    case = _case(event)
    if case is None or case.status != Case.Status.SUBMITTED:
        return
    _send(event, case, "case-acceptance-late", channels=INBOX_SMS, date=_day(case.acceptance_due_on))


@subscriber("licence.issued", name="messaging.licence_issued")
def licence_issued(event):
    """Each e-licence issued: to its holder, with a link to the licence's page in their wallet. A case result
    held by someone else (the newborn's social-security card) is told to the case's applicant too, with a link
    to the case, whose result package shows it."""
    from tongban.licences.selectors import licence_for_notification

    licence = licence_for_notification(event.payload.get("number") or event.subject_id or "")
    if licence is None:
        logger.warning("%s %s names no known licence", event.name, event.pk)
        return
    holder = licence.holder_organisation if licence.holder_organisation_id else licence.holder_person
    base = {
        "licence": licence.type.name_zh,
        "licence_en": licence.type.name_en or licence.type.name_zh,
        "licence_number": licence.number,
    }
    if holder is not None and case_template_ready("case-licence-issued"):
        link = reverse("licences:detail", args=[licence.number])
        message_send(
            actor=SYSTEM,
            topic=TOPIC,
            template="case-licence-issued",
            context={"name": holder.name, "link": link, **base},
            channels=INBOX_EMAIL,
            link=link,
            dedupe_key=f"{event.name}:{event.pk}",
            **_to(holder),
        )
    case = cases.case_for_notification(licence.case_id) if licence.case_id else None
    if case is not None and any(r != holder for r in _recipients(case)):
        _send(
            event,
            case,
            "case-licence-issued-for",
            channels=INBOX,
            skip=holder,
            holder=licence.holder_name,
            **base,
        )
