"""Reads of the workflow app: inboxes, tasks, definitions. Every list filters by who is asking."""

from django.db.models import Exists, OuterRef, Q

from tongban.core.db import fast
from tongban.core.keyset import Keyset
from tongban.core.refcache import reference_cached
from tongban.identity.permissions import has_permission
from tongban.identity.selectors import department_scope_ids, staff_for, staff_roles_for

from .models import ProcessDefinition, ProcessInstance, Task

_CITY_ROLES = frozenset({"supervisor", "platform_admin"})
# The inbox order: soonest due first (no due date first of all), then oldest; the pk breaks ties.
INBOX_KEYSET = Keyset(fields=("due_date", "created_at", "id"), nullable_first=True)
# The open states as a literal condition: the partial index workflow_task_open_inbox is defined with exactly
# this condition, and a database can use a partial index only when the query states its condition with the
# same constants (a bound parameter would not do on SQLite).
_OPEN_LIST = ", ".join(f"'{s}'" for s in Task.OPEN_STATES)
OPEN_STATES_SQL = f'"workflow_task"."state" IN ({_OPEN_LIST})'


def _can_see_all(user) -> bool:
    return bool(user.is_superuser or (staff_roles_for(user) & _CITY_ROLES))  # city-wide roles are staff roles


def inbox_for(user, *, states=None, department=None):
    """The tasks waiting for ``user``: open tasks of their department whose lane role they hold.

    The department head sees every open task of the department. ``states`` narrows to some task states.
    Ordered by ``INBOX_KEYSET``; the open inbox is one range of the partial index ``workflow_task_open_inbox``.
    """
    staff = staff_for(user)
    if staff is None:
        return Task.objects.none()
    roles = staff_roles_for(user)  # a task's lane role is a staff role
    query = Task.objects.filter(department_id=staff.department_id)
    if not states or set(states) == set(Task.OPEN_STATES):
        query = query.extra(where=[OPEN_STATES_SQL])  # noqa: S610 - constants only
    else:
        query = query.filter(state__in=states)
    if "dept_head" not in roles:
        query = query.filter(role__in=sorted(roles))
    if department is not None:
        query = query.filter(department=department)
    return query.select_related("department", "assignee").order_by(*INBOX_KEYSET.order_by())


# An inbox row's columns as a page's named tuples hold them (``core.db.fast.records``; workflow.api.task_rows):
# not the clock (JSON) nor the assignee's other columns.
INBOX_RECORD_FIELDS = (
    *(
        f.attname
        for f in Task._meta.concrete_fields
        if f.name not in {"clock", "spiff_id", "completed_by", "updated_at", "instance"}
    ),
    "department__code",
    "department__name_zh",
    "department__name_en",
    "assignee__username",
)


class InboxPages:
    """:func:`inbox_for` a page at a time (``page(after, limit)``, see ``core.pagination``), its statement compiled
    by the ORM once per shape and its rows named tuples of ``INBOX_RECORD_FIELDS`` (``core.db.fast``): the
    QuerySet's building and compiling and 50 tasks' model instances were most of the request's CPU."""

    def __init__(self, user, staff, *, states=None):
        self.user, self.staff, self.states = user, staff, states

    def page(self, after, limit):
        from django.db import connection

        user, states = self.user, self.states
        roles = staff_roles_for(user)
        params = [fast.prep(Task, "department", self.staff.department_id)]
        open_only = not states or set(states) == set(Task.OPEN_STATES)
        if not open_only:
            params += [fast.prep(Task, "state", state) for state in states]
        head = "dept_head" in roles
        if not head:
            params += [fast.prep(Task, "role", role) for role in sorted(roles)]
        where = None
        if after is not None:
            where, after_params = INBOX_KEYSET.where_after(Task, after, connection)
            params += after_params
        key = (
            "workflow.inbox",
            None if open_only else len(states),
            None if head else len(roles),
            where,
            limit,
        )

        def queryset():
            query = inbox_for(user, states=states)
            return INBOX_KEYSET.after(query, after).values_list(*INBOX_RECORD_FIELDS)[:limit]

        return fast.records(Task, INBOX_RECORD_FIELDS, fast.compiled_rows(key, queryset, params))


def inbox_page_for(user, *, states=None):
    """The tasks :func:`inbox_for` gives, for keyset pages: an :class:`InboxPages`, or an empty QuerySet for a user
    who is not staff."""
    staff = staff_for(user)
    if staff is None:
        return Task.objects.none()
    return InboxPages(user, staff, states=states)


def task_visible_to(user, task: Task) -> bool:
    if _can_see_all(user):
        return True
    staff = staff_for(user)
    if staff is None:
        return False
    return task.department_id in department_scope_ids(staff, read_only=True)


def task_get_for_user(user, task_id) -> Task | None:
    """A task the user may see (their department's, or any for city-wide supervisors), else None."""
    task = Task.objects.select_related("department", "assignee").filter(pk=task_id).first()
    if task is None or not task_visible_to(user, task):
        return None
    return task


def tasks_for_case(case_id):
    return (
        Task.objects.filter(case_id=case_id).select_related("department", "assignee").order_by("created_at")
    )


def open_tasks_for_case(case_id):
    return tasks_for_case(case_id).filter(state__in=Task.OPEN_STATES)


def case_ids_for_departments(department_ids):
    """Ids of cases with a task (open or done) in one of the departments."""
    return Task.objects.filter(department_id__in=department_ids).values("case_id")


def case_has_task_in(department_ids):
    """A condition on a case (``Exists``, correlated on its pk): it has a task in one of the departments.

    Checked per case row by the (case_id) index, so a list that walks cases in index order pays it only for
    the rows it looks at.
    """
    return Exists(Task.objects.filter(case_id=OuterRef("pk"), department_id__in=list(department_ids)))


@reference_cached(ProcessDefinition)
def _latest_lanes() -> dict:
    """The lanes of the latest version of each process, by key, kept per process (core.refcache): the staff case
    list asks on every page which processes give its departments a lane."""
    latest = {}
    for key, lanes in ProcessDefinition.objects.order_by("key", "-version").values_list("key", "lanes"):
        latest.setdefault(key, lanes or {})
    return latest


def process_keys_with_lanes_for(department_codes) -> set[str]:
    """Keys of the processes (latest versions) with a lane worked by one of these departments by name: its own
    lanes, or (only) a district branch for a ``@district`` lane. ``*`` lanes (the service's own department) are not
    counted: a service's department sees its cases as their lead department."""
    codes = set(department_codes)
    keys = set()
    for key, lanes in _latest_lanes().items():
        for lane in lanes.values():
            department = lane.get("department", "")
            if department == "*" or not department:
                continue
            if lane.get("district"):
                # Worked by the branch in the case's district: only branches count.
                if any(code.startswith(f"{department}-") for code in codes):
                    keys.add(key)
            elif department in codes:
                keys.add(key)
    return keys


def definition_list():
    return ProcessDefinition.objects.order_by("key", "-version")


def definition_get(key: str, version: int | None = None):
    query = ProcessDefinition.objects.filter(key=key)
    if version is not None:
        return query.filter(version=version).first()
    return query.order_by("-version").first()


def instance_for_case(case_id):
    return ProcessInstance.objects.select_related("definition").filter(case_id=case_id).first()


def overdue_candidates(*, on):
    """Open tasks whose due date is on or before ``on`` and not yet at red: what the deadline job looks at."""
    return Task.objects.filter(
        state__in=[Task.State.READY, Task.State.CLAIMED], due_date__isnull=False, due_date__lte=on
    ).exclude(warning="red")


def tasks_for_supervision(user):
    """Tasks a supervisor or department head may watch."""
    if _can_see_all(user):
        return Task.objects.all()
    staff = staff_for(user)
    if staff is None or not has_permission(user, "supervision.view", department=staff.department_id):
        return Task.objects.none()
    return Task.objects.filter(Q(department_id__in=department_scope_ids(staff, read_only=True)))


def task_names_en(task_ids) -> dict:
    """The English names of tasks by id (those whose process gives one), for pages that name steps in English."""
    ids = [task_id for task_id in task_ids if task_id]
    if not ids:
        return {}
    return dict(Task.objects.filter(pk__in=ids).exclude(name_en="").values_list("pk", "name_en"))
