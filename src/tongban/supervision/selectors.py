"""Reads of supervision: warnings, time-limit compliance and rectifications, filtered by who asks.

A supervisor (a city-wide role) sees every department; a department head sees their own department, and the
head of a municipal department also its district branches (reading only). Anyone else sees nothing.

Compliance reads ``cases.Case`` rows directly (by lead department, in aggregate): ``cases.selectors`` has no
per-department aggregate, and the case list selector's "has a task in the department" test would cost a
sub-query per department for numbers that only concern the lead department.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from tongban.cases.models import Case
from tongban.core import calendar
from tongban.core.db import fast
from tongban.core.keyset import Keyset
from tongban.identity.models import Department
from tongban.identity.permissions import permission_scope
from tongban.workflow.models import Task
from tongban.workflow.selectors import tasks_for_supervision

from .models import Rectification, Warning

COMPLIANCE_DAYS = 30


def department_scope(user, perm: str = "supervision.view") -> frozenset | None:
    """The ids of the departments ``user`` may watch with ``perm``: None for every department (see
    ``identity.permissions.permission_scope``)."""
    return permission_scope(user, perm)


def _in_scope(query, scope, field: str = "department_id"):
    if scope is None:
        return query
    return query.filter(**{f"{field}__in": sorted(scope)})  # sorted: the order case_watch_page binds them in


def departments_for(user, perm: str = "supervision.view"):
    """The departments ``user`` may watch, for filter menus."""
    return _in_scope(Department.objects.all(), department_scope(user, perm), "pk").order_by("code")


# --- warnings ------------------------------------------------------------------------------------------------


def warning_list(
    user, *, level: str | None = None, department: Department | None = None, subject_type: str | None = None
):
    """Warnings of the departments ``user`` watches, newest first; ``subject_type`` narrows them to steps, cases,
    acceptances or 12345 tickets (``Warning.SubjectType``)."""
    query = _in_scope(Warning.objects.all(), department_scope(user))
    if level:
        query = query.filter(level=level)
    if subject_type:
        query = query.filter(subject_type=subject_type)
    if department is not None:
        query = query.filter(department=department)
    return query.select_related("department").order_by("-raised_at", "pk")


# --- open cases under watch ---------------------------------------------------------------------------------

# Soonest due first (cases waiting for acceptance, without a due date, first of all); the pk breaks ties.
WATCH_KEYSET = Keyset(fields=("due_date", "id"), nullable_first=True)
OPEN_CASE_STATUSES = tuple(s for s in Case.Status.values if s in Case.OPEN_STATUSES)  # the index's order
# As a literal condition, the one the partial indexes cases_case_open_due_cover / cases_case_open_lead_cover are
# defined with: a database uses a partial index only for a query that states its condition with the same
# constants (on SQLite a bound parameter would not do).
_OPEN_LIST = ", ".join(f"'{s}'" for s in OPEN_CASE_STATUSES)
OPEN_CASES_SQL = f'"cases_case"."status" IN ({_OPEN_LIST})'


# Every column the list shows, all of them in the open-case indexes (Case.Meta.indexes): read from the index alone.
WATCH_LIST_FIELDS = (
    "id",
    "number",
    "title",
    "status",
    "submitted_at",
    "accepted_at",
    "promised_limit_days",
    "due_date",
    "warning",
    "item_id",
    "bundle_id",
    "lead_department_id",
)


def case_watch_list(user, *, warning: str | None = None, department: Department | None = None):
    """Open cases of the departments ``user`` watches (as lead department), soonest due first, optionally only
    those under a yellow or red warning. Ordered by ``WATCH_KEYSET``: one range of a partial index."""
    scope = department_scope(user)
    if scope is not None and not scope:
        return Case.objects.none()
    query = _in_scope(Case.objects.all(), scope, "lead_department_id")
    query = query.extra(where=[OPEN_CASES_SQL])  # noqa: S610 - constants only
    if warning:
        query = query.filter(warning=warning)
    if department is not None:
        query = query.filter(lead_department=department)
    # The case table alone (no join): services and departments are named from cases.selectors.list_references.
    return query.only(*WATCH_LIST_FIELDS).order_by(*WATCH_KEYSET.order_by())


class WatchPages:
    """:func:`case_watch_list` a page at a time (``page(after, limit)``, see ``core.pagination``), its statement
    compiled by the ORM once per shape and its rows named tuples of ``WATCH_LIST_FIELDS`` (``core.db.fast``): the
    QuerySet's building and compiling and its model instances were half of the request's CPU."""

    def __init__(self, user, *, scope, warning=None, department=None):
        self.user, self.scope, self.warning, self.department = user, scope, warning, department

    def page(self, after, limit):
        from django.db import connection

        ids = None if self.scope is None else sorted(self.scope)
        params = [fast.prep(Case, "lead_department_id", pk) for pk in ids or ()]
        if self.warning:
            params.append(fast.prep(Case, "warning", self.warning))
        if self.department is not None:
            params.append(fast.prep(Case, "lead_department_id", self.department.pk))
        where = None
        if after is not None:
            where, after_params = WATCH_KEYSET.where_after(Case, after, connection)
            params += after_params
        key = (
            "supervision.watch",
            None if ids is None else len(ids),
            bool(self.warning),
            self.department is not None,
            where,
            limit,
        )

        def queryset():
            query = case_watch_list(self.user, warning=self.warning, department=self.department)
            return WATCH_KEYSET.after(query, after).values_list(*WATCH_LIST_FIELDS)[:limit]

        # A scope of departments reads the partial index by department (``cases_case_open_lead_cover``), named to
        # SQLite: at a million cases its planner, from sampled statistics, took the status index and sorted the
        # scope's open cases (37-48 ms for a department head's page against 0.2 ms; docs/performance.md).
        index = ("cases_case", "cases_case_open_lead_cover") if ids or self.department is not None else None
        return fast.records(
            Case, WATCH_LIST_FIELDS, fast.compiled_rows(key, queryset, params, sqlite_index=index)
        )


def case_watch_page(user, *, warning: str | None = None, department: Department | None = None):
    """The open cases :func:`case_watch_list` gives, for keyset pages: a :class:`WatchPages`, or an empty QuerySet
    for a user who watches nothing."""
    scope = department_scope(user)
    if scope is not None and not scope:
        return Case.objects.none()
    return WatchPages(user, scope=scope, warning=warning, department=department)


# --- time-limit compliance -----------------------------------------------------------------------------------


def _since(today: dt.date, days: int) -> dt.datetime:
    first = today - dt.timedelta(days=days - 1)
    return dt.datetime.combine(first, dt.time.min, tzinfo=calendar.SHANGHAI)


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def compliance_for(user, *, today: dt.date | None = None, days: int = COMPLIANCE_DAYS) -> list[dict]:
    """Per department: tasks completed in the last ``days`` days and how many in time, open tasks now, how
    many of them overdue or under a warning, and the cases the department led to completion in time.

    Counted in the database (two grouped queries and one for the departments), whatever the number of rows.
    A step or case is in time when it finished (Asia/Shanghai day) on or before its due date.
    """
    today = today or calendar.today()
    since = _since(today, days)
    scope = department_scope(user)
    if scope is not None and not scope:
        return []
    completed = Q(state=Task.State.COMPLETED, completed_at__gte=since)
    open_ = Q(state__in=Task.OPEN_STATES)
    tasks = (
        _in_scope(tasks_for_supervision(user), scope)
        .filter(completed | open_)
        .values("department_id")
        .annotate(
            completed=Count("pk", filter=completed),
            on_time=Count(
                "pk",
                filter=completed
                & Q(
                    due_date__isnull=False, due_date__gte=TruncDate("completed_at", tzinfo=calendar.SHANGHAI)
                ),
            ),
            open=Count("pk", filter=open_),
            overdue=Count("pk", filter=open_ & Q(due_date__lt=today)),
            yellow=Count("pk", filter=open_ & Q(warning="yellow")),
            red=Count("pk", filter=open_ & Q(warning="red")),
        )
        .order_by()
    )
    cases = (
        _in_scope(
            Case.objects.filter(status=Case.Status.COMPLETED, closed_at__gte=since),
            scope,
            "lead_department_id",
        )
        .values("lead_department_id")
        .annotate(
            completed=Count("pk"),
            on_time=Count(
                "pk",
                filter=Q(
                    due_date__isnull=False, due_date__gte=TruncDate("closed_at", tzinfo=calendar.SHANGHAI)
                ),
            ),
        )
        .order_by()
    )
    rows: dict[int, dict] = {}

    def row(department_id):
        return rows.setdefault(
            department_id,
            {
                "department_id": department_id,
                "tasks_completed": 0,
                "tasks_on_time": 0,
                "tasks_open": 0,
                "tasks_open_overdue": 0,
                "tasks_yellow": 0,
                "tasks_red": 0,
                "cases_completed": 0,
                "cases_on_time": 0,
            },
        )

    for item in tasks:
        entry = row(item["department_id"])
        entry.update(
            tasks_completed=item["completed"],
            tasks_on_time=item["on_time"],
            tasks_open=item["open"],
            tasks_open_overdue=item["overdue"],
            tasks_yellow=item["yellow"],
            tasks_red=item["red"],
        )
    for item in cases:
        entry = row(item["lead_department_id"])
        entry.update(cases_completed=item["completed"], cases_on_time=item["on_time"])
    departments = Department.objects.in_bulk(list(rows))
    result = []
    for department_id, entry in rows.items():
        entry["department"] = departments[department_id]
        entry["tasks_on_time_pct"] = _pct(entry["tasks_on_time"], entry["tasks_completed"])
        entry["cases_on_time_pct"] = _pct(entry["cases_on_time"], entry["cases_completed"])
        result.append(entry)
    result.sort(key=lambda entry: entry["department"].code)
    return result


# --- rectifications ------------------------------------------------------------------------------------------


def rectification_list(user, *, status: str | None = None, department: Department | None = None):
    """Rectifications of the departments ``user`` watches: open ones first, soonest due first."""
    query = _in_scope(Rectification.objects.all(), department_scope(user))
    if status:
        query = query.filter(status=status)
    if department is not None:
        query = query.filter(department=department)
    return query.select_related("department").order_by("status", "due_date", "created_at")


def rectification_get_for_user(user, rectification_id) -> Rectification | None:
    """A rectification ``user`` may see, else None (the caller answers 404)."""
    return rectification_list(user).filter(pk=rectification_id).first()


def rectification_for_rating(rating_id) -> Rectification | None:
    return Rectification.objects.select_related("department").filter(rating_id=rating_id).first()
