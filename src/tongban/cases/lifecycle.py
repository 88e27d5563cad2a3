"""The case lifecycle in one table, and the one function that applies it.

Every change of a case's status (and every card raised on it) is a row of ``TRANSITIONS``: the statuses it may
start from, the status it leads to, who may do it (and the identity permission the service checks first),
the timeline line it writes, the audit action and the event. ``transition_apply`` writes the change, the
timeline, the audit entry and the event together, inside the caller's transaction; no other code writes a
case's status, and other apps ask through ``cases.services``.

Learned from Signalen's ``workflow.py`` (an explicit table of allowed status changes) and Zulip's actions
(``acting_user`` on every action, the audit row written with the change).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, Model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tongban.core.audit import Actor, audit_record
from tongban.core.db import fast
from tongban.core.events import event_emit
from tongban.core.exceptions import Conflict

from .models import Case, CaseStep

S = Case.Status
NEW = ""  # the source "status" of a case being created
OPEN = Case.OPEN_STATUSES
CLOSED = Case.CLOSED_STATUSES
WORKABLE = Case.WORKABLE_STATUSES
# The timeline line of a case accepted by law (视为受理): its kind says so to the pages and the receipt.
DEEMED_ACCEPTED = "deemed_accepted"


class Unchanged(Exception):
    """The transition's extra condition (``expect``) no longer held: someone else already made the change."""


@dataclass(frozen=True)
class Transition:
    """One allowed change: from ``sources`` by ``action`` to ``target`` (None: the status stays)."""

    action: str
    sources: frozenset
    target: str | None
    who: str  # applicant | window clerk | department staff | system | supervision
    permission: str | None  # checked by the service before anything is read for writing
    kind: str  # the timeline line's kind ("" writes none)
    label: str  # its msgid (translated when shown)
    audit: str | None  # the audit action
    event: str | None  # the event, delivered to subscribers (messaging tells the applicant)


def _t(action, sources, target, who, permission, kind, label, audit, event):
    return Transition(action, frozenset(sources), target, who, permission, kind, label, audit, event)


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        _t(
            "submit_online",
            {NEW},
            S.SUBMITTED,
            "applicant",
            "portal.apply",
            "submitted",
            gettext_noop("Submitted online"),
            "case.submitted",
            "case.submitted",
        ),
        _t(
            "submit_window",
            {NEW},
            S.SUBMITTED,
            "window clerk",
            "case.accept",
            "submitted",
            gettext_noop("Submitted at a window"),
            "case.submitted",
            "case.submitted",
        ),
        _t(
            "accept",
            {S.SUBMITTED},
            S.ACCEPTED,
            "window clerk or system",
            "case.accept",
            "accepted",
            gettext_noop("Accepted; due by %(date)s"),
            "case.accepted",
            "case.accepted",
        ),
        # 视为受理: neither accepted nor refused within the acceptance period, a case counts as accepted from the day
        # its materials arrived (《行政许可法》第三十二条); supervision's deadline job applies it after the red card.
        _t(
            "deem_accept",
            {S.SUBMITTED},
            S.ACCEPTED,
            "system",
            None,
            DEEMED_ACCEPTED,
            gettext_noop(
                "Deemed accepted from its receipt: not accepted or refused within the acceptance period "
                "(Administrative Licensing Law, art. 32); due by %(date)s"
            ),
            "case.deemed_accepted",
            "case.accepted",
        ),
        _t(
            "refuse_acceptance",
            {S.SUBMITTED},
            S.REJECTED,
            "window clerk",
            "case.accept",
            "rejected",
            gettext_noop("Not accepted"),
            "case.rejected",
            "case.rejected",
        ),
        _t(
            "claim",
            WORKABLE,
            S.IN_PROGRESS,
            "department staff",
            "task.work",
            "task_claimed",
            gettext_noop("%(step)s: in hand"),
            None,  # workflow audits the task's claim
            None,
        ),
        _t(
            "approve_step",
            WORKABLE,
            S.IN_PROGRESS,
            "department staff",
            "task.work",
            "task_completed",
            gettext_noop("%(step)s: approved"),
            None,  # workflow audits the task's completion and emits task.completed
            None,
        ),
        _t(
            "return_step",
            WORKABLE,
            S.IN_PROGRESS,
            "department staff",
            "task.work",
            "task_returned",
            gettext_noop("%(step)s: returned to the previous step"),
            None,
            None,
        ),
        _t(
            "request_supplement",
            WORKABLE,
            S.SUPPLEMENT,
            "department staff",
            "case.supplement",
            "supplement_requested",
            gettext_noop("Supplement requested; the time limit is paused"),
            "case.supplement_requested",
            "case.supplement_requested",
        ),
        _t(
            "resubmit",
            {S.SUPPLEMENT},
            S.RESUBMITTED,
            "applicant",
            "portal.apply",
            "resubmitted",
            gettext_noop("Supplement provided; the time limit runs again"),
            "case.resubmitted",
            "case.resubmitted",
        ),
        _t(
            "refuse",
            WORKABLE,
            S.REJECTED,
            "department staff",
            "task.work",
            "rejected",
            gettext_noop("Refused"),
            "case.rejected",
            "case.rejected",
        ),
        _t(
            "complete",
            WORKABLE,
            S.COMPLETED,
            "department staff",
            "task.work",
            "completed",
            gettext_noop("Completed; the results are ready"),
            "case.completed",
            "case.completed",
        ),
        _t(
            "withdraw",
            OPEN,
            S.WITHDRAWN,
            "applicant",
            "portal.apply",
            "withdrawn",
            gettext_noop("Withdrawn by the applicant"),
            "case.withdrawn",
            "case.withdrawn",
        ),
        _t(
            "grant",
            {NEW},
            S.COMPLETED,
            "system",
            None,
            "granted",
            gettext_noop("Granted without application"),
            "case.granted",
            "case.completed",
        ),
        _t(
            "decline_grant",
            {S.COMPLETED},
            S.WITHDRAWN,
            "applicant",
            "portal.apply",
            "withdrawn",
            gettext_noop("Declined by the person"),
            "case.grant_declined",
            "case.withdrawn",
        ),
        _t(
            "warn_yellow",
            WORKABLE,
            None,
            "supervision",
            None,
            "",
            "",
            "case.warning_yellow",
            "case.warning",
        ),
        _t(
            "warn_red",
            WORKABLE,
            None,
            "supervision",
            None,
            "overdue",
            gettext_noop("Past the promised date; the supervisor has been alerted"),
            "case.warning_red",
            "case.warning",
        ),
        # The acceptance period's own cards (a case neither accepted nor refused in time): the case's ``warning``
        # stays the handling limit's, so nothing is changed but the record of the card.
        _t(
            "warn_acceptance_yellow",
            {S.SUBMITTED},
            None,
            "supervision",
            None,
            "",
            "",
            "case.acceptance_warning_yellow",
            "case.acceptance_warning",
        ),
        _t(
            "warn_acceptance_red",
            {S.SUBMITTED},
            None,
            "supervision",
            None,
            "acceptance_overdue",
            gettext_noop("Not accepted within the acceptance period; the supervisor has been alerted"),
            "case.acceptance_warning_red",
            "case.acceptance_warning",
        ),
    )
}


def transition_get(action: str) -> Transition:
    return TRANSITIONS[action]


def allowed_actions(status: str) -> list[str]:
    """The actions the table allows from ``status`` (for pages that offer only what can be done)."""
    return [t.action for t in TRANSITIONS.values() if status in t.sources]


def _not_allowed(case_id, transition: Transition, status: str | None) -> Conflict:
    label = Case.Status(status).label if status in Case.Status.values else "?"
    if transition.sources <= WORKABLE:
        message = _("The case is %(status)s; its steps cannot be worked now.") % {"status": label}
        return Conflict(message, code="case_not_workable")
    if status in CLOSED:
        return Conflict(_("The case is already closed."), code="case_closed")
    return Conflict(
        _("The case is %(status)s: this cannot be done now.") % {"status": label},
        code=f"case_not_{transition.action}able",
    )


def line(
    case_id,
    *,
    at: dt.datetime,
    kind: str,
    label: tuple[str, Mapping],
    actor: Actor | None = None,
    department_id=None,
    role: str = "",
    task_id=None,
    note: str = "",
    awaiting: str = "",
    awaiting_params: list | dict | None = None,
) -> CaseStep:
    """One timeline line; the label is kept with its msgid (and what is awaited with its keys: see
    ``CaseStep.display_awaiting``) so that it reads in the visitor's language."""
    msgid, args = label
    params = {"msgid": msgid, "args": dict(args)}
    if awaiting_params:
        params["awaiting"] = awaiting_params
    return fast.new(
        CaseStep,
        case_id=case_id,
        at=at,
        kind=kind,
        label=(_(msgid) % args)[:200] if args else _(msgid)[:200],
        params=params,
        department_id=department_id,
        role=role,
        actor=(actor.label if actor else "")[:200],
        task_id=task_id,
        note=note,
        awaiting=awaiting[:300],
    )


def transition_apply(
    case,
    action: str,
    *,
    actor: Actor,
    now: dt.datetime,
    changes: Mapping | None = None,
    label_args: Mapping | None = None,
    line_fields: Mapping | None = None,
    lines_before: Iterable[CaseStep] = (),
    lines_after: Iterable[CaseStep] = (),
    audit_details: Mapping | None = None,
    event_payload: Mapping | None = None,
    expect: Mapping | None = None,
    pending: list | None = None,
    insert: bool = True,
    unchanged_since: dt.datetime | None = None,
    status_read: str | None = None,
) -> Case:
    """Apply ``action`` to ``case`` inside the caller's transaction: status and ``changes``, timeline, audit, event.

    The update is conditional on the case still being in one of the transition's source statuses, so two
    writers racing on one case cannot both move it: the loser gets a ``Conflict``. A case being created
    (source ``NEW``) is inserted instead. ``case`` may be a bare ``Case(pk=...)`` on the hot path: then only the
    conditional update tells whether the move was allowed. ``changes`` may hold ``F()`` expressions (kept off
    the instance). ``lines_before``/``lines_after`` are extra timeline lines written around the transition's own;
    with ``pending`` they are appended to it for the caller to insert with others (one statement). ``expect``
    adds conditions to the update (e.g. the card the caller read): when only they fail, ``Unchanged`` is raised.
    With ``insert=False`` a case being created is not inserted yet: the transitions that follow in the same
    transaction change it in memory, and the caller inserts it once (``case.save(force_insert=True)``).
    ``unchanged_since``: the ``updated_at`` the caller read the case with (before its transaction); the update also
    requires it, and when only that fails, ``Unchanged`` is raised (the case changed since it was read).
    ``status_read``: the status the case had when it was read at ``unchanged_since`` (the update requires the row
    as read, so this is its status): the update names the status only when it changes (see ``_update``).
    """
    transition = TRANSITIONS[action]
    loaded = isinstance(case, Case)
    if not loaded:  # only the id is known (the hot path): the conditional update alone decides
        case = Case(pk=case)
    fields = dict(changes or {})
    if transition.target is not None:
        fields["status"] = transition.target
    known = status_read if unchanged_since is not None else None
    fields["updated_at"] = now
    if NEW in transition.sources:
        for key, value in fields.items():
            setattr(case, key, value)
        case.created_at = case.created_at or now
        if insert:
            case.save(force_insert=True)
    elif loaded and case._state.adding:  # created in this transaction, inserted by the caller later
        if case.status not in transition.sources:
            raise _not_allowed(case.pk, transition, case.status)
        for key, value in fields.items():
            if hasattr(value, "resolve_expression"):
                raise TypeError(f"{key}: an expression cannot change a case that is not inserted yet")
            setattr(case, key, value)
    else:
        if loaded and case.status not in transition.sources:
            raise _not_allowed(case.pk, transition, case.status)
        if not _update(case.pk, transition.sources, fields, expect, unchanged_since, known):
            status = Case.objects.filter(pk=case.pk).values_list("status", flat=True).first()
            if (expect or unchanged_since is not None) and status in transition.sources:
                raise Unchanged(action)
            raise _not_allowed(case.pk, transition, status)
        for key, value in fields.items():
            if not hasattr(value, "resolve_expression"):
                setattr(case, key, value)
    steps = list(lines_before)
    if transition.kind:
        steps.append(
            line(
                case.pk,
                at=now,
                kind=transition.kind,
                label=(transition.label, dict(label_args or {})),
                actor=actor,
                **dict(line_fields or {}),
            )
        )
    steps.extend(lines_after)
    if pending is not None:
        pending.extend(steps)
    elif steps:
        fast.insert(steps)
    number = case.number if loaded else None
    status = transition.target or (case.status if loaded else None)
    if transition.audit:
        audit_record(
            actor=actor,
            action=transition.audit,
            subject_type="case",
            subject_id=str(case.pk),
            case_id=str(case.pk),
            details={"number": number, "status": status, **(audit_details or {})},
        )
    if transition.event:
        event_emit(
            transition.event,
            {
                "case": str(case.pk),
                "number": number,
                "status": status,
                "action": action,
                **(event_payload or {}),
            },
            subject_type="case",
            subject_id=case.pk,
        )
    return case


STEPS_DONE = F("steps") + 1


def _update(
    case_id,
    sources,
    fields: Mapping,
    expect: Mapping | None,
    since: dt.datetime | None = None,
    known: str | None = None,
) -> int:
    """The conditional update of a case (``status`` in ``sources``; ``updated_at`` equal to ``since`` when given):
    one hand-written statement, or the ORM's for what it alone can write (expressions other than ``STEPS_DONE``,
    model instances, ``expect``). ``known``: the case's status as the caller read it at ``since``."""
    if expect or any(
        value is not STEPS_DONE and (hasattr(value, "resolve_expression") or isinstance(value, Model))
        for value in fields.values()
    ):
        conditions = dict(expect or {})
        if since is not None:
            conditions["updated_at"] = since
        return Case.objects.filter(pk=case_id, status__in=sources, **conditions).update(**fields)
    status = fields.get("status")
    if status is not None and status in sources and len(fields) > 1 and connection.vendor == "sqlite":
        # Most steps leave the status as it is (in progress): on SQLite a SET that names the status rewrites
        # every index holding it (seven: the lists' status and open-case indexes) although nothing in them
        # changes. So first the update without it, for a case already in the target status; only when that
        # finds no row (the first step of a case, or a case no longer workable) the update that sets it.
        # (PostgreSQL compares the values and updates no index for an unchanged status: one statement there.)
        # A caller that read the case at ``since`` knows which of the two it is: one statement either way.
        rest = {name: value for name, value in fields.items() if name != "status"}
        if known == status:
            return _update_statement(case_id, [status], rest, since)
        if known is None and _update_statement(case_id, [status], rest, since):
            return 1
    return _update_statement(case_id, sources, fields, since)


def _update_statement(case_id, sources, fields: Mapping, since: dt.datetime | None = None) -> int:
    quote = connection.ops.quote_name
    sets, params = [], []
    for name, value in fields.items():
        column = quote(Case._meta.get_field(name).column)
        if value is STEPS_DONE:
            sets.append(f"{column} = {column} + 1")
        else:
            sets.append(f"{column} = %s")
            params.append(fast.prep(Case, name, value))
    sources = sorted(str(s) for s in sources)
    params.append(fast.prep(Case, "id", case_id))
    params.extend(sources)
    guard = ""
    if since is not None:
        guard = " AND updated_at = %s"
        params.append(fast.prep(Case, "updated_at", since))
    return fast.execute(
        f"UPDATE cases_case SET {', '.join(sets)} WHERE id = %s AND status IN ({', '.join(['%s'] * len(sources))}){guard}",  # noqa: S608
        params,
    )
