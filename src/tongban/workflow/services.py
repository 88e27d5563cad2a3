"""Writes of the workflow app: process definitions, running processes, and the tasks in department inboxes.

``cases`` drives these services (a case is known here only by id, number and title) and turns their outcomes
into case statuses. Every change is audited and emits an event in the caller's transaction.

Concurrency: a service that changes a process locks its instance row first (``select_for_update`` on
PostgreSQL; SQLite transactions take the write lock at BEGIN), so two departments completing parallel tasks at
once apply one after the other. A task is completed with a conditional update on its revision: of two people
completing the same task at once, one wins and the other gets a ``Conflict``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import slug_re
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.core.db import fast
from tongban.core.events import event_emit, events_emit
from tongban.core.exceptions import Conflict
from tongban.core.refcache import reference_cached
from tongban.core.sla import SLAClock
from tongban.identity.models import Department
from tongban.identity.permissions import ROLES, has_permission, require_permission
from tongban.identity.reference import MUNICIPAL_DEPARTMENT_CODES, branch_code
from tongban.identity.selectors import UserActor, staff_roles_for

from . import engine
from .models import ProcessDefinition, ProcessInstance, Task

PROCESS_DIR = Path(__file__).resolve().parent / "processes"
KEY_MAX_LENGTH = ProcessDefinition._meta.get_field("key").max_length
WORKING_ROLES = frozenset(code for code, role in ROLES.items() if "task.work" in role.permissions)


# --- definitions -------------------------------------------------------------------------------------------


def definition_parse(xml: str | bytes) -> engine.ParsedProcess:
    """Parse and check a BPMN file against the city's departments and roles (ValidationError on ``bpmn``)."""
    return engine.parse_process(xml, departments=set(MUNICIPAL_DEPARTMENT_CODES), roles=WORKING_ROLES)


@transaction.atomic
def definition_store(*, actor: Actor, key: str, xml: str | bytes) -> tuple[ProcessDefinition, bool]:
    """Store a new version of process ``key`` unless the latest version has the same content.

    Returns ``(definition, created)``. Running cases keep the version they started with.
    """
    key = (key or "").strip()
    if not key:
        raise ValidationError({"key": [_("Give the process a key.")]})
    if len(key) > KEY_MAX_LENGTH or not slug_re.fullmatch(key):
        # the key names the process in addresses (/processes/<slug:key>/...) and fits its column
        raise ValidationError(
            {"key": [_("Use up to 64 letters, digits, hyphens or underscores for the key, e.g. newborn.")]}
        )
    parsed = definition_parse(xml)
    latest = ProcessDefinition.objects.select_for_update().filter(key=key).order_by("-version").first()
    if latest is not None and latest.checksum == parsed.checksum:
        return latest, False
    definition = ProcessDefinition.objects.create(
        key=key,
        version=(latest.version + 1) if latest else 1,
        name=parsed.name,
        process_id=parsed.process_id,
        bpmn_xml=parsed.xml,
        checksum=parsed.checksum,
        lanes=parsed.lanes,
        user_tasks=parsed.user_tasks,
        uploaded_by=actor.label,
    )
    audit_record(
        actor=actor,
        action="process.definition_stored",
        subject_type="process_definition",
        subject_id=str(definition.pk),
        details={"key": key, "version": definition.version, "checksum": parsed.checksum},
    )
    event_emit(
        "process.definition_stored",
        {"key": key, "version": definition.version},
        subject_type="process_definition",
        subject_id=definition.pk,
    )
    return definition, True


def definitions_ensure_builtin(*, actor: Actor = SYSTEM) -> dict[str, ProcessDefinition]:
    """Load the processes shipped in ``workflow/processes/*.bpmn`` (key = file name); idempotent."""
    loaded = {}
    for path in sorted(PROCESS_DIR.glob("*.bpmn")):
        definition, _created = definition_store(actor=actor, key=path.stem, xml=path.read_bytes())
        loaded[path.stem] = definition
    return loaded


@reference_cached(ProcessDefinition)
def definition_latest(key: str) -> ProcessDefinition | None:
    """The latest version of a process (without its BPMN text, which ``_spec`` fetches when it must parse).

    Kept for a minute per process: a version published here is used at once, in another worker process from
    within the minute (a version never changes once stored; cases keep the version they started with)."""
    return ProcessDefinition.objects.filter(key=key).defer("bpmn_xml").order_by("-version").first()


@reference_cached(ProcessDefinition)
def definition_get(pk) -> ProcessDefinition | None:
    """A stored version of a process, without its BPMN text (a version never changes once stored)."""
    return ProcessDefinition.objects.filter(pk=pk).defer("bpmn_xml").first()


def task_for_completion(task_id) -> Task:
    """A task with its department and its process instance (and the instance's definition), for a completion.

    One hand-written SELECT over the three tables (``core.db.fast``), the definition from ``definition_get``:
    the ORM spent more CPU building this statement with its joins than any other of a case step. Raises
    ``Task.DoesNotExist`` (or ``ValidationError`` for an id that is not one).
    """
    task_cols = fast.columns(Task, "t")
    department_cols = fast.columns(Department, "d")
    instance_cols = fast.columns(ProcessInstance, "i")
    row = fast.fetchone(
        f"SELECT {task_cols.sql}, {department_cols.sql}, {instance_cols.sql} FROM workflow_task t "  # noqa: S608
        "INNER JOIN identity_department d ON d.id = t.department_id "
        "INNER JOIN workflow_processinstance i ON i.id = t.instance_id WHERE t.id = %s",
        [fast.prep(Task, "id", task_id)],
    )
    if row is None:
        raise Task.DoesNotExist("Task matching query does not exist.")
    task = fast.build(task_cols, row)
    task.department = fast.build(department_cols, row, task_cols.count)
    instance = fast.build(instance_cols, row, task_cols.count + department_cols.count)
    definition = definition_get(instance.definition_id)
    if definition is not None:
        instance.definition = definition
    task.instance = instance
    return task


# --- running -----------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What a workflow operation changed: the task acted on, tasks created and cancelled, and the process state."""

    instance: ProcessInstance
    task: Task | None = None
    created: list[Task] = field(default_factory=list)
    cancelled: list[Task] = field(default_factory=list)
    completed: bool = False

    @property
    def departments(self):
        return sorted({t.department_id for t in self.created})


def forget_department_cache():
    """Forget the departments this process keeps (see ``_department_row``)."""
    _department_row.cache_clear()


@reference_cached(Department)
def _department_row(code: str) -> tuple | None:
    """(pk, name) of the department ``code``, kept for a minute per process (departments change rarely; a change
    made in this process is seen at once)."""
    return Department.objects.filter(code=code).values_list("pk", "name_zh").first()


def _departments_by_code(codes) -> dict[str, tuple]:
    found = {}
    missing = set()
    for code in set(codes):
        row = _department_row(code)
        if row is None:
            missing.add(code)
        else:
            found[code] = row
    if missing:
        raise ValidationError(
            {"bpmn": [_("Department %(code)s does not exist.") % {"code": ", ".join(sorted(missing))}]}
        )
    return found


def lane_department_code(lane: dict, district_code: str | None, service_department: str = "") -> str:
    """The department that works a lane for a case: the branch in the case's district for ``@district`` lanes,
    the service's implementing department for ``*`` lanes."""
    code = lane["department"]
    if code == engine.SERVICE_DEPARTMENT:
        if not service_department:
            raise ValidationError(
                {"bpmn": [_("The process needs the service's department, and none was given.")]}
            )
        return service_department
    if lane.get("district") and district_code:
        return branch_code(code, district_code)
    return code


def _spec(definition: ProcessDefinition):
    def xml():
        return ProcessDefinition.objects.values_list("bpmn_xml", flat=True).get(pk=definition.pk)

    return engine.spec_for(definition.pk, definition.checksum, xml, definition.process_id)


# A process's BPMN text is only needed to parse its spec once per worker: never load it with an instance.
_DEFER = ("definition__bpmn_xml",)


def _task_meta(definition: ProcessDefinition) -> dict[str, dict]:
    return {t["id"]: t for t in definition.user_tasks}


@dataclass
class TaskPlan:
    """How the open Task rows must change to match the engine's ready user tasks."""

    cancel: list = field(default_factory=list)  # open Task rows (pk, spiff_id) no longer ready
    create: list[Task] = field(default_factory=list)  # new rows, not yet saved


def _plan_tasks(
    *,
    instance: ProcessInstance,
    definition: ProcessDefinition,
    workflow,
    open_rows,
    now: dt.datetime,
    case_number: str,
    case_title: str,
) -> TaskPlan:
    ready = {t.id: t for t in engine.ready_user_tasks(workflow)}
    known = {spiff_id for _pk, spiff_id in open_rows}
    plan = TaskPlan(cancel=[(pk, spiff_id) for pk, spiff_id in open_rows if spiff_id not in ready])
    new = [(spiff_id, t) for spiff_id, t in ready.items() if spiff_id not in known]
    if not new:
        return plan
    meta = _task_meta(definition)
    district = instance.district or None
    codes = {}
    for spiff_id, spiff_task in new:
        info = meta[spiff_task.task_spec.name]
        codes[spiff_id] = lane_department_code(definition.lanes[info["lane"]], district, instance.department)
    departments = _departments_by_code(codes.values())
    for spiff_id, spiff_task in new:
        info = meta[spiff_task.task_spec.name]
        lane = definition.lanes[info["lane"]]
        clock = SLAClock.start(now, info["limit_days"])
        department_id, department_name = departments[codes[spiff_id]]
        task = fast.new(
            Task,
            instance_id=instance.pk,
            case_id=instance.case_id,
            case_number=case_number,
            case_title=case_title,
            spiff_id=spiff_id,
            bpmn_id=info["id"],
            name=info["name"],
            name_en=info.get("name_en", ""),
            department_id=department_id,
            role=lane["role"],
            limit_days=info["limit_days"],
            clock=clock.to_dict(),
            due_date=clock.due_date(),
            created_at=now,
            updated_at=now,
        )
        task.department_code, task.department_name = codes[spiff_id], department_name
        plan.create.append(task)
    return plan


def _apply_plan(plan: TaskPlan, *, instance_id, now) -> tuple[list[Task], list[Task]]:
    cancelled = []
    if plan.cancel:
        gone = Task.objects.filter(
            instance_id=instance_id,
            spiff_id__in=[spiff for _pk, spiff in plan.cancel],
            state__in=Task.OPEN_STATES,
        )
        cancelled = list(gone)
        gone.update(state=Task.State.CANCELLED, updated_at=now)
    if plan.create:
        fast.insert(plan.create)
    return plan.create, cancelled


def _open_rows(instance_id):
    return list(
        Task.objects.filter(instance_id=instance_id, state__in=Task.OPEN_STATES).values_list("pk", "spiff_id")
    )


def _sync_tasks(
    *,
    instance: ProcessInstance,
    definition: ProcessDefinition,
    workflow,
    now: dt.datetime,
    case_number: str,
    case_title: str,
    fresh: bool = False,
) -> tuple[list[Task], list[Task]]:
    """Make the open Task rows match the engine's ready user tasks: create the new ones, cancel the gone ones."""
    plan = _plan_tasks(
        instance=instance,
        definition=definition,
        workflow=workflow,
        open_rows=[] if fresh else _open_rows(instance.pk),
        now=now,
        case_number=case_number,
        case_title=case_title,
    )
    return _apply_plan(plan, instance_id=instance.pk, now=now)


@dataclass
class Start:
    """A process start worked out before the write transaction (``process_prepare``): the instance, its first
    tasks and the engine's state, all unsaved; ``process_start(start=...)`` writes them."""

    definition: ProcessDefinition
    instance: ProcessInstance
    workflow: object
    plan: TaskPlan
    completed: bool


def process_prepare(
    *,
    case_id,
    case_number: str,
    case_title: str,
    process_key: str,
    district_code: str | None,
    department_code: str = "",
    data: dict | None = None,
    now: dt.datetime,
    definition: ProcessDefinition | None = None,
    skip_items: Iterable[str] = (),
) -> Start:
    """The engine's part of starting ``process_key`` for a case (parse-free: the spec is kept per process), with no
    statement but the definition's read when it is not given: run it before the write transaction."""
    definition = definition if definition is not None else definition_latest(process_key)
    if definition is None:
        raise ValidationError(
            {"process": [_("No process %(key)s has been uploaded.") % {"key": process_key}]}
        )
    if skip_items:  # the steps of the service items the case does not take pass by (``engine.advance``)
        skip = {t["id"] for t in definition.user_tasks if t.get("item") and t["item"] in set(skip_items)}
        data = {**(data or {}), "skip_tasks": sorted(skip)}
    workflow = engine.new_workflow(_spec(definition), data)
    completed = workflow.is_completed()
    instance = ProcessInstance(
        definition=definition,
        case_id=case_id,
        state=engine.dump(workflow),
        district=district_code or "",
        department=department_code,
        created_at=now,
        updated_at=now,
    )
    if completed:
        instance.status, instance.completed_at = ProcessInstance.Status.COMPLETED, now
    plan = _plan_tasks(
        instance=instance,
        definition=definition,
        workflow=workflow,
        open_rows=[],  # a process not inserted yet has no Task rows
        now=now,
        case_number=case_number,
        case_title=case_title,
    )
    return Start(definition=definition, instance=instance, workflow=workflow, plan=plan, completed=completed)


@transaction.atomic(savepoint=False)
def process_start(
    *,
    actor: Actor,
    case_id,
    case_number: str,
    case_title: str,
    process_key: str,
    district_code: str | None,
    department_code: str = "",
    data: dict | None = None,
    now: dt.datetime | None = None,
    audit: bool = True,
    definition: ProcessDefinition | None = None,
    skip_items: Iterable[str] = (),
    start: Start | None = None,
) -> Outcome:
    """Start the latest version of ``process_key`` for a case and put its first tasks in their inboxes.

    The start is audited (``process.started``, naming the first tasks) whatever ``audit`` says.
    ``skip_items``: the bundle's service items the case does not take; their steps (``tongban:item``) pass by.
    ``start``: the same, worked out by ``process_prepare`` before the transaction (the other arguments but
    ``actor`` and ``audit`` are then not used).
    """
    if start is None:
        start = process_prepare(
            case_id=case_id,
            case_number=case_number,
            case_title=case_title,
            process_key=process_key,
            district_code=district_code,
            department_code=department_code,
            data=data,
            now=now or timezone.now(),
            definition=definition,
            skip_items=skip_items,
        )
    instance, definition, created = start.instance, start.definition, start.plan.create
    fast.insert([instance])
    if created:
        fast.insert(created)
    transaction.on_commit(partial(engine.keep, instance.pk, 0, start.workflow))
    audit_record(
        actor=actor,
        action="process.started",
        subject_type="process",
        subject_id=str(instance.pk),
        case_id=str(instance.case_id),
        details={"key": definition.key, "version": definition.version, "tasks": [t.bpmn_id for t in created]},
    )
    _emit_created(created, instance.case_id)
    return Outcome(instance=instance, created=created, completed=start.completed)


def _created_events(created: list[Task], case_id) -> list[tuple]:
    return [
        (
            "task.created",
            {"task": str(t.pk), "case": str(case_id), "step": t.bpmn_id, "department": t.department_id},
            "task",
            t.pk,
        )
        for t in created
    ]


def _emit_created(created: list[Task], case_id) -> None:
    events_emit(_created_events(created, case_id))


# --- who may act -------------------------------------------------------------------------------------------


def can_work(actor: UserActor, task: Task) -> bool:
    """Whether ``actor`` may act on ``task``: staff of the task's department holding the lane's role.

    The department head may act on every task of the department. An approver's lane needs ``task.approve``.
    """
    perm = "task.approve" if task.role == "dept_approver" else "task.work"
    if not has_permission(actor, perm, department=task.department_id):
        return False
    if actor.user.is_superuser:
        return True
    roles = staff_roles_for(actor.user)  # a lane's role is a staff role
    return task.role in roles or "dept_head" in roles


def process_is_synthetic(task: Task) -> bool:
    """Whether ``task`` belongs to the synthetic case history ``tongban seed`` writes (for the lists, benchmarks and
    indicators): its process instance has no engine state, so nothing can run it. Uses the instance loaded with the
    task when there is one, else one indexed read."""
    if "instance" in task._state.fields_cache:
        return task.instance is not None and not task.instance.state
    return ProcessInstance.objects.filter(pk=task.instance_id, state="").exists()


def require_runnable(task: Task) -> None:
    """Raise a Conflict for a step of the synthetic case history (see ``process_is_synthetic``)."""
    if process_is_synthetic(task):
        raise Conflict(
            _(
                "This step is part of the synthetic case history written by `tongban seed` for the lists and "
                "figures: it has no process to run, so it cannot be worked."
            ),
            code="synthetic_history",
        )


def require_can_work(actor: UserActor, task: Task) -> None:
    """Raise PermissionDenied (audited) unless ``actor`` may act on ``task``. Call it outside the transaction."""
    perm = "task.approve" if task.role == "dept_approver" else "task.work"
    require_permission(actor, perm, department=task.department_id)
    if not can_work(actor, task):
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="permission.denied",
                subject_type="task",
                subject_id=str(task.pk),
                case_id=str(task.case_id),
                details={"permission": perm, "role": task.role},
            )
        raise PermissionDenied(
            _("This step is for the role %(role)s of its department.") % {"role": task.role}
        )


# --- task operations ---------------------------------------------------------------------------------------


def _lock_instance(task: Task) -> ProcessInstance:
    return (
        ProcessInstance.objects.select_for_update(of=("self",))
        .select_related("definition")
        .defer(*_DEFER)
        .get(pk=task.instance_id)
    )


def _open_task(task_id, *, revision: int | None) -> Task:
    task = Task.objects.select_related("department").get(pk=task_id)
    if task.state not in (Task.State.READY, Task.State.CLAIMED):
        raise Conflict(
            _("This step is already %(state)s.") % {"state": task.get_state_display().lower()},
            code="task_closed",
        )
    if revision is not None and task.revision != revision:
        raise Conflict(_("Someone else changed this step; reload it."), code="task_changed")
    return task


def _claim_update(task: Task, *, user, now, states) -> None:
    updated = Task.objects.filter(pk=task.pk, revision=task.revision, state__in=states).update(
        state=Task.State.CLAIMED, assignee=user, claimed_at=now, revision=task.revision + 1, updated_at=now
    )
    if not updated:
        raise Conflict(_("Someone else has just taken this step."), code="task_taken")
    task.state, task.assignee, task.claimed_at, task.revision = (
        Task.State.CLAIMED,
        user,
        now,
        task.revision + 1,
    )


@transaction.atomic(savepoint=False)
def task_claim(*, actor: UserActor, task: Task, now: dt.datetime | None = None) -> Task:
    """Take a ready task into one's own hands (签收). The caller (``cases.services.case_task_claim``) checked
    ``require_can_work`` first."""
    now = now or timezone.now()
    if task.state == Task.State.CLAIMED and task.assignee_id == actor.user.pk:
        return task
    if task.state != Task.State.READY:
        raise Conflict(_("Someone else has just taken this step."), code="task_taken")
    _claim_update(task, user=actor.user, now=now, states=[Task.State.READY])
    audit_record(
        actor=actor,
        action="task.claimed",
        subject_type="task",
        subject_id=str(task.pk),
        case_id=str(task.case_id),
    )
    event_emit(
        "task.claimed",
        {"task": str(task.pk), "case": str(task.case_id)},
        subject_type="task",
        subject_id=task.pk,
    )
    return task


def task_release(*, actor: UserActor, task: Task, now: dt.datetime | None = None) -> Task:
    """Put a claimed task back in the department inbox (someone who may work the task; checked, and a refusal
    audited, before the transaction)."""
    require_can_work(actor, task)
    return _task_release(actor=actor, task=task, now=now)


@transaction.atomic(savepoint=False)
def _task_release(*, actor: UserActor, task: Task, now: dt.datetime | None) -> Task:
    now = now or timezone.now()
    if task.state != Task.State.CLAIMED:
        raise Conflict(_("Only a step in hand can be released."), code="task_not_claimed")
    updated = Task.objects.filter(pk=task.pk, revision=task.revision, state=Task.State.CLAIMED).update(
        state=Task.State.READY, assignee=None, claimed_at=None, revision=task.revision + 1, updated_at=now
    )
    if not updated:
        raise Conflict(_("Someone else changed this step; reload it."), code="task_changed")
    task.state, task.assignee, task.revision = Task.State.READY, None, task.revision + 1
    audit_record(
        actor=actor,
        action="task.released",
        subject_type="task",
        subject_id=str(task.pk),
        case_id=str(task.case_id),
    )
    return task


def _finish(*, task: Task, user, now, decision: str, opinion: str) -> None:
    """Mark a task completed with a conditional update: of two people at once, one wins."""
    if task.state == Task.State.CLAIMED and task.assignee_id not in (None, user.pk):
        raise Conflict(_("This step is in the hands of a colleague."), code="task_taken")
    clock = SLAClock.from_dict(task.clock).stop(now) if task.clock else None
    # The conditional update, hand-written (core.db.fast): the hot path's most frequent write.
    prep = fast.prep
    updated = fast.execute(
        "UPDATE workflow_task SET state = %s, assignee_id = %s, claimed_at = %s, completed_at = %s, "
        "completed_by = %s, decision = %s, opinion = %s, clock = %s, revision = %s, updated_at = %s "
        "WHERE id = %s AND revision = %s AND state IN (%s, %s)",
        [
            Task.State.COMPLETED.value,
            user.pk,
            prep(Task, "claimed_at", task.claimed_at or now),
            prep(Task, "completed_at", now),
            user.get_username(),
            decision,
            opinion,
            prep(Task, "clock", clock.to_dict() if clock else task.clock),
            task.revision + 1,
            prep(Task, "updated_at", now),
            prep(Task, "id", task.pk),
            task.revision,
            Task.State.READY.value,
            Task.State.CLAIMED.value,
        ],
    )
    if not updated:
        raise Conflict(_("Someone else has just completed or changed this step."), code="task_taken")
    task.state, task.decision, task.opinion, task.completed_at = Task.State.COMPLETED, decision, opinion, now
    task.completed_by, task.revision, task.assignee = user.get_username(), task.revision + 1, user


@dataclass
class Prepared:
    """A task's completion worked out by the engine before the write transaction (optimistic)."""

    instance: ProcessInstance
    revision: int
    state: str
    plan: TaskPlan
    completed: bool
    workflow: object = (
        None  # the engine's workflow in the prepared state (kept for the next step once committed)
    )


def task_prepare(*, task: Task, decision: str, data: dict | None = None, now: dt.datetime) -> Prepared | None:
    """Run the engine for a task's completion without any lock, to keep the write transaction short.

    ``task_complete`` applies the result only if the process has not changed since (its ``revision``); otherwise
    it works the completion out again under the lock. None when there is nothing to prepare (a refusal).
    """
    if decision != Task.Decision.APPROVE:
        return None
    if "instance" in task._state.fields_cache:  # loaded with the task (cases._task_for(with_process=True))
        instance = task.instance
    else:
        instance = (
            ProcessInstance.objects.select_related("definition")
            .defer(*_DEFER)
            .filter(pk=task.instance_id)
            .first()
        )
    if instance is None or instance.status != ProcessInstance.Status.RUNNING:
        return None
    spec = _spec(instance.definition)
    workflow = engine.take(instance.pk, instance.revision, spec) or engine.load(instance.state, spec)
    spiff_task = workflow.get_task_from_id(task.spiff_id)
    if spiff_task is None or not spiff_task.has_state(engine.TaskState.READY):
        return None
    # The open Task rows mirror the engine's ready user tasks (every change of either bumps the revision that
    # task_complete checks), so the rows need not be read: the ones before this step, less this task.
    open_before = [(None, t.id) for t in engine.ready_user_tasks(workflow) if t.id != task.spiff_id]
    spiff_task.data.update(data or {})
    spiff_task.data["decision"] = decision
    spiff_task.run()
    engine.advance(workflow)
    plan = _plan_tasks(
        instance=instance,
        definition=instance.definition,
        workflow=workflow,
        open_rows=open_before,
        now=now,
        case_number=task.case_number,
        case_title=task.case_title,
    )
    return Prepared(
        instance, instance.revision, engine.dump(workflow), plan, workflow.is_completed(), workflow
    )


@transaction.atomic(savepoint=False)
def task_complete(
    *,
    actor: UserActor,
    task_id=None,
    task: Task | None = None,
    decision: str,
    opinion: str = "",
    data: dict | None = None,
    revision: int | None = None,
    prepared: Prepared | None = None,
    now: dt.datetime | None = None,
) -> Outcome:
    """Complete a task with a decision (approve / reject) and an opinion; the engine moves on.

    ``reject`` completes the task and cancels the process (the case is refused by the caller). The caller has
    checked ``require_can_work`` already and may pass the ``task`` it read for that: the completion is a
    conditional update on the task's revision, so a task that changed since it was read is a ``Conflict``.
    With ``prepared`` (from ``task_prepare``) the engine's work is already done and is applied if the process
    is unchanged.
    """
    now = now or timezone.now()
    if decision not in (Task.Decision.APPROVE, Task.Decision.REJECT):
        raise ValidationError({"decision": [_("Choose approve or refuse.")]})
    if decision == Task.Decision.REJECT and not opinion.strip():
        raise ValidationError({"opinion": [_("Give the reason for refusing.")]})
    if task is None:
        task = _open_task(task_id, revision=revision)
    elif revision is not None and task.revision != revision:
        raise Conflict(_("Someone else changed this step; reload it."), code="task_changed")
    elif task.state not in (Task.State.READY, Task.State.CLAIMED):
        raise Conflict(
            _("This step is already %(state)s.") % {"state": task.get_state_display().lower()},
            code="task_closed",
        )
    applied = False
    if prepared is not None:
        # Applied only if the process is as it was prepared from (its revision), in one hand-written statement.
        sets = "state = %s, revision = revision + 1, updated_at = %s"
        params = [prepared.state, fast.prep(ProcessInstance, "updated_at", now)]
        if prepared.completed:
            sets += ", status = %s, completed_at = %s"
            params += [
                ProcessInstance.Status.COMPLETED.value,
                fast.prep(ProcessInstance, "completed_at", now),
            ]
        params += [
            fast.prep(ProcessInstance, "id", prepared.instance.pk),
            prepared.revision,
            ProcessInstance.Status.RUNNING.value,
        ]
        applied = bool(
            fast.execute(
                f"UPDATE workflow_processinstance SET {sets} WHERE id = %s AND revision = %s AND status = %s",  # noqa: S608
                params,
            )
        )
    if applied:
        instance = prepared.instance
        if not prepared.completed and prepared.workflow is not None:
            transaction.on_commit(partial(engine.keep, instance.pk, prepared.revision + 1, prepared.workflow))
        _finish(task=task, user=actor.user, now=now, decision=decision, opinion=opinion)
        outcome = Outcome(instance=instance, task=task, completed=prepared.completed)
        outcome.created, outcome.cancelled = _apply_plan(
            prepared.plan, instance_id=prepared.instance.pk, now=now
        )
    else:
        instance = _lock_instance(task)
        _finish(task=task, user=actor.user, now=now, decision=decision, opinion=opinion)
        definition = instance.definition
        outcome = Outcome(instance=instance, task=task)
        if decision == Task.Decision.REJECT:
            outcome.cancelled = _cancel_open(instance, now=now)
            ProcessInstance.objects.filter(pk=instance.pk).update(
                status=ProcessInstance.Status.CANCELLED,
                completed_at=now,
                updated_at=now,
                revision=F("revision") + 1,
            )
        else:
            workflow = engine.load(instance.state, _spec(definition))
            spiff_task = workflow.get_task_from_id(task.spiff_id)
            spiff_task.data.update(data or {})
            spiff_task.data["decision"] = decision
            spiff_task.run()
            engine.advance(workflow)
            outcome.created, outcome.cancelled = _sync_tasks(
                instance=instance,
                definition=definition,
                workflow=workflow,
                now=now,
                case_number=task.case_number,
                case_title=task.case_title,
            )
            outcome.completed = workflow.is_completed()
            changes = {"state": engine.dump(workflow), "updated_at": now, "revision": F("revision") + 1}
            if outcome.completed:
                changes.update(status=ProcessInstance.Status.COMPLETED, completed_at=now)
            ProcessInstance.objects.filter(pk=instance.pk).update(**changes)
    audit_record(
        actor=actor,
        action="task.completed",
        subject_type="task",
        subject_id=str(task.pk),
        case_id=str(task.case_id),
        details={"step": task.bpmn_id, "decision": decision, "next": [t.bpmn_id for t in outcome.created]},
    )
    events_emit(
        [
            (
                "task.completed",
                {"task": str(task.pk), "case": str(task.case_id), "step": task.bpmn_id, "decision": decision},
                "task",
                task.pk,
            ),
            *_created_events(outcome.created, task.case_id),
        ]
    )
    return outcome


def process_lock(case_id) -> ProcessInstance | None:
    """Lock a case's process first, so every service touching a case and its process locks in one order."""
    return ProcessInstance.objects.select_for_update().filter(case_id=case_id).first()


def _cancel_open(instance: ProcessInstance, *, now) -> list[Task]:
    rows = list(Task.objects.filter(instance=instance, state__in=Task.OPEN_STATES))
    if rows:
        Task.objects.filter(pk__in=[r.pk for r in rows]).update(state=Task.State.CANCELLED, updated_at=now)
    return rows


@transaction.atomic(savepoint=False)
def task_return(
    *, actor: UserActor, task_id, opinion: str, revision: int | None = None, now: dt.datetime | None = None
) -> Outcome:
    """Send the case back to the previous step (退回), with the reason; that step's department works it again.

    The caller (``cases.services.case_task_return``) checked ``require_can_work`` first."""
    now = now or timezone.now()
    if not (opinion or "").strip():
        raise ValidationError({"opinion": [_("Say why the case goes back.")]})
    task = _open_task(task_id, revision=revision)
    instance = _lock_instance(task)
    task = _open_task(task_id, revision=revision)
    definition = instance.definition
    workflow = engine.load(instance.state, _spec(definition))
    spiff_task = workflow.get_task_from_id(task.spiff_id)
    previous = engine.previous_user_task(spiff_task)
    if previous is None:
        raise Conflict(_("This is the first step: there is no step to return to."), code="no_previous_step")
    _finish(task=task, user=actor.user, now=now, decision=Task.Decision.RETURN, opinion=opinion)
    workflow.reset_from_task_id(previous.id)
    engine.advance(workflow)
    created, cancelled = _sync_tasks(
        instance=instance,
        definition=definition,
        workflow=workflow,
        now=now,
        case_number=task.case_number,
        case_title=task.case_title,
    )
    ProcessInstance.objects.filter(pk=instance.pk).update(
        state=engine.dump(workflow), updated_at=now, revision=F("revision") + 1
    )
    audit_record(
        actor=actor,
        action="task.returned",
        subject_type="task",
        subject_id=str(task.pk),
        case_id=str(task.case_id),
        details={"step": task.bpmn_id, "to": previous.task_spec.name, "opinion": opinion[:500]},
    )
    event_emit(
        "task.returned",
        {"task": str(task.pk), "case": str(task.case_id), "to": previous.task_spec.name},
        subject_type="task",
        subject_id=task.pk,
    )
    _emit_created(created, task.case_id)
    return Outcome(instance=instance, task=task, created=created, cancelled=cancelled)


# --- pausing for the applicant -------------------------------------------------------------------------------


@transaction.atomic(savepoint=False)
def process_suspend(*, actor: Actor, case_id, reason: str = "", now: dt.datetime | None = None) -> list[Task]:
    """Pause every open task of a case while the applicant supplements materials (补正): clocks stop."""
    now = now or timezone.now()
    instance = ProcessInstance.objects.select_for_update().get(case_id=case_id)
    if instance.status != ProcessInstance.Status.RUNNING:
        raise Conflict(_("The case's process is not running."), code="process_not_running")
    rows = list(Task.objects.filter(instance=instance, state__in=[Task.State.READY, Task.State.CLAIMED]))
    for row in rows:
        clock = SLAClock.from_dict(row.clock).pause(now, reason or "supplement")
        row.clock, row.due_date = clock.to_dict(), clock.due_date()
        # The state to come back to is kept in the clock's pause; claimed tasks keep their assignee.
        row.state = Task.State.WAITING
        row.revision += 1
        row.updated_at = now
    Task.objects.bulk_update(rows, ["clock", "due_date", "state", "revision", "updated_at"])
    ProcessInstance.objects.filter(pk=instance.pk).update(
        status=ProcessInstance.Status.SUSPENDED, updated_at=now
    )
    audit_record(
        actor=actor,
        action="process.suspended",
        subject_type="process",
        subject_id=str(instance.pk),
        case_id=str(case_id),
        details={"tasks": len(rows)},
    )
    return rows


@transaction.atomic(savepoint=False)
def process_resume(*, actor: Actor, case_id, now: dt.datetime | None = None) -> list[Task]:
    """Resume the tasks paused by ``process_suspend``; their clocks run on from the next working day."""
    now = now or timezone.now()
    instance = ProcessInstance.objects.select_for_update().get(case_id=case_id)
    if instance.status != ProcessInstance.Status.SUSPENDED:
        raise Conflict(
            _("The case's process is not waiting for the applicant."), code="process_not_suspended"
        )
    rows = list(Task.objects.filter(instance=instance, state=Task.State.WAITING))
    for row in rows:
        clock = SLAClock.from_dict(row.clock).resume(now)
        row.clock, row.due_date = clock.to_dict(), clock.due_date()
        row.state = Task.State.CLAIMED if row.assignee_id else Task.State.READY
        row.revision += 1
        row.updated_at = now
    Task.objects.bulk_update(rows, ["clock", "due_date", "state", "revision", "updated_at"])
    ProcessInstance.objects.filter(pk=instance.pk).update(
        status=ProcessInstance.Status.RUNNING, updated_at=now
    )
    audit_record(
        actor=actor,
        action="process.resumed",
        subject_type="process",
        subject_id=str(instance.pk),
        case_id=str(case_id),
        details={"tasks": len(rows)},
    )
    return rows


@transaction.atomic(savepoint=False)
def process_cancel(*, actor: Actor, case_id, reason: str, now: dt.datetime | None = None) -> list[Task]:
    """Cancel a case's process and its open tasks (withdrawn or refused)."""
    now = now or timezone.now()
    instance = ProcessInstance.objects.select_for_update().filter(case_id=case_id).first()
    if instance is None or instance.status in (
        ProcessInstance.Status.COMPLETED,
        ProcessInstance.Status.CANCELLED,
    ):
        return []
    rows = _cancel_open(instance, now=now)
    ProcessInstance.objects.filter(pk=instance.pk).update(
        status=ProcessInstance.Status.CANCELLED, completed_at=now, updated_at=now, revision=F("revision") + 1
    )
    audit_record(
        actor=actor,
        action="process.cancelled",
        subject_type="process",
        subject_id=str(instance.pk),
        case_id=str(case_id),
        details={"reason": reason[:500], "tasks": len(rows)},
    )
    return rows


@transaction.atomic(savepoint=False)
def task_warning_set(*, task: Task, level: str, actor: Actor = SYSTEM) -> bool:
    """Raise a task's warning to ``yellow`` or ``red`` (never lowers it); returns whether it changed."""
    order = {"": 0, "yellow": 1, "red": 2}
    if order[level] <= order[task.warning]:
        return False
    updated = Task.objects.filter(pk=task.pk, warning=task.warning).update(warning=level)
    if updated:
        audit_record(
            actor=actor,
            action=f"task.warning_{level}",
            subject_type="task",
            subject_id=str(task.pk),
            case_id=str(task.case_id),
            details={
                "due": task.due_date.isoformat() if task.due_date else None,
                "department": task.department_id,
            },
        )
        event_emit(
            "task.warning",
            {
                "task": str(task.pk),
                "case": str(task.case_id),
                "level": level,
                "department": task.department_id,
            },
            subject_type="task",
            subject_id=task.pk,
        )
        task.warning = level
    return bool(updated)
