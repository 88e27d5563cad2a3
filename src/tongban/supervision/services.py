"""Writes of supervision: the deadline job's warnings and the rectification of bad ratings.

Supervision owns warnings. A task's warning field is raised through ``workflow.services.task_warning_set``;
a case's ``warning`` field is raised here (``case_warning_raise``), by a conditional update of that one field,
because the deadline job is the only writer of it and ``cases`` has no reason to know when cards are raised.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.cases.models import Case
from tongban.core import calendar
from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.core.events import event_emit
from tongban.core.exceptions import Conflict
from tongban.core.sla import SLAClock, WarningPolicy, default_warning_policy
from tongban.identity.permissions import require_permission
from tongban.identity.selectors import actor_for
from tongban.workflow.selectors import overdue_candidates
from tongban.workflow.services import task_warning_set

from .models import Rectification, Warning

logger = logging.getLogger(__name__)

CHUNK_SIZE = 500
RECTIFICATION_WORKING_DAYS = 5
OPEN_CASE_STATUSES = (Case.Status.ACCEPTED, Case.Status.IN_PROGRESS, Case.Status.RESUBMITTED)
_ORDER = {"": 0, Warning.Level.YELLOW: 1, Warning.Level.RED: 2}


# --- deadline warnings -------------------------------------------------------------------------------------


def _level_due(*, clock: dict, due_date: dt.date | None, current: str, today: dt.date, policy) -> str:
    """The warning a running clock deserves on ``today`` if it is above ``current``, else ""."""
    if due_date is None:  # paused: no due date while the applicant supplements
        return ""
    if today > due_date:
        level = Warning.Level.RED
    else:
        try:
            warning_date = SLAClock.from_dict(clock).warning_date(policy)
        except ValueError:
            logger.warning("malformed SLA clock %r: warning on the due date", clock)
            warning_date = due_date
        if warning_date is None or today < warning_date:
            return ""
        level = Warning.Level.YELLOW
    return level if _ORDER[level] > _ORDER[current or ""] else ""


def _chunks(query):
    """The rows of ``query`` in primary-key order, ``CHUNK_SIZE`` at a time (one query a chunk).

    Keyset pages rather than a server-side cursor: the job writes to the rows it reads, which SQLite does not
    isolate from an open cursor on the same connection.
    """
    last = None
    while True:
        page = query.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        rows = list(page[:CHUNK_SIZE])
        yield from rows
        if len(rows) < CHUNK_SIZE:
            return
        last = rows[-1].pk


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
    """Raise a case's warning to ``yellow`` or ``red`` (never lowers it), audited, announced and recorded.

    Only ``Case.warning`` changes, by a conditional update: of two jobs at once, one raises the card.
    """
    if _ORDER[level] <= _ORDER[case.warning or ""]:
        return False
    updated = Case.objects.filter(pk=case.pk, warning=case.warning).update(warning=level)
    if not updated:
        return False
    due = case.due_date.isoformat() if case.due_date else None
    audit_record(
        actor=actor,
        action=f"case.warning_{level}",
        subject_type="case",
        subject_id=str(case.pk),
        case_id=str(case.pk),
        details={"due": due, "department": case.lead_department_id},
    )
    event_emit(
        "case.warning",
        {"case": str(case.pk), "number": case.number, "level": level, "department": case.lead_department_id},
        subject_type="case",
        subject_id=case.pk,
    )
    _warning_record(
        subject_type=Warning.SubjectType.CASE,
        subject_id=case.pk,
        case_id=case.pk,
        case_number=case.number,
        task_name="",
        department_id=case.lead_department_id,
        level=level,
        due=case.due_date,
        now=now or timezone.now(),
    )
    case.warning = level
    return True


def deadlines_check(
    *, today: dt.date | None = None, actor: Actor = SYSTEM, policy: WarningPolicy | str | None = None
) -> dict:
    """Raise the yellow warnings and red cards due on ``today`` (default: today in Asia/Shanghai).

    Looks at running tasks (ready or claimed: paused ones have no due date) and running cases (accepted, in
    progress, resubmitted). Yellow on the clock's warning date (the policy's, by default the last working
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
    }
    tasks = overdue_candidates(on=horizon).only(
        "id", "case_id", "case_number", "name", "department", "clock", "due_date", "warning"
    )
    for task in _chunks(tasks):
        counts["tasks_checked"] += 1
        level = _level_due(
            clock=task.clock, due_date=task.due_date, current=task.warning, today=today, policy=policy
        )
        if level and task_warning_raise(task=task, level=level, actor=actor, now=now):
            counts[f"tasks_{level}"] += 1
    cases = (
        Case.objects.filter(status__in=OPEN_CASE_STATUSES, due_date__isnull=False, due_date__lte=horizon)
        .exclude(warning=Warning.Level.RED)
        .only("id", "number", "lead_department", "clock", "due_date", "warning")
    )
    for case in _chunks(cases):
        counts["cases_checked"] += 1
        level = _level_due(
            clock=case.clock, due_date=case.due_date, current=case.warning, today=today, policy=policy
        )
        if level and case_warning_raise(case=case, level=level, actor=actor, now=now):
            counts[f"cases_{level}"] += 1
    return counts


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
    *, user, rectification: Rectification, response: str, request=None, now: dt.datetime | None = None
) -> Rectification:
    """The responsible department (its head) records what it did; a supervisor then closes the case."""
    require_permission(user, "rectification.handle", department=rectification.department_id, request=request)
    text = _text(response, "response", _("Say what the department has done."))
    now = now or timezone.now()
    actor = actor_for(user)
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
    *, user, rectification: Rectification, resolution: str, request=None, now: dt.datetime | None = None
) -> Rectification:
    """A supervisor closes a rectification with its resolution (only ``supervision.warn`` may)."""
    require_permission(user, "supervision.warn", department=rectification.department_id, request=request)
    text = _text(resolution, "resolution", _("Say how the rectification was resolved."))
    now = now or timezone.now()
    actor = actor_for(user)
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
