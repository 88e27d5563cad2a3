"""A synthetic history of cases for the seeded city (``tongban seed --cases N``): lists and search at scale.

``cases_history_seed`` writes N cases of the demo catalogue's items and bundles, closed and open, with what a
case leaves behind when it runs through the services: its timeline (CaseStep), its process instance and tasks
(done ones for every step it passed, an open one in the right department inbox for an open case), and its audit
entries (appended through ``core.audit.audit_record_batch``, so ``tongban audit verify`` holds). Rows are built
in Python and written a batch at a time (``executemany`` on SQLite, ``COPY`` on PostgreSQL) without model
instances, like the synthetic population (``demo.services``). The same seed and ``until`` give the same cases.

The mix: about 86 % completed, 4 % refused, 3 % withdrawn, 7 % open (waiting for acceptance, accepted, in
progress, waiting for a supplement, resubmitted). Closed cases are spread over the three years before ``until``,
open ones over their time limit before it (and a little more), so about one in ten is past its due date (a red warning) or a day from it
(yellow). Applicants are the city's persons and organisations; online cases of a demo citizen are submitted by
their account, so their "my cases" fills too.

What it leaves out, on purpose: form data and materials (``{}`` and none), and the engine state of the process
instances (stored empty). The history is there to be read — listed, searched, supervised; an open seeded task
cannot be completed through the engine.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import random
import time
import uuid
from bisect import bisect
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import accumulate, islice

from django.db import connection, transaction
from django.utils import timezone

from tongban.cases.models import Case, CaseStep
from tongban.catalog.models import Bundle, PublicationStatus, ServiceItem
from tongban.core.audit import audit_record_batch, shard_count
from tongban.identity.models import Department, Organisation, Person
from tongban.workflow.models import ProcessDefinition, ProcessInstance, Task
from tongban.workflow.services import lane_department_code

from .services import BulkWriter, bulk_load_cache

Progress = Callable[[int], None]
HISTORY_BATCH_SIZE = 5_000
BLOCK = 1_000  # cases made from one random stream (see HistoryGenerator.block)
BLOCKS_AHEAD = 4  # per worker: how far the making may run ahead of the writing
# Cases: below that, keeping the indexes up to date costs less than making them again.
DEFER_INDEXES_FROM = 20_000
HISTORY_YEARS = 3
OPEN_WINDOW_DAYS = 25
# (status, weight per 1000)
STATUS_WEIGHTS = (
    (Case.Status.COMPLETED, 860),
    (Case.Status.REJECTED, 40),
    (Case.Status.WITHDRAWN, 30),
    (Case.Status.SUBMITTED, 5),  # manual acceptance only; otherwise accepted
    (Case.Status.ACCEPTED, 15),
    (Case.Status.IN_PROGRESS, 35),
    (Case.Status.SUPPLEMENT, 10),
    (Case.Status.RESUBMITTED, 5),
)
OPEN_STATUSES = frozenset(
    {
        Case.Status.SUBMITTED,
        Case.Status.ACCEPTED,
        Case.Status.IN_PROGRESS,
        Case.Status.SUPPLEMENT,
        Case.Status.RESUBMITTED,
    }
)
CHANNELS = ((Case.Channel.ONLINE, 70), (Case.Channel.WINDOW, 25), (Case.Channel.API, 5))
BUNDLE_WEIGHT = 6  # each bundle, against 2 for every item
ITEM_WEIGHT = 2
CASE_NUMBER_STRIDE = 7_919_347  # coprime with 10**10: i -> i * stride mod 10**10 is one-to-one
LABELS = {
    "submitted_online": "Submitted online",
    "submitted_window": "Submitted at a window",
    "accepted": "Accepted; due by %(date)s",
    "approved": "%(step)s: approved",
    "refused": "%(step)s: refused",
    "completed": "Completed; the results are ready",
    "rejected": "Refused",
    "withdrawn": "Withdrawn by the applicant",
    "supplement": "Supplement requested",
    "resubmitted": "Resubmitted",
}
LABELS_ZH = {
    "submitted_online": "网上提交申请",
    "submitted_window": "窗口提交申请",
    "accepted": "已受理，承诺于 %(date)s 前办结",
    "approved": "%(step)s：审核通过",
    "refused": "%(step)s：不予批准",
    "completed": "已办结，办理结果已出具",
    "rejected": "不予批准",
    "withdrawn": "申请人撤回申请",
    "supplement": "请补正材料",
    "resubmitted": "已补正材料",
}


@dataclass
class Step:
    bpmn_id: str
    name: str
    lane: dict
    limit_days: int
    name_en: str = ""


@dataclass
class ServicePlan:
    kind: str  # "item" or "bundle"
    pk: str
    code: str
    title: str
    department_code: str  # the implementing / lead department
    lead_pk: object
    applicant: str  # "person", "organisation" or "both"
    manual: bool
    promised: int
    legal: int
    definition_pk: int
    process_key: str
    steps: list[Step]


@dataclass
class HistoryResult:
    cases: int
    steps: int
    tasks: int
    open_tasks: int
    audit_entries: int
    seconds: float
    cpu_seconds: dict | None = None  # this process's CPU per phase (the workers' is not in it)
    workers: int = 0


def _db(model, value):
    return model._meta.pk.get_db_prep_value(value, connection)


EPOCH = dt.datetime(1970, 1, 1)  # noqa: DTZ001 - naive UTC, like every time inside the generator
MICROSECOND = dt.timedelta(microseconds=1)
EIGHT_HOURS = dt.timedelta(hours=8)


def _ts(moment: dt.datetime):
    """A naive UTC datetime as the database stores it: on SQLite Django's text form (so that it sorts with the
    rows Django writes), on PostgreSQL ISO text with the offset (COPY parses it)."""
    if connection.vendor == "sqlite":
        return str(moment)
    return moment.isoformat() + "+00:00"


def _ts_postgresql(moment: dt.datetime) -> str:
    return moment.isoformat() + "+00:00"


# The bits uuid.UUID(int=..., version=4) sets: the variant (RFC 4122) and the version.
UUID4_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
UUID4_SET = (0x8000 << 48) | (4 << 76)
UNIX_EPOCH = dt.datetime(1970, 1, 1)  # noqa: DTZ001 - naive UTC, as the history's moments are


def _uuid7_int(moment: dt.datetime, random_bits: int) -> int:
    """A version-7 UUID (RFC 9562) made at the naive UTC ``moment``, as an int: the time in milliseconds, then the
    version, 12 random bits, the variant and 62 random bits, from the low 74 of ``random_bits`` (128 drawn from the
    history's seeded stream, as for the random keys before, so the rest of the history stays what it was). What
    ``core.models.keys.new_id`` gives a row made at that moment."""
    millis = (moment - UNIX_EPOCH) // dt.timedelta(milliseconds=1)
    rand_a, rand_b = random_bits >> 62 & 0xFFF, random_bits & ((1 << 62) - 1)
    return millis << 80 | 7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b


def _local_day(moment: dt.datetime) -> dt.date:
    """The Asia/Shanghai day of a naive UTC datetime (no daylight saving there)."""
    return (moment + EIGHT_HOURS).date()


def _details(**values) -> str:
    """Canonical JSON (sorted keys, no spaces) of plain string values, without json.dumps per entry."""
    return "{" + ",".join(f'"{key}":{_json_value(values[key])}' for key in sorted(values)) + "}"


def _json_value(value) -> str:
    if value.__class__ is str and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _services() -> list[ServicePlan]:
    definitions = {}
    for definition in ProcessDefinition.objects.order_by("key", "-version"):
        definitions.setdefault(definition.key, definition)
    plans = []
    items = ServiceItem.objects.filter(status=PublicationStatus.PUBLISHED).select_related("department")
    bundles = Bundle.objects.filter(status=PublicationStatus.PUBLISHED).select_related("lead_department")
    for service in [*items.order_by("code"), *bundles.order_by("code")]:
        is_bundle = isinstance(service, Bundle)
        department = service.lead_department if is_bundle else service.department
        definition = definitions.get(service.process_key or "standard")
        if definition is None:
            continue
        steps = [
            Step(
                t["id"],
                t["name"],
                definition.lanes[t["lane"]],
                int(t.get("limit_days") or 1),
                t.get("name_en", ""),
            )
            for t in definition.user_tasks
        ]
        plans.append(
            ServicePlan(
                kind="bundle" if is_bundle else "item",
                pk=_db(type(service), service.pk),
                code=service.code,
                title=service.name_zh,
                department_code=department.code,
                lead_pk=_db(Department, department.pk),
                applicant="person" if is_bundle else service.service_object,
                manual=getattr(service, "acceptance", "automatic") == "manual",
                promised=service.promised_limit_days,
                legal=service.legal_limit_days,
                definition_pk=_db(ProcessDefinition, definition.pk),
                process_key=definition.key,
                steps=steps,
            )
        )
    return plans


_LABEL_CACHE: dict = {}


def _label(key: str, args: dict) -> tuple[str, str]:
    """(stored label in Chinese, params JSON): the timeline reads in the visitor's language from params."""
    cache_key = (key, *args.values())
    found = _LABEL_CACHE.get(cache_key)
    if found is None:
        found = _LABEL_CACHE[cache_key] = (
            (LABELS_ZH[key] % args)[:200],
            json.dumps({"msgid": LABELS[key], "args": args}, ensure_ascii=False, separators=(",", ":")),
        )
    return found


class HistoryGenerator:
    """Turns (seed, until) into cases with everything they leave behind; one case at a time."""

    def __init__(self, *, seed: int, until: dt.datetime, start_index: int = 0):
        self.seed = seed
        self.start_index = start_index
        self.rng = random.Random(seed)
        until = until.astimezone(dt.UTC).replace(tzinfo=None)  # naive UTC inside: cheaper to format
        self.until = until
        self.start = until - dt.timedelta(days=365 * HISTORY_YEARS)
        self.index = start_index
        self.hex_ids = connection.vendor != "postgresql"  # how UUIDs are stored
        self.ts = str if connection.vendor == "sqlite" else _ts_postgresql  # see _ts
        self.services = _services()
        if not self.services:
            raise ValueError("the catalogue has no published services: seed the demo city first")
        weights = [BUNDLE_WEIGHT if s.kind == "bundle" else ITEM_WEIGHT for s in self.services]
        self.service_cum = list(accumulate(weights))
        self.status_values = [s for s, _w in STATUS_WEIGHTS]
        self.status_cum = list(accumulate(w for _s, w in STATUS_WEIGHTS))
        self.channel_values = [c for c, _w in CHANNELS]
        self.channel_cum = list(accumulate(w for _c, w in CHANNELS))
        departments = Department.objects.values_list("code", "pk", "name_zh")
        self.departments = {code: (_db(Department, pk), name) for code, pk, name in departments}
        persons = Person.objects.order_by("resident_id").values_list(
            "pk", "name", "household_district_id", "household_district__code", "user_id"
        )
        self.persons = [
            (_db(Person, pk), name, _db(Department, district) if district else None, code, user)
            for pk, name, district, code, user in persons
        ]
        organisations = Organisation.objects.order_by("credit_code").values_list(
            "pk", "name", "district_id", "district__code"
        )
        self.organisations = [
            (_db(Organisation, pk), name, district, code) for pk, name, district, code in organisations
        ]
        if not self.persons:
            raise ValueError("the database has no persons: seed the demo city first")
        self.district_pk = {}
        from tongban.identity.models import AdminUnit

        for pk, code in AdminUnit.objects.filter(level=AdminUnit.Level.DISTRICT).values_list("pk", "code"):
            self.district_pk[code] = _db(AdminUnit, pk)

    def _uuid(self, made=None):
        """A key for a row made at the naive UTC ``made`` (time-ordered, as the platform makes them), or a random
        one (version 4: the process engine's own task ids)."""
        if made is None:
            value = (self.rng.getrandbits(128) & UUID4_CLEAR) | UUID4_SET  # uuid.UUID(int=..., version=4)
        else:
            value = _uuid7_int(made, self.rng.getrandbits(128))
        return f"{value:032x}" if self.hex_ids else uuid.UUID(int=value)

    def block(self, number: int, count: int = 0) -> tuple[list, list, list, list, list]:
        """The rows of block ``number`` (its ``BLOCK`` cases, or the first ``count``): (cases, steps,
        instances, tasks, audit entries). A block has its own random stream, so blocks can be made in any
        order, by several processes, and still give the same history for the same seed and day."""
        self.rng = random.Random(f"{self.seed}:{number}")
        self.index = self.start_index + number * BLOCK
        cases, steps, instances, tasks, audits = [], [], [], [], []
        for _n in range(count or BLOCK):
            case_row, case_steps, instance, case_tasks, case_audits = self.case()
            cases.append(case_row)
            steps += case_steps
            if instance is not None:
                instances.append(instance)
            tasks += case_tasks
            audits += case_audits
        return cases, steps, instances, tasks, audits

    # --- one case ---------------------------------------------------------------------------------------

    def _applicant(self, plan):
        rng = self.rng
        wants_org = plan.applicant == "organisation" or (plan.applicant == "both" and rng.random() < 0.4)
        if wants_org and self.organisations:
            pk, name, _district, code = self.organisations[rng.randrange(len(self.organisations))]
            return None, pk, name, code, None
        pk, name, _district, code, user = self.persons[rng.randrange(len(self.persons))]
        return pk, None, name, code, user

    def _department(self, lane, district_code, plan):
        code = lane_department_code(lane, district_code, plan.department_code)
        found = self.departments.get(code)
        if found is None:  # no branch in this district: the municipal department works it
            code = lane["department"] if lane["department"] != "*" else plan.department_code
            found = self.departments[code]
        return code, found

    def case(self):
        """The rows of the next case: (case row, step rows, instance row or None, task rows, audit tuples)."""
        rng = self.rng
        ts = self.ts
        i = self.index
        self.index += 1
        plan = self.services[bisect(self.service_cum, rng.randrange(self.service_cum[-1]))]
        status = self.status_values[bisect(self.status_cum, rng.randrange(self.status_cum[-1]))]
        if status == Case.Status.SUBMITTED and not plan.manual:
            status = Case.Status.ACCEPTED
        channel = self.channel_values[bisect(self.channel_cum, rng.randrange(self.channel_cum[-1]))]
        person_pk, org_pk, applicant_name, district_code, user_id = self._applicant(plan)
        if status in OPEN_STATUSES:
            # Most open cases are inside their time limit; about one in ten is past it (a red warning).
            span_days = min(OPEN_WINDOW_DAYS, max(1, plan.promised * 7 // 5) * 1.1 + 1)
            submitted = self.until - dt.timedelta(seconds=rng.randrange(int(span_days * 86_400)))
        else:
            span = int((self.until - self.start).total_seconds()) - 3 * 86_400
            submitted = self.start + dt.timedelta(seconds=rng.randrange(span))
        submitted = submitted.replace(microsecond=rng.randrange(1_000_000))
        case_id = uuid.UUID(int=_uuid7_int(submitted, rng.getrandbits(128)))
        case_pk = case_id.hex if self.hex_ids else case_id
        case_key = str(case_id)
        local_day = _local_day(submitted)
        number = f"TB{local_day:%Y%m%d}{(i * CASE_NUMBER_STRIDE) % 10**10:010d}"
        window = channel == Case.Channel.WINDOW
        accepting = self.departments.get(f"big-data-center-{district_code}") if window else None
        accepting_pk = accepting[0] if accepting else None
        submitted_by = user_id if channel == Case.Channel.ONLINE else None
        district_pk = self.district_pk.get(district_code)
        if person_pk:
            citizen = ("citizen", str(user_id or person_pk), applicant_name, "", "")
        else:
            citizen = ("citizen", str(org_pk), applicant_name, "enterprise_agent", "")
        clerk = (
            "staff",
            f"clerk.{district_code}",
            f"clerk.{district_code}",
            "window_clerk",
            "big-data-center",
        )
        submitter = clerk if window else citizen

        steps, tasks, audits = [], [], []
        at = submitted

        def step(
            kind, key, args, *, department=None, role="", actor="", task=None, note="", awaiting="", keys=None
        ):
            label, params = _label(key, args)
            if keys:  # what is awaited, by its keys (``CaseStep.display_awaiting``)
                params = json.dumps(
                    {**json.loads(params), "awaiting": keys}, ensure_ascii=False, separators=(",", ":")
                )
            steps.append(
                (case_pk, ts(at), kind, label, department, role, actor, task, note, awaiting[:300], params)
            )

        def audit(actor, action, details):
            audits.append(
                (
                    (at - EPOCH) // MICROSECOND,
                    *actor,
                    action,
                    "case",
                    case_key,
                    case_key,
                    "",
                    "",
                    _details(number=number, **details),
                )
            )

        step(
            "submitted",
            "submitted_window" if window else "submitted_online",
            {},
            department=accepting_pk,
            role="window_clerk" if window else "",
            actor=submitter[2],
            awaiting="受理",
            keys={"msgid": "Acceptance"},
        )
        audit(submitter, "case.submitted", {"status": "submitted", "channel": channel, "service": plan.code})

        accepted_at = due = None
        instance = None
        involved = set()
        closed_at = None
        n_done = 0
        case_status = status
        warning = ""
        if status != Case.Status.SUBMITTED:
            at = at + dt.timedelta(seconds=rng.randrange(60, 86_400 if plan.manual or window else 300))
            accepted_at = at
            due = _local_day(accepted_at) + dt.timedelta(days=max(1, plan.promised * 7 // 5))
            first = plan.steps[0]
            first_code, (_pk, first_name) = self._department(first.lane, district_code, plan)
            step(
                "accepted",
                "accepted",
                {"date": due.isoformat()},
                department=accepting_pk or plan.lead_pk,
                actor=submitter[2] if window else "system",
                awaiting=f"{first_name}·{first.name}",
                keys=[[first_code, first.name, first.name_en]],
            )
            audit(
                clerk if window else ("system", "system", "system", "", ""),
                "case.accepted",
                {
                    "status": "accepted",
                    "due": due.isoformat(),
                    "process": plan.process_key,
                    "version": 1,
                    "tasks": [first.bpmn_id],
                },
            )
            instance_pk = self._uuid(at)  # made at the acceptance
            # How far the case got: every step for a completed case, fewer for the others.
            total = len(plan.steps)
            if status == Case.Status.COMPLETED:
                n_done = total
            elif status in (Case.Status.REJECTED, Case.Status.WITHDRAWN):
                n_done = rng.randrange(total)  # the refusal or withdrawal came at step n_done
            elif status == Case.Status.ACCEPTED:
                n_done = 0
            else:
                n_done = rng.randrange(total)
            if status == Case.Status.IN_PROGRESS and n_done == 0 and total > 1:
                n_done = 1
            for position, plan_step in enumerate(plan.steps):
                if position > n_done or (position == n_done and status == Case.Status.COMPLETED):
                    break
                code, (department_pk, _name) = self._department(plan_step.lane, district_code, plan)
                involved.add(code)
                role = plan_step.lane["role"]
                staff_label = f"{code}.{role.removeprefix('dept_')}"
                staff = ("staff", staff_label, staff_label, role, code)
                created = at
                task_due = _local_day(created) + dt.timedelta(days=plan_step.limit_days + 1)
                task_pk = self._uuid(created)
                done = position < n_done
                state, decision, completed_at, completed_by, claimed_at = Task.State.READY, "", None, "", None
                task_warning = ""
                if done or (status == Case.Status.REJECTED and position == n_done):
                    at = at + dt.timedelta(seconds=rng.randrange(600, 2 * 86_400))
                    refused = not done
                    state, decision = Task.State.COMPLETED, ("reject" if refused else "approve")
                    completed_at, completed_by, claimed_at = ts(at), staff_label, ts(at)
                    step(
                        "task_completed",
                        "refused" if refused else "approved",
                        {"step": plan_step.name, "step_en": plan_step.name_en},
                        department=department_pk,
                        role=role,
                        actor=staff_label,
                        task=task_pk,
                        note="不符合法定条件。" if refused else "材料齐全，同意。",
                    )
                    audit(staff, "task.completed", {"status": "in_progress", "step": plan_step.bpmn_id})
                elif status == Case.Status.WITHDRAWN:
                    state = Task.State.CANCELLED
                elif status == Case.Status.SUPPLEMENT:
                    state = Task.State.WAITING
                elif status == Case.Status.IN_PROGRESS and rng.random() < 0.5:
                    state, claimed_at = Task.State.CLAIMED, ts(at)
                if state in Task.OPEN_STATES:
                    task_warning = _warning(task_due, self.until)
                    warning = warning or _warning(due, self.until)
                tasks.append(
                    (
                        task_pk,
                        instance_pk,
                        case_pk,
                        number,
                        plan.title,
                        self._uuid(),
                        plan_step.bpmn_id,
                        plan_step.name,
                        plan_step.name_en,
                        department_pk,
                        role,
                        state,
                        claimed_at,
                        completed_at,
                        completed_by,
                        decision,
                        "材料齐全，同意。"
                        if decision == "approve"
                        else ("不符合法定条件。" if decision else ""),
                        plan_step.limit_days,
                        task_due.isoformat(),
                        task_warning,
                        ts(created),
                        ts(at),
                    )
                )
            if status == Case.Status.SUPPLEMENT:
                at = at + dt.timedelta(seconds=rng.randrange(600, 86_400))
                step("supplement_requested", "supplement", {}, department=plan.lead_pk, note="请补正。")
                audit(
                    ("staff", "synthetic", "synthetic", "dept_handler", plan.department_code),
                    "case.supplement_requested",
                    {"status": "supplement"},
                )
            elif status == Case.Status.RESUBMITTED:
                step("supplement_requested", "supplement", {}, department=plan.lead_pk, note="请补正。")
                at = at + dt.timedelta(seconds=rng.randrange(600, 86_400))
                step("resubmitted", "resubmitted", {}, actor=applicant_name)
                audit(citizen, "case.resubmitted", {"status": "resubmitted"})
            if status in (Case.Status.COMPLETED, Case.Status.REJECTED, Case.Status.WITHDRAWN):
                closed_at = at = at + dt.timedelta(seconds=rng.randrange(1, 600))
                if status == Case.Status.COMPLETED:
                    step("completed", "completed", {}, department=plan.lead_pk)
                elif status == Case.Status.REJECTED:
                    step("rejected", "rejected", {}, department=plan.lead_pk, note="不符合法定条件。")
                else:
                    step("withdrawn", "withdrawn", {}, actor=applicant_name, note="不再需要。")
                audit(
                    citizen if status == Case.Status.WITHDRAWN else ("system", "system", "system", "", ""),
                    f"case.{status}" if status != Case.Status.REJECTED else "case.rejected",
                    {"status": str(status)},
                )
            instance_status = {
                Case.Status.COMPLETED: ProcessInstance.Status.COMPLETED,
                Case.Status.REJECTED: ProcessInstance.Status.COMPLETED,
                Case.Status.WITHDRAWN: ProcessInstance.Status.CANCELLED,
                Case.Status.SUPPLEMENT: ProcessInstance.Status.SUSPENDED,
            }.get(status, ProcessInstance.Status.RUNNING)
            instance = (
                instance_pk,
                plan.definition_pk,
                case_pk,
                district_code or "",
                plan.department_code,
                instance_status,
                "",
                ts(closed_at) if closed_at else None,
                ts(accepted_at),
                ts(at),
            )
        if status == Case.Status.SUBMITTED:
            warning = ""
        natural = working = None
        if closed_at is not None:
            natural = (_local_day(closed_at) - local_day).days
            working = max(0, natural * 5 // 7)
        case_row = (
            case_pk,
            number,
            plan.pk if plan.kind == "item" else None,
            plan.pk if plan.kind == "bundle" else None,
            plan.title,
            person_pk,
            org_pk,
            applicant_name,
            submitted_by,
            channel,
            accepting_pk,
            district_pk,
            plan.lead_pk,
            case_status,
            plan.promised,
            plan.legal,
            ts(submitted),
            ts(accepted_at) if accepted_at else None,
            ts(closed_at) if closed_at else None,
            due.isoformat() if due else None,
            warning,
            natural,
            working,
            len([t for t in tasks if t[10] == Task.State.COMPLETED]),
            json.dumps(sorted(involved)),
            ts(submitted),
            ts(at),
            "",
            "不符合法定条件。" if status == Case.Status.REJECTED else "",
            "《行政许可法》第三十八条" if status == Case.Status.REJECTED else "",
            "不再需要。" if status == Case.Status.WITHDRAWN else "",
        )
        return case_row, steps, instance, tasks, audits


def _warning(due: dt.date, until: dt.datetime) -> str:
    today = _local_day(until)
    if due < today:
        return "red"
    if due <= today + dt.timedelta(days=1):
        return "yellow"
    return ""


CASE_COLUMNS = [
    "id",
    "number",
    "item",
    "bundle",
    "title",
    "applicant_person",
    "applicant_organisation",
    "applicant_name",
    "submitted_by",
    "channel",
    "accepting_department",
    "jurisdiction_district",
    "lead_department",
    "status",
    "promised_limit_days",
    "legal_limit_days",
    "submitted_at",
    "accepted_at",
    "closed_at",
    "due_date",
    "warning",
    "natural_days",
    "working_days",
    "steps",
    "departments_involved",
    "created_at",
    "updated_at",
    "idempotency_key",
    "rejection_reason",
    "rejection_basis",
    "withdrawal_reason",
]
STEP_COLUMNS = [
    "case",
    "at",
    "kind",
    "label",
    "department",
    "role",
    "actor",
    "task_id",
    "note",
    "awaiting",
    "params",
]
INSTANCE_COLUMNS = [
    "id",
    "definition",
    "case_id",
    "district",
    "department",
    "status",
    "state",
    "completed_at",
    "created_at",
    "updated_at",
]
TASK_COLUMNS = [
    "id",
    "instance",
    "case_id",
    "case_number",
    "case_title",
    "spiff_id",
    "bpmn_id",
    "name",
    "name_en",
    "department",
    "role",
    "state",
    "claimed_at",
    "completed_at",
    "completed_by",
    "decision",
    "opinion",
    "limit_days",
    "due_date",
    "warning",
    "created_at",
    "updated_at",
]


def _analyze() -> None:
    """Refresh the planner's statistics after a bulk load. Without them SQLite guesses, and guesses wrong on
    these tables: it probes a case's tasks through the department index instead of the case index, and sorts
    every open case rather than read the partial index of open cases in order."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "PRAGMA analysis_limit = 2000"
            )  # sampled: seconds, not minutes, at a million cases
        cursor.execute("ANALYZE")


def case_history_count() -> int:
    """How many cases a history seeding wrote (0 when none): what ``bench lists`` asks before it runs."""
    from .models import SeedRun

    total = 0
    for counts in SeedRun.objects.values_list("counts", flat=True):
        total += int((counts or {}).get("history_cases", 0))
    return total


_WORKER_GENERATOR: HistoryGenerator | None = None


class CpuPhases:
    """CPU seconds of this process per phase of a load (what ``tongban seed`` reports: the wall time of a
    shared machine says little)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str):
        started = time.process_time()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.process_time() - started

    def rounded(self) -> dict[str, float]:
        return {name: round(value, 1) for name, value in self.seconds.items()}


def _worker_block(job: tuple[int, int]):
    """In a worker process (forked with the generator, touching no database): one block's rows."""
    number, count = job
    return _WORKER_GENERATOR.block(number, count)


@contextmanager
def _blocks_made(generator: HistoryGenerator, cases: int, workers: int):
    """The rows of ``cases`` cases, block by block in order: made here, or by ``workers`` forked processes
    while the caller writes the blocks before them (the making is two thirds of the CPU time of a load)."""
    jobs = [(n, min(BLOCK, cases - n * BLOCK)) for n in range((cases + BLOCK - 1) // BLOCK)]
    if workers < 1 or len(jobs) < 2:
        yield (generator.block(number, count) for number, count in jobs)
        return
    global _WORKER_GENERATOR
    _WORKER_GENERATOR = generator

    def in_order(pool):
        # A few blocks ahead of the writer, no more: the workers are faster, and an unbounded queue of made
        # blocks held 4.6 GB at a million cases.
        waiting, rest = deque(), iter(jobs)
        for job in islice(rest, BLOCKS_AHEAD * workers):
            waiting.append(pool.apply_async(_worker_block, (job,)))
        while waiting:
            rows = waiting.popleft().get()
            job = next(rest, None)
            if job is not None:
                waiting.append(pool.apply_async(_worker_block, (job,)))
            yield rows

    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield in_order(pool)
    finally:
        _WORKER_GENERATOR = None


# The tables a history fills. Their secondary indexes (not the primary keys nor UNIQUE columns, which SQLite keeps
# inside the table's definition) are dropped before a large load and created again after it, inside the same
# transaction: sorting 5 million keys once is much cheaper than inserting them one by one into some 40 B-trees
# (the 2026-12-06 seed of a million cases spent most of its 54 minutes there).
def _history_tables() -> list[str]:
    from tongban.core.models import AuditEntry

    return [m._meta.db_table for m in (Case, CaseStep, ProcessInstance, Task, AuditEntry)]


def _secondary_indexes(cursor, tables: list[str]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the indexes of ``tables`` that can be dropped and made again."""
    if connection.vendor == "sqlite":
        marks = ", ".join(["%s"] * len(tables))
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "  # noqa: S608
            f"AND tbl_name IN ({marks}) ORDER BY tbl_name, name",
            tables,
        )
    else:  # not those that back a constraint (primary keys, UNIQUE): they go with the constraint
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = format('%%I.%%I', i.schemaname, i.indexname)::regclass) "
            "ORDER BY i.tablename, i.indexname",
            [tables],
        )
    return list(cursor.fetchall())


@contextmanager
def _indexes_deferred(enabled: bool, stage: Callable[[str], None] | None, cpu: CpuPhases):
    """Drop the history tables' secondary indexes for the block and create them again at its end (in the
    caller's transaction: a failed load leaves the schema as it was)."""
    if not enabled:
        yield
        return
    quote = connection.ops.quote_name
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgresql:  # PostgreSQL alters no table with foreign-key checks pending: run them now
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        indexes = _secondary_indexes(cursor, _history_tables())
        for name, _sql in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    yield
    if stage:
        stage(f"creating {len(indexes)} indexes")
    with cpu.phase("indexes"), connection.cursor() as cursor:
        for _name, sql in indexes:
            cursor.execute(sql)
        if postgresql:  # Django's foreign keys are deferred to the commit again
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@contextmanager
def _sqlite_bulk_mode():
    """SQLite settings for a bulk load into a scratch database, restored afterwards. Outside a transaction
    only (SQLite refuses to change the journal inside one; then the load runs with the usual settings).

    A rollback journal instead of the WAL: the pages a load adds at the end of the file are not journaled at
    all (the WAL would hold all of them once more, 9 GB at a million cases, and then copy them back); no fsync
    (``synchronous = OFF``: a power cut during the load may lose the scratch database, a crash of the process
    rolls back as usual); a larger page cache; sorter threads for the index creation."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with bulk_load_cache():
            yield
        return
    connection.ensure_connection()
    if hasattr(connection, "checkpointer_close"):
        connection.checkpointer_close()  # its own connection to the file would keep the WAL (database is locked)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        (journal,) = cursor.fetchone()
        cursor.execute("PRAGMA synchronous")
        (synchronous,) = cursor.fetchone()
        cursor.execute("PRAGMA foreign_keys")
        (foreign_keys,) = cursor.fetchone()
        cursor.execute("PRAGMA journal_mode = DELETE")
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute("PRAGMA threads = 2")
    try:
        with bulk_load_cache():
            yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA journal_mode = {journal}")  # a word read from SQLite itself
            cursor.execute(f"PRAGMA synchronous = {int(synchronous):d}")
            cursor.execute("PRAGMA threads = 0")
            cursor.execute(f"PRAGMA foreign_keys = {int(foreign_keys):d}")


def cases_history_seed(
    *,
    cases: int,
    seed: int,
    until: dt.datetime | None = None,
    batch_size: int = HISTORY_BATCH_SIZE,
    progress: Progress | None = None,
    stage: Callable[[str], None] | None = None,
    defer_indexes: bool | None = None,
    workers: int | None = None,
) -> HistoryResult:
    """Write ``cases`` synthetic cases with their timelines, tasks and audit entries, in one transaction.

    Needs the demo city (persons and the catalogue). Can run again on the same database: a later run
    continues the case numbers where the earlier ones stopped (numbers stay unique). ``defer_indexes``: drop
    the secondary indexes of the tables it fills during the load and create them after (default: when the load
    is large, at least 20,000 cases and more than the cases already there). ``workers``: processes that make
    the rows while this one writes them (default: up to two for a large load; 0: made here). ``stage`` is told what it does
    after the rows are written (the index creation and the statistics take a while at a million cases).
    """
    if cases < 0:
        raise ValueError("the number of cases must not be negative")
    until = until or timezone.now().replace(microsecond=0)
    started = time.perf_counter()
    from .models import SeedRun

    previous = case_history_count()
    if defer_indexes is None:
        defer_indexes = cases >= DEFER_INDEXES_FROM and cases > Case.objects.count()
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if cases >= DEFER_INDEXES_FROM else 0
    with _sqlite_bulk_mode(), transaction.atomic():
        generator = HistoryGenerator(seed=seed + previous, until=until, start_index=previous)
        case_writer = BulkWriter(Case, CASE_COLUMNS)
        step_writer = BulkWriter(CaseStep, STEP_COLUMNS)
        instance_writer = BulkWriter(ProcessInstance, INSTANCE_COLUMNS)
        task_writer = BulkWriter(Task, TASK_COLUMNS)
        shards = shard_count()
        audit_written = open_tasks = 0
        cpu = CpuPhases()
        cpu_started = time.process_time()
        with _indexes_deferred(defer_indexes, stage, cpu), _blocks_made(generator, cases, workers) as blocks:
            done = 0
            pending: list[tuple] = []
            for rows in blocks:
                pending.append(rows)
                made = done + sum(len(b[0]) for b in pending)
                if made - done < batch_size and made < cases:
                    continue
                size = made - done
                case_rows = [row for b in pending for row in b[0]]
                instance_rows = [row for b in pending for row in b[2]]
                task_rows = [row for b in pending for row in b[3]]
                step_rows = [row for b in pending for row in b[1]]
                audit_rows = [row for b in pending for row in b[4]]
                pending = []
                state = TASK_COLUMNS.index("state")
                open_tasks += sum(1 for t in task_rows if t[state] in Task.OPEN_STATES)
                with cpu.phase("cases"):
                    case_writer.write(case_rows)
                with cpu.phase("instances"):
                    instance_writer.write(instance_rows)
                with cpu.phase("tasks"):
                    task_writer.write(task_rows)
                with cpu.phase("steps"):
                    step_writer.write(step_rows)
                with cpu.phase("audit"):
                    audit_written += audit_record_batch(audit_rows, chain=(done // batch_size) % shards)
                done += size
                if progress:
                    progress(size)
        if stage:
            stage("statistics for the planner")
        with cpu.phase("statistics"):
            _analyze()
        seconds = time.perf_counter() - started
        cpu.seconds["total"] = time.process_time() - cpu_started
        result = HistoryResult(
            cases=case_writer.written,
            steps=step_writer.written,
            tasks=task_writer.written,
            open_tasks=open_tasks,
            audit_entries=audit_written,
            seconds=round(seconds, 3),
            cpu_seconds=cpu.rounded(),
            workers=workers,
        )
        SeedRun.objects.create(
            seed=seed,
            people=0,
            organisations=0,
            counts={
                "history_cases": result.cases,
                "history_steps": result.steps,
                "history_tasks": result.tasks,
                "history_open_tasks": result.open_tasks,
                "history_audit_entries": result.audit_entries,
                "history_until": until.isoformat(),
                "history_indexes_deferred": bool(defer_indexes),
                "history_workers": workers,
                "history_cpu_seconds": result.cpu_seconds,
            },
            seconds=result.seconds,
        )
    return result
