"""Writes of supervision: the deadline job's warnings and the rectification of bad ratings.

Supervision owns warnings: one job, one policy (``level_due``) and one record (``Warning``, once per subject and
level) for cases, tasks and 12345 tickets. The subject's own card field is changed by the app that owns it, through
its service: ``cases.services.case_warning_raise`` (a transition of the case lifecycle),
``workflow.services.task_warning_set`` and ``hotline.services.ticket_warning_set``; each audits and announces it.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.cases import services as cases
from tongban.cases.models import Case
from tongban.core import calendar
from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.core.events import event_emit
from tongban.core.exceptions import Conflict
from tongban.core.sla import SLAClock, WarningPolicy, default_warning_policy
from tongban.hotline.selectors import tickets_near_due
from tongban.hotline.services import ticket_warning_set
from tongban.identity.permissions import require_permission
from tongban.workflow.selectors import overdue_candidates
from tongban.workflow.services import task_warning_set

from .models import Rectification, Warning

logger = logging.getLogger(__name__)

CHUNK_SIZE = 500
RECTIFICATION_WORKING_DAYS = 5
_ORDER = {"": 0, Warning.Level.YELLOW: 1, Warning.Level.RED: 2}


# --- deadline warnings -------------------------------------------------------------------------------------


def level_due(
    *, clock: dict, due_date: dt.date | None, current: str, today: dt.date, policy, warning_date=None
) -> str:
    """The warning a running clock deserves on ``today`` if it is above ``current``, else "" (the one policy).

    Yellow from the clock's warning date (the policy's; ``warning_date`` when the subject sets its own, as a
    supervised ticket does), red from the day after ``due_date``.
    """
    if due_date is None:  # paused: no due date while the applicant supplements
        return ""
    if today > due_date:
        level = Warning.Level.RED
    else:
        if not warning_date and not clock:
            # No clock recorded (the synthetic case history carries none): warned on its due date.
            warning_date = due_date
        try:
            warning_date = warning_date or SLAClock.from_dict(clock).warning_date(policy)
        except ValueError:
            logger.warning("malformed SLA clock %r: warning on the due date", clock)
            warning_date = due_date
        if warning_date is None or today < warning_date:
            return ""
        level = Warning.Level.YELLOW
    return level if _ORDER[level] > _ORDER[current or ""] else ""


def _pages(query):
    """The rows of ``query`` in primary-key order, a list of ``CHUNK_SIZE`` at a time (one query a list).

    Keyset pages rather than a server-side cursor: the job writes to the rows it reads, which SQLite does not
    isolate from an open cursor on the same connection.
    """
    last = None
    while True:
        page = query.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        rows = list(page[:CHUNK_SIZE])
        if rows:
            yield rows
        if len(rows) < CHUNK_SIZE:
            return
        last = rows[-1].pk


def _chunks(query):
    """The rows of ``query`` one by one, read a page at a time (``_pages``)."""
    for rows in _pages(query):
        yield from rows


def _warning_record(
    *, subject_type, subject_id, case_id, case_number, task_name, department_id, level, due, now
):
    """The Warning row; a duplicate (same subject and level) is silently skipped."""
    Warning.objects.bulk_create(
        [
            Warning(
                subject_type=subject_type,
                subject_id=subject_id,
                case_id=case_id,
                case_number=case_number,
                task_name=task_name,
                department_id=department_id,
                level=level,
                raised_at=now,
                due_date=due,
            )
        ],
        ignore_conflicts=True,
    )


def _case_card_record(case, subject_type, department_id, *, level, due, now):
    """The Warning row of a card on a case itself (its handling limit, or its acceptance)."""
    _warning_record(
        subject_type=subject_type,
        subject_id=case.pk,
        case_id=case.pk,
        case_number=case.number,
        task_name="",
        department_id=department_id,
        level=level,
        due=due,
        now=now,
    )


@transaction.atomic
def task_warning_raise(*, task, level: str, actor: Actor = SYSTEM, now: dt.datetime | None = None) -> bool:
    """Raise a task's warning (audited and announced by workflow) and record it; False if it was already up."""
    if not task_warning_set(task=task, level=level, actor=actor):
        return False
    _warning_record(
        subject_type=Warning.SubjectType.TASK,
        subject_id=task.pk,
        case_id=task.case_id,
        case_number=task.case_number,
        task_name=task.name,
        department_id=task.department_id,
        level=level,
        due=task.due_date,
        now=now or timezone.now(),
    )
    return True


@transaction.atomic
def case_warning_raise(
    *, case: Case, level: str, actor: Actor = SYSTEM, now: dt.datetime | None = None
) -> bool:
    """Raise a case's card through the case lifecycle (audited, announced, on the timeline) and record it."""
    now = now or timezone.now()
    if not cases.case_warning_raise(actor=actor, case=case, level=level, now=now):
        return False
    _case_card_record(
        case, Warning.SubjectType.CASE, case.lead_department_id, level=level, due=case.due_date, now=now
    )
    return True


@transaction.atomic
def acceptance_warning_raise(
    *, case: Case, level: str, current: str = "", actor: Actor = SYSTEM, now: dt.datetime | None = None
) -> bool:
    """Card a case not accepted within its acceptance period, through the case lifecycle, and record it (the
    subject type ``accept``: its cards are apart from the handling limit's, which start at acceptance)."""
    now = now or timezone.now()
    if not cases.case_acceptance_warning_raise(actor=actor, case=case, level=level, current=current, now=now):
        return False
    department_id = case.accepting_department_id or case.lead_department_id
    if department_id is not None:
        _case_card_record(
            case,
            Warning.SubjectType.ACCEPTANCE,
            department_id,
            level=level,
            due=case.acceptance_due_on,
            now=now,
        )
    return True


def _acceptance_cards(case_ids) -> dict:
    """{case id: the highest acceptance card recorded} for these cases."""
    found = {}
    rows = Warning.objects.filter(subject_type=Warning.SubjectType.ACCEPTANCE, subject_id__in=case_ids)
    for subject_id, level in rows.values_list("subject_id", "level"):
        if _ORDER[level] > _ORDER[found.get(subject_id, "")]:
            found[subject_id] = level
    return found


def _deem_accepted(case: Case, *, actor: Actor, today: dt.date, now: dt.datetime) -> bool:
    """``cases.case_deem_accepted`` in a savepoint: one case's failure (its process cannot start, say) is logged and
    leaves it waiting with its red card, and the job goes on with the others."""
    try:
        with transaction.atomic():
            return cases.case_deem_accepted(actor=actor, case=case, today=today, now=now) is not None
    except Exception:
        logger.exception("case %s could not be deemed accepted", case.number)
        return False


def deadlines_check(
    *, today: dt.date | None = None, actor: Actor = SYSTEM, policy: WarningPolicy | str | None = None
) -> dict:
    """Raise the yellow warnings and red cards due on ``today`` (default: today in Asia/Shanghai).

    Looks at running tasks (ready or claimed: paused ones have no due date), running cases (accepted, in
    progress, resubmitted) and open 12345 tickets (dispatched or in hand). Yellow on the clock's warning date (the policy's, by default the last working
    day) up to the due date; red from the day after the due date. Each new card is one transaction with its
    audit entry and event; a card already raised is never raised again, so the job can run at any time.

    With the ``last-day`` policy the warning date is the due date, so only rows due on or before today are
    read (the due-date indexes); with a ``share:`` policy every running row with a due date is read.
    Returns the counts of cards raised and rows looked at.
    """
    today = today or calendar.today()
    if policy is None:
        policy = default_warning_policy()
    elif isinstance(policy, str):
        policy = WarningPolicy.parse(policy)
    horizon = today if policy.kind == "last-day" else dt.date.max
    now = timezone.now()
    counts = {
        "tasks_checked": 0,
        "tasks_yellow": 0,
        "tasks_red": 0,
        "cases_checked": 0,
        "cases_yellow": 0,
        "cases_red": 0,
        "acceptances_checked": 0,
        "acceptances_yellow": 0,
        "acceptances_red": 0,
        "acceptances_deemed": 0,
        "tickets_checked": 0,
        "tickets_yellow": 0,
        "tickets_red": 0,
    }
    tasks = overdue_candidates(on=horizon).only(
        "id", "case_id", "case_number", "name", "department", "clock", "due_date", "warning"
    )
    for task in _chunks(tasks):
        counts["tasks_checked"] += 1
        level = level_due(
            clock=task.clock, due_date=task.due_date, current=task.warning, today=today, policy=policy
        )
        if level and task_warning_raise(task=task, level=level, actor=actor, now=now):
            counts[f"tasks_{level}"] += 1
    cases = (
        Case.objects.filter(status__in=Case.WORKABLE_STATUSES, due_date__isnull=False, due_date__lte=horizon)
        .exclude(warning=Warning.Level.RED)
        .only("id", "number", "status", "lead_department", "clock", "due_date", "warning")
    )
    for case in _chunks(cases):
        counts["cases_checked"] += 1
        level = level_due(
            clock=case.clock, due_date=case.due_date, current=case.warning, today=today, policy=policy
        )
        if level and case_warning_raise(case=case, level=level, actor=actor, now=now):
            counts[f"cases_{level}"] += 1
    # Cases waiting for acceptance (submitted, neither accepted nor refused): their acceptance period runs from
    # submission. Few at any time (a window's queue), so all of them submitted before today are read.
    waiting = Case.objects.filter(
        status=Case.Status.SUBMITTED,
        submitted_at__isnull=False,
        submitted_at__lt=calendar.start_of_day(today),
    ).only("id", "number", "status", "submitted_at", "updated_at", "lead_department", "accepting_department")
    for chunk in _pages(waiting):
        cards = _acceptance_cards([case.pk for case in chunk])
        for case in chunk:
            counts["acceptances_checked"] += 1
            clock = case.acceptance_clock
            current = cards.get(case.pk, "")
            due = clock.due_date()
            level = level_due(
                clock=clock.to_dict(), due_date=due, current=current, today=today, policy=policy
            )
            # Past its period, the red card (the accepting office was late) and the acceptance the law deems
            # (视为受理, 《行政许可法》第三十二条) in one transaction: the applicant hears of the acceptance, not of
            # a wait that is already over.
            with transaction.atomic():
                if level and acceptance_warning_raise(
                    case=case, level=level, current=current, actor=actor, now=now
                ):
                    counts[f"acceptances_{level}"] += 1
                if due < today and _deem_accepted(case, actor=actor, today=today, now=now):
                    counts["acceptances_deemed"] += 1
    # 12345 tickets: their limits are days, not hours, so everything due by the day after tomorrow is read.
    for ticket, clock, due, warning_date in tickets_near_due(
        horizon=max(horizon, today + dt.timedelta(days=2))
    ):
        counts["tickets_checked"] += 1
        level = level_due(
            clock=clock,
            due_date=due,
            current=ticket.warning,
            today=today,
            policy=policy,
            warning_date=warning_date,
        )
        if level and ticket_warning_raise(ticket=ticket, level=level, due=due, actor=actor, now=now):
            counts[f"tickets_{level}"] += 1
    return counts


@transaction.atomic
def ticket_warning_raise(
    *, ticket, level: str, due, actor: Actor = SYSTEM, now: dt.datetime | None = None
) -> bool:
    """Raise a ticket's card through the hotline (audited, announced) and record it."""
    if not ticket_warning_set(actor=actor, ticket=ticket, level=level, due=due):
        return False
    if ticket.department_id is not None:
        _warning_record(
            subject_type=Warning.SubjectType.TICKET,
            subject_id=ticket.pk,
            case_id=None,
            case_number=ticket.number[:32],
            task_name="",
            department_id=ticket.department_id,
            level=level,
            due=due,
            now=now or timezone.now(),
        )
    return True


# --- rectifications (整改) -------------------------------------------------------------------------------------


def _rectification_payload(rectification: Rectification) -> dict:
    return {
        "rectification": str(rectification.pk),
        "subject_type": rectification.subject_type,
        "case": str(rectification.case_id) if rectification.case_id else None,
        "number": rectification.case_number,
        "department": rectification.department_id,
    }


def _rectification_subject(rectification: Rectification) -> dict:
    """The audit entry's link: the case, or for a ticket's rectification nothing more than its number (in the
    details); the ticket's id is not kept on the rectification."""
    return {"case_id": str(rectification.case_id)} if rectification.case_id else {}


def _rectification_create(*, actor: Actor, now, subject: dict, **fields) -> Rectification:
    rectification = Rectification(
        due_date=calendar.add_working_days(calendar.as_local_date(now), RECTIFICATION_WORKING_DAYS),
        status=Rectification.Status.OPEN,
        **fields,
    )
    rectification.full_clean()
    rectification.save(force_insert=True)
    audit_record(
        actor=actor,
        action="rectification.opened",
        subject_type="rectification",
        subject_id=str(rectification.pk),
        **subject,
        details={
            "rating": str(fields.get("rating_id")) if fields.get("rating_id") else None,
            "number": rectification.case_number,
            "department": rectification.department_id,
            "due": rectification.due_date.isoformat(),
        },
    )
    event_emit(
        "rectification.opened",
        {**_rectification_payload(rectification), "due": rectification.due_date.isoformat()},
        subject_type="rectification",
        subject_id=rectification.pk,
    )
    return rectification


@transaction.atomic
def rectification_open(
    *, actor: Actor, case, rating_id=None, reason: str = "", now: dt.datetime | None = None
) -> Rectification:
    """Open a rectification for the case's lead department (谁办理谁负责), due in 5 working days."""
    return _rectification_create(
        actor=actor,
        now=now or timezone.now(),
        subject={"case_id": str(case.pk)},
        case_id=case.pk,
        case_number=case.number,
        rating_id=rating_id,
        department_id=case.lead_department_id,
        reason=(reason or "").strip(),
    )


@transaction.atomic
def ticket_rectification_open(
    *, actor: Actor, ticket_id, number: str, department_id, event_id, reason: str = "", now=None
) -> Rectification | None:
    """Open a rectification for the department that handled a 12345 ticket whose caller was not satisfied, once per
    closing (``event_id``: the ``ticket.closed`` event); None when that closing already has one."""
    if Rectification.objects.filter(event_id=event_id).exists():
        return None
    return _rectification_create(
        actor=actor,
        now=now or timezone.now(),
        subject={"ticket_id": str(ticket_id)},
        subject_type=Rectification.SubjectType.TICKET,
        case_number=number[:32],
        event_id=event_id,
        department_id=department_id,
        reason=(reason or "").strip(),
    )


def _text(value: str, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: [message]})
    if len(text) > 2000:
        raise ValidationError({field: [_("Keep it within 2000 characters.")]})
    return text


def rectification_respond(
    *, actor: Actor, rectification: Rectification, response: str, now: dt.datetime | None = None
) -> Rectification:
    """The responsible department (its head) records what it did; a supervisor then closes the case."""
    require_permission(actor, "rectification.handle", department=rectification.department_id)
    text = _text(response, "response", _("Say what the department has done."))
    now = now or timezone.now()
    with transaction.atomic():
        updated = Rectification.objects.filter(pk=rectification.pk, status=Rectification.Status.OPEN).update(
            response=text, responded_by=actor.label[:200], responded_at=now, updated_at=now
        )
        if not updated:
            raise Conflict(_("This rectification is already closed."), code="rectification_closed")
        audit_record(
            actor=actor,
            action="rectification.responded",
            subject_type="rectification",
            subject_id=str(rectification.pk),
            **_rectification_subject(rectification),
        )
        event_emit(
            "rectification.responded",
            _rectification_payload(rectification),
            subject_type="rectification",
            subject_id=rectification.pk,
        )
    rectification.response, rectification.responded_by, rectification.responded_at = text, actor.label, now
    return rectification


def rectification_close(
    *, actor: Actor, rectification: Rectification, resolution: str, now: dt.datetime | None = None
) -> Rectification:
    """A supervisor closes a rectification with its resolution (only ``supervision.warn`` may)."""
    require_permission(actor, "supervision.warn", department=rectification.department_id)
    text = _text(resolution, "resolution", _("Say how the rectification was resolved."))
    now = now or timezone.now()
    with transaction.atomic():
        updated = Rectification.objects.filter(pk=rectification.pk, status=Rectification.Status.OPEN).update(
            status=Rectification.Status.CLOSED,
            resolution=text,
            closed_by=actor.label[:200],
            closed_at=now,
            updated_at=now,
        )
        if not updated:
            raise Conflict(_("This rectification is already closed."), code="rectification_closed")
        late = calendar.as_local_date(now) > rectification.due_date
        audit_record(
            actor=actor,
            action="rectification.closed",
            subject_type="rectification",
            subject_id=str(rectification.pk),
            **_rectification_subject(rectification),
            details={"late": late},
        )
        event_emit(
            "rectification.closed",
            {**_rectification_payload(rectification), "late": late},
            subject_type="rectification",
            subject_id=rectification.pk,
        )
    rectification.status, rectification.resolution = Rectification.Status.CLOSED, text
    rectification.closed_by, rectification.closed_at = actor.label, now
    return rectification
