"""Writes of the cases app (统一受理): submit, accept, work, supplement, refuse, withdraw and complete a case.

``cases`` drives ``workflow``: it starts a case's process on acceptance and turns the outcome of each task
operation into the case's status, clock, timeline and measures. Each service is one transaction: a case is
either fully written (case, materials, first tasks, timeline, audit entry, event) or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
import secrets
import uuid
from collections.abc import Iterable, Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tongban.catalog.models import Bundle, BundleItem, PublicationStatus, ServiceItem, ServiceObject
from tongban.catalog.services import form_validate, required_materials, service_items
from tongban.core import calendar
from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.core.events import event_emit
from tongban.core.exceptions import Conflict
from tongban.core.sla import SLAClock
from tongban.identity.models import AdminUnit, Organisation, Person
from tongban.identity.permissions import require_permission
from tongban.identity.selectors import actor_for, person_for, staff_for
from tongban.workflow import services as workflow
from tongban.workflow.models import Task

from . import evidence, step_effects
from .models import Case, CaseMaterial, CaseStep, SupplementRequest

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
ALLOWED_UPLOAD_TYPES = {"application/pdf", "image/jpeg", "image/png"}
DEFAULT_PROCESS = "standard"


# --- helpers ------------------------------------------------------------------------------------------------


def _number(now: dt.datetime) -> str:
    """A case number people can read out: TB + date + 10 random digits.

    At 180,000 cases a day about two numbers a day collide; the insert then fails and ``case_submit`` retries
    the whole submission with a new number (cheaper than a savepoint around every insert).
    """
    return f"TB{calendar.as_local_date(now):%Y%m%d}{secrets.randbelow(10**10):010d}"


def _step(
    case: Case,
    *,
    at,
    kind: str,
    label: tuple[str, dict],
    actor: Actor | None = None,
    department_id=None,
    role: str = "",
    task_id=None,
    note: str = "",
    awaiting: str = "",
) -> CaseStep:
    return CaseStep(
        case=case,
        at=at,
        kind=kind,
        label=(_(label[0]) % label[1])[:200],
        params={"msgid": label[0], "args": label[1]},
        department_id=department_id,
        role=role,
        actor=(actor.label if actor else "")[:200],
        task_id=task_id,
        note=note,
        awaiting=awaiting[:300],
    )


def _awaiting_text(tasks: list[Task]) -> str:
    """ "Department·step" of each task, from the labels ``workflow`` attaches to the tasks it creates."""
    return "；".join(f"{getattr(t, 'department_name', '')}·{t.name}" for t in tasks)


def _audit(case: Case, *, actor: Actor, action: str, details: dict | None = None) -> None:
    audit_record(
        actor=actor,
        action=action,
        subject_type="case",
        subject_id=str(case.pk),
        case_id=str(case.pk),
        details={"number": case.number, "status": case.status, **(details or {})},
    )


def _emit(case: Case, name: str, extra: dict | None = None) -> None:
    event_emit(
        name,
        {"case": str(case.pk), "number": case.number, "status": case.status, **(extra or {})},
        subject_type="case",
        subject_id=case.pk,
    )


def _service_items(service) -> list[ServiceItem]:
    """The service's items in order, with materials prefetched; kept on the service object for the call."""
    cached = getattr(service, "_case_items", None)
    if cached is None:
        cached = service_items(service)
        service._case_items = cached
    return cached


def _check_upload(code: str, upload) -> list[str]:
    errors = []
    size = getattr(upload, "size", 0) or 0
    if size <= 0:
        errors.append(_("The file is empty."))
    elif size > MAX_UPLOAD_BYTES:
        errors.append(_("The file is larger than %(mb)s MB.") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)})
    content_type = (
        getattr(upload, "content_type", None) or mimetypes.guess_type(getattr(upload, "name", ""))[0] or ""
    )
    if content_type not in ALLOWED_UPLOAD_TYPES:
        errors.append(_("Upload a PDF, JPEG or PNG file."))
    return errors


def _sha256(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _applicant_check(*, user, service, applicant_person, applicant_organisation, channel) -> None:
    """Online, a citizen applies for themselves and an agent for their organisation; a clerk for anyone."""
    if channel == Case.Channel.WINDOW:
        require_permission(user, "case.accept")
        return
    if applicant_organisation is not None:
        require_permission(user, "portal.apply", owner=applicant_organisation)
    elif applicant_person is not None:
        require_permission(user, "portal.apply", owner=applicant_person)
    else:
        raise ValidationError({"applicant": [_("Say who applies.")]})


def _service_check(service, applicant_person, applicant_organisation) -> None:
    if service.status != PublicationStatus.PUBLISHED:
        raise ValidationError({"service": [_("This service is not open for applications.")]})
    if service.service_object == ServiceObject.PERSON and applicant_person is None:
        raise ValidationError({"applicant": [_("This service is for natural persons.")]})
    if service.service_object == ServiceObject.ORGANISATION and applicant_organisation is None:
        raise ValidationError({"applicant": [_("This service is for legal persons (organisations).")]})


def _validate_submission(service, form_data, files, window_checked, *, data=None) -> tuple[list, dict]:
    """Field errors for the form and the materials together, so the applicant fixes everything at once.

    ``data`` (a dict with the applicant, the case id and number) lets materials that a department holds be
    obtained from the data hub or an e-licence instead of uploaded; what was obtained is ``data["evidence"]``.
    """
    errors: dict[str, list[str]] = {}
    if not isinstance(form_data, Mapping):
        raise ValidationError({"form_data": [_("The form must be an object of fields.")]})
    for field, messages in form_validate(service.form_schema or {}, dict(form_data)).items():
        errors.setdefault(field or "form_data", []).extend(messages)
    needed = []
    seen = set()
    for material in required_materials(service, dict(form_data), items=_service_items(service)):
        if material.code in seen:
            continue
        seen.add(material.code)
        needed.append(material)
        upload = files.get(material.code)
        if (
            upload is None
            and material.code not in window_checked
            and data is not None
            and material.satisfied_by
            in (
                evidence.REGISTRY,
                evidence.LICENCE,
            )
        ):
            found = evidence.obtain(material=material, form_data=dict(form_data), **data["lookup"])
            if isinstance(found, evidence.Evidence):
                data["evidence"].append(found)
                continue
            errors.setdefault(f"materials.{material.code}", []).append(
                _("“%(name)s” could not be obtained from the records (%(reason)s): please upload it.")
                % {"name": material.name, "reason": found.reason}
            )
            continue
        if upload is None:
            if material.code not in window_checked:
                errors.setdefault(f"materials.{material.code}", []).append(
                    _("Provide “%(name)s”.") % {"name": material.name}
                )
            continue
        for message in _check_upload(material.code, upload):
            errors.setdefault(f"materials.{material.code}", []).append(message)
    known = {m.code for item in _service_items(service) for m in item.materials.all()}
    for code in files:
        if code not in known:
            errors.setdefault(f"materials.{code}", []).append(
                _("This service asks for no material with this code.")
            )
    return needed, errors


def _store_materials(case: Case, needed, files, window_checked, *, actor_is_clerk: bool, obtained=()) -> int:
    by_code = {m.code: m for m in needed}
    rows, uploaded = [], 0
    for found in obtained:  # 免提交: issued by the authority, usable directly (trust A)
        rows.append(
            CaseMaterial(
                case=case,
                item_code=found.item_code,
                code=found.code,
                name=found.name,
                origin=found.origin,
                trust=CaseMaterial.Trust.A,
                reference=found.reference[:200],
            )
        )
    for code, upload in files.items():
        material = by_code.get(code)
        if material is None:  # an optional material
            material = next(
                m for item in _service_items(case.service) for m in item.materials.all() if m.code == code
            )
        row = CaseMaterial(
            case=case,
            item_code=getattr(material, "item_code", None) or material.item.code,
            code=code,
            name=material.name,
            origin=CaseMaterial.Origin.WINDOW if actor_is_clerk else CaseMaterial.Origin.UPLOAD,
            trust=CaseMaterial.Trust.B if actor_is_clerk else CaseMaterial.Trust.C,
            filename=getattr(upload, "name", "")[:200],
            content_type=(getattr(upload, "content_type", "") or "")[:100],
            size=upload.size,
            sha256=_sha256(upload),
        )
        row.file.save(f"{case.number}-{code}{_extension(upload)}", upload, save=False)
        rows.append(row)
        uploaded += 1
    for code in window_checked:
        if code in files or code not in by_code:
            continue
        material = by_code[code]
        rows.append(
            CaseMaterial(
                case=case,
                item_code=getattr(material, "item_code", None) or material.item.code,
                code=code,
                name=material.name,
                origin=CaseMaterial.Origin.WINDOW,
                trust=CaseMaterial.Trust.B,
            )
        )
    CaseMaterial.objects.bulk_create(rows)
    return uploaded


def _extension(upload) -> str:
    name = getattr(upload, "name", "") or ""
    return ("." + name.rsplit(".", 1)[-1].lower()[:5]) if "." in name else ""


def _jurisdiction(applicant_person, applicant_organisation, explicit):
    if explicit is not None:
        return explicit
    if applicant_person is not None and applicant_person.household_district_id:
        return applicant_person.household_district
    if applicant_organisation is not None and applicant_organisation.district_id:
        return applicant_organisation.district
    return None


# --- submission and acceptance -------------------------------------------------------------------------------


def case_submit(
    *,
    user,
    service: ServiceItem | Bundle,
    form_data: dict,
    files: Mapping | None = None,
    applicant_person: Person | None = None,
    applicant_organisation: Organisation | None = None,
    channel: str = Case.Channel.ONLINE,
    idempotency_key: str = "",
    window_checked: Iterable[str] = (),
    jurisdiction_district: AdminUnit | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """Submit an application; accept it at once when the service accepts complete online submissions.

    Idempotent: the same ``idempotency_key`` from the same user returns the case made the first time.
    Invalid form fields and missing materials are reported together (ValidationError with field keys
    ``<form field>`` and ``materials.<code>``); nothing is written then.
    """
    files = dict(files or {})
    window_checked = set(window_checked or ())
    idempotency_key = (idempotency_key or "").strip()[:64]
    if idempotency_key:
        existing = Case.objects.filter(submitted_by=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    if channel == Case.Channel.ONLINE and applicant_person is None and applicant_organisation is None:
        applicant_person = person_for(user)
    _applicant_check(
        user=user,
        service=service,
        applicant_person=applicant_person,
        applicant_organisation=applicant_organisation,
        channel=channel,
    )
    if channel != Case.Channel.WINDOW and window_checked:
        raise ValidationError({"window_checked": [_("Only a window clerk checks materials at a window.")]})
    _service_check(service, applicant_person, applicant_organisation)
    now = now or timezone.now()
    case_id, number = (
        uuid.uuid4(),
        _number(now),
    )  # known before the data hub is asked, so its lookups name the case
    data = {
        "evidence": [],
        "lookup": {
            "applicant_person": applicant_person,
            "applicant_organisation": applicant_organisation,
            "department": service.lead_department if isinstance(service, Bundle) else service.department,
            "service_name": service.name_zh,
            "case_id": case_id,
            "case_number": number,
        },
    }
    needed, errors = _validate_submission(service, form_data, files, window_checked, data=data)
    if errors:
        raise ValidationError(errors)
    definition = workflow.definition_latest(
        service.process_key or DEFAULT_PROCESS
    )  # read before the write lock
    for attempt in range(3):
        try:
            return _case_create(
                case_id=case_id,
                number=number if attempt == 0 else _number(now),
                obtained=data["evidence"],
                definition=definition,
                user=user,
                service=service,
                form_data=dict(form_data),
                files=files,
                needed=needed,
                window_checked=window_checked,
                applicant_person=applicant_person,
                applicant_organisation=applicant_organisation,
                channel=channel,
                idempotency_key=idempotency_key,
                jurisdiction_district=jurisdiction_district,
                now=now,
            )
        except IntegrityError:
            if idempotency_key:
                existing = Case.objects.filter(submitted_by=user, idempotency_key=idempotency_key).first()
                if existing is not None:
                    return existing
            if attempt == 2:
                raise
            for upload in files.values():
                upload.seek(0)
    raise AssertionError("unreachable")  # pragma: no cover


@transaction.atomic
def _case_create(
    *,
    user,
    service,
    form_data,
    files,
    needed,
    window_checked,
    applicant_person,
    applicant_organisation,
    channel,
    idempotency_key,
    jurisdiction_district,
    now,
    case_id,
    number,
    obtained=(),
    definition=None,
) -> Case:
    actor = actor_for(user)
    is_clerk = channel == Case.Channel.WINDOW
    staff = staff_for(user) if is_clerk else None
    bundle = service if isinstance(service, Bundle) else None
    item = service if isinstance(service, ServiceItem) else None
    applicant_name = applicant_organisation.name if applicant_organisation else applicant_person.name
    case = Case(
        pk=case_id,
        number=number,
        item=item,
        bundle=bundle,
        title=service.name_zh,
        applicant_person=applicant_person,
        applicant_organisation=applicant_organisation,
        applicant_name=applicant_name,
        submitted_by=user,
        channel=channel,
        accepting_department=staff.department if staff else None,
        jurisdiction_district=_jurisdiction(applicant_person, applicant_organisation, jurisdiction_district),
        lead_department=bundle.lead_department if bundle else item.department,
        status=Case.Status.SUBMITTED,
        form_data=form_data,
        idempotency_key=idempotency_key,
        promised_limit_days=service.promised_limit_days,
        legal_limit_days=service.legal_limit_days,
        submitted_at=now,
        visits=1 if is_clerk else 0,
        created_at=now,
        updated_at=now,
    )
    case.materials_uploaded = sum(1 for code in files if code)
    case.save(force_insert=True)
    _store_materials(case, needed, files, window_checked, actor_is_clerk=is_clerk, obtained=obtained)
    steps = [
        _step(
            case,
            at=now,
            kind="submitted",
            label=(
                gettext_noop("Submitted at a window") if is_clerk else gettext_noop("Submitted online"),
                {},
            ),
            actor=actor,
            department_id=case.accepting_department_id,
            role=actor.role if is_clerk else "",
            awaiting=_("Acceptance"),
        )
    ]
    _audit(case, actor=actor, action="case.submitted", details={"channel": channel, "service": service.code})
    _emit(case, "case.submitted", {"service": service.code, "channel": channel})
    automatic = is_clerk or getattr(service, "acceptance", "automatic") == "automatic"
    if automatic:
        _accept(case, actor=actor if is_clerk else SYSTEM, now=now, steps=steps, definition=definition)
    CaseStep.objects.bulk_create(steps)
    return case


def _process_key(case: Case) -> str:
    return case.service.process_key or DEFAULT_PROCESS


def _accept(case: Case, *, actor: Actor, now, steps: list, definition=None) -> None:
    clock = SLAClock.start(now, case.promised_limit_days)
    outcome = workflow.process_start(
        actor=actor,
        case_id=case.pk,
        case_number=case.number,
        case_title=case.title,
        process_key=_process_key(case),
        district_code=case.jurisdiction_district.code if case.jurisdiction_district_id else None,
        department_code=case.lead_department.code,
        data={"needs_approval": bool(case.form_data.get("needs_approval", False))},
        now=now,
        audit=False,
        definition=definition,
    )
    case.status = Case.Status.ACCEPTED
    case.accepted_at = now
    case.clock = clock.to_dict()
    case.due_date = clock.due_date()
    case.departments_involved = sorted({t.department_code for t in outcome.created})
    Case.objects.filter(pk=case.pk).update(
        status=case.status,
        accepted_at=now,
        clock=case.clock,
        due_date=case.due_date,
        departments_involved=case.departments_involved,
        updated_at=now,
    )
    steps.append(
        _step(
            case,
            at=now,
            kind="accepted",
            label=(gettext_noop("Accepted; due by %(date)s"), {"date": case.due_date.isoformat()}),
            actor=actor,
            department_id=case.accepting_department_id or case.lead_department_id,
            awaiting=_awaiting_text(outcome.created),
        )
    )
    _audit(
        case,
        actor=actor,
        action="case.accepted",
        details={
            "due": case.due_date.isoformat(),
            "process": outcome.instance.definition.key,
            "version": outcome.instance.definition.version,
            "tasks": [t.bpmn_id for t in outcome.created],
        },
    )
    _emit(case, "case.accepted", {"due": case.due_date.isoformat()})


def case_accept(*, user, case: Case, now: dt.datetime | None = None) -> Case:
    """Accept a case submitted for manual acceptance (受理): the clock starts and the process begins."""
    require_permission(user, "case.accept")
    now = now or timezone.now()
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self",))
            .select_related("lead_department", "jurisdiction_district")
            .get(pk=case.pk)
        )
        if case.status != Case.Status.SUBMITTED:
            raise Conflict(_("Only a submitted case can be accepted."), code="case_not_submitted")
        staff = staff_for(user)
        if case.accepting_department_id is None and staff is not None:
            case.accepting_department = staff.department
            Case.objects.filter(pk=case.pk).update(accepting_department=staff.department)
        steps: list[CaseStep] = []
        _accept(case, actor=actor_for(user), now=now, steps=steps)
        CaseStep.objects.bulk_create(steps)
    return case


# --- working a case ------------------------------------------------------------------------------------------


def _lock_case(case_id) -> Case:
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("item", "bundle", "lead_department")
        .get(pk=case_id)
    )


def _task_for(user, task_id, *, request=None, with_process=False) -> Task:
    """The task, after checking that ``user`` may work it (audited refusal otherwise).

    ``with_process`` loads its process instance in the same query, for the engine step of a completion.
    """
    query = Task.objects.select_related("department")
    if with_process:
        query = query.select_related("instance", "instance__definition").defer(
            "instance__definition__bpmn_xml"
        )
    try:
        task = query.get(pk=task_id)
    except (Task.DoesNotExist, ValidationError, ValueError) as exc:
        raise Task.DoesNotExist(_("No such task.")) from exc
    workflow.require_can_work(user, task, request=request)
    return task


def _require_revision(task: Task, revision: int | None) -> None:
    if revision is not None and task.revision != revision:
        raise Conflict(_("Someone else changed this step; reload it."), code="task_changed")


def case_task_claim(
    *, user, task_id, revision: int | None = None, request=None, now: dt.datetime | None = None
) -> Task:
    """Take a task of one's department in hand; the case is then in progress.

    With ``revision`` (the one the page showed), a task changed since is a ``Conflict``.
    """
    task = _task_for(user, task_id, request=request)
    now = now or timezone.now()
    with transaction.atomic():
        workflow.process_lock(task.case_id)
        task.refresh_from_db(fields=["state", "revision", "assignee", "claimed_at"])
        _require_revision(task, revision)
        workflow.task_claim(user=user, task=task, now=now)
        _case_moves_on(task.case_id, now=now)
        CaseStep.objects.bulk_create(
            [
                _step(
                    Case(pk=task.case_id),
                    at=now,
                    kind="task_claimed",
                    label=(gettext_noop("%(step)s: in hand"), {"step": task.name}),
                    actor=actor_for(user),
                    department_id=task.department_id,
                    role=task.role,
                    task_id=task.pk,
                    awaiting=f"{task.department.name_zh}·{task.name}",
                )
            ]
        )
    return task


_WORKABLE = (Case.Status.ACCEPTED, Case.Status.IN_PROGRESS, Case.Status.RESUBMITTED)


def _require_workable(case: Case) -> None:
    if case.status not in _WORKABLE:
        raise Conflict(
            _("The case is %(status)s; its steps cannot be worked now.")
            % {"status": case.get_status_display()},
            code="case_not_workable",
        )


def _case_moves_on(case_id, *, now, step_done: bool = False) -> None:
    """One conditional update: the case is in progress, and one step more is done.

    A case that is not workable (waiting for a supplement, closed) matches nothing: a ``Conflict`` that rolls
    the caller's transaction back.
    """
    changes = {"status": Case.Status.IN_PROGRESS, "updated_at": now}
    if step_done:
        changes["steps"] = F("steps") + 1
    if not Case.objects.filter(pk=case_id, status__in=_WORKABLE).update(**changes):
        status = Case.objects.filter(pk=case_id).values_list("status", flat=True).first()
        raise Conflict(
            _("The case is %(status)s; its steps cannot be worked now.")
            % {"status": Case.Status(status).label if status else "?"},
            code="case_not_workable",
        )


def case_task_complete(
    *,
    user,
    task_id,
    decision: str,
    opinion: str = "",
    basis: str = "",
    revision: int | None = None,
    request=None,
    now: dt.datetime | None = None,
) -> Case:
    """Complete a task (approve, or refuse with the reason and its legal basis); the case moves on or closes.

    The hot path of the platform: a handful of statements (lock the process, complete the task, create the
    next ones, one conditional update of the case, one timeline line, the audit entry and the events).
    """
    task = _task_for(user, task_id, request=request, with_process=True)
    now = now or timezone.now()
    if decision == Task.Decision.REJECT:
        errors = {}
        if not (opinion or "").strip():
            errors["opinion"] = [_("Give the reason for refusing.")]
        if not (basis or "").strip():
            errors["basis"] = [_("Give the legal basis for refusing.")]
        if errors:
            raise ValidationError(errors)
    actor = actor_for(user)
    # The engine's work is done before the write transaction, and applied if the process is unchanged by then.
    prepared = workflow.task_prepare(task=task, decision=decision, now=now)
    with transaction.atomic():
        outcome = workflow.task_complete(
            user=user,
            task=task,
            decision=decision,
            opinion=opinion or "",
            revision=revision,
            prepared=prepared,
            now=now,
        )
        label = (
            gettext_noop("%(step)s: approved")
            if decision == Task.Decision.APPROVE
            else gettext_noop("%(step)s: refused"),
            {"step": task.name},
        )
        line = {
            "at": now,
            "kind": "task_completed",
            "label": label,
            "actor": actor,
            "department_id": task.department_id,
            "role": task.role,
            "task_id": task.pk,
            "note": opinion or "",
            "awaiting": _awaiting_text(outcome.created),
        }
        if decision == Task.Decision.APPROVE and step_effects.step_has_effects(task.bpmn_id):
            # The owners' registries change with the department's decision (数据跑腿), in this transaction.
            case = Case.objects.select_related("applicant_person", "applicant_organisation").get(
                pk=task.case_id
            )
            step_effects.step_effects_run(case=case, task=task, actor=actor)
        if decision != Task.Decision.REJECT and not outcome.completed:
            _case_moves_on(task.case_id, now=now, step_done=True)
            CaseStep.objects.bulk_create([_step(Case(pk=task.case_id), **line)])
            return Case(pk=task.case_id, status=Case.Status.IN_PROGRESS)
        case = _lock_case(task.case_id)
        _require_workable(case)
        case.steps += 1
        steps = [_step(case, **line)]
        if decision == Task.Decision.REJECT:
            _close(
                case,
                status=Case.Status.REJECTED,
                now=now,
                steps=steps,
                actor=actor,
                extra={"rejection_reason": opinion, "rejection_basis": basis},
            )
            steps.append(
                _step(
                    case,
                    at=now,
                    kind="rejected",
                    label=(gettext_noop("Refused"), {}),
                    actor=actor,
                    department_id=task.department_id,
                    role=task.role,
                    note=f"{opinion}\n{basis}",
                )
            )
            _audit(case, actor=actor, action="case.rejected", details={"basis": basis[:300]})
            _emit(case, "case.rejected")
        else:
            _close(case, status=Case.Status.COMPLETED, now=now, steps=steps, actor=actor)
            steps.append(
                _step(
                    case,
                    at=now,
                    kind="completed",
                    label=(gettext_noop("Completed; the results are ready"), {}),
                    actor=actor,
                    department_id=task.department_id,
                )
            )
            _audit(case, actor=actor, action="case.completed", details={"working_days": case.working_days})
            _emit(case, "case.completed", {"results": [r["item"] for r in case.result]})
        CaseStep.objects.bulk_create(steps)
    return case


def case_task_return(
    *, user, task_id, opinion: str, revision: int | None = None, request=None, now=None
) -> Case:
    """Send a case back to its previous step with the reason (退回)."""
    task = _task_for(user, task_id, request=request)
    now = now or timezone.now()
    actor = actor_for(user)
    with transaction.atomic():
        workflow.process_lock(task.case_id)
        case = _lock_case(task.case_id)
        _require_workable(case)
        outcome = workflow.task_return(
            user=user, task_id=task.pk, opinion=opinion, revision=revision, now=now
        )
        CaseStep.objects.bulk_create(
            [
                _step(
                    case,
                    at=now,
                    kind="task_returned",
                    label=(gettext_noop("%(step)s: returned to the previous step"), {"step": task.name}),
                    actor=actor,
                    department_id=task.department_id,
                    role=task.role,
                    task_id=task.pk,
                    note=opinion,
                    awaiting=_awaiting_text(outcome.created),
                )
            ]
        )
        case.steps += 1
        Case.objects.filter(pk=case.pk).update(
            status=Case.Status.IN_PROGRESS, steps=case.steps, updated_at=now
        )
    return case


def _result_package(case: Case, now) -> list[dict]:
    """One result per item of the service, in order (one query, no model instances)."""
    fields = ("code", "result_name", "name_zh", "result_type", "result_licence_type", "department__name_zh")
    if case.bundle_id:
        rows = (
            BundleItem.objects.filter(bundle_id=case.bundle_id)
            .order_by("position", "pk")
            .values_list(*(f"item__{f}" for f in fields))
        )
    else:
        rows = ServiceItem.objects.filter(pk=case.item_id).values_list(*fields)
    return [
        {
            "item": code,
            "name": result_name or name_zh,
            "type": result_type,
            "licence_type": licence_type,
            "number": f"{case.number}-{position:02d}",
            "department": department,
            "issued_at": now.isoformat(),
        }
        for position, (code, result_name, name_zh, result_type, licence_type, department) in enumerate(
            rows, start=1
        )
    ]


def _issue_licences(case: Case, *, actor: Actor) -> None:
    """Issue the e-licences of the result package that no step has issued yet (to the applicant), signed by the
    licence type's department; a licence type this city has not set up is skipped."""
    from tongban.licences.selectors import licences_for_case
    from tongban.licences.services import licence_type_get, licences_for_case_results

    issued = {licence.type.code for licence in licences_for_case(case.pk)}
    pending = [
        result
        for result in case.result
        if result.get("licence_type")
        and result["licence_type"] not in issued
        and licence_type_get(result["licence_type"]) is not None
    ]
    if pending:
        licences_for_case_results(
            actor=actor,
            case_id=case.pk,
            results=pending,
            form_data=case.form_data,
            holder_person=case.applicant_person,
            holder_organisation=case.applicant_organisation,
        )


def _close(case: Case, *, status: str, now, steps: list, actor: Actor, extra: dict | None = None) -> None:
    """Close a case: stop its clock, compute its measures, and (when completed) its result package."""
    clock = SLAClock.from_dict(case.clock).stop(now) if case.clock else None
    case.status = status
    case.closed_at = now
    submitted_on = calendar.as_local_date(case.submitted_at or now)
    closed_on = calendar.as_local_date(now)
    case.natural_days = (closed_on - submitted_on).days
    case.working_days = max(0, calendar.working_days_between(submitted_on, closed_on))
    case.paused_working_days = clock.paused_working_days(now) if clock else 0
    case.departments_involved = sorted(
        set(case.departments_involved)
        | set(
            Task.objects.filter(case_id=case.pk)
            .exclude(state=Task.State.CANCELLED)
            .values_list("department__code", flat=True)
        )
    )
    if status == Case.Status.COMPLETED:
        case.result = _result_package(case, now)
        _issue_licences(case, actor=actor)
    changes = {
        "status": status,
        "closed_at": now,
        "natural_days": case.natural_days,
        "working_days": case.working_days,
        "paused_working_days": case.paused_working_days,
        "steps": case.steps,
        "departments_involved": case.departments_involved,
        "result": case.result,
        "updated_at": now,
    }
    if clock is not None:
        case.clock = clock.to_dict()
        changes["clock"] = case.clock
    for key, value in (extra or {}).items():
        setattr(case, key, value)
        changes[key] = value
    Case.objects.filter(pk=case.pk).update(**changes)


# --- supplements (补正) ---------------------------------------------------------------------------------------


def case_supplement_request(
    *,
    user,
    task_id,
    materials: list[dict] | None = None,
    fields: list[dict] | None = None,
    note: str = "",
    revision: int | None = None,
    request=None,
    now: dt.datetime | None = None,
) -> SupplementRequest:
    """Ask the applicant, once, for everything missing (materials and form fields, each with a reason).

    The case and its open tasks wait and their clocks stop until the applicant answers.
    """
    task = _task_for(user, task_id, request=request)
    require_permission(user, "case.supplement", department=task.department_id, request=request)
    now = now or timezone.now()
    materials, fields = list(materials or []), list(fields or [])
    actor = actor_for(user)
    with transaction.atomic():
        workflow.process_lock(task.case_id)
        task.refresh_from_db(fields=["state", "revision"])
        _require_revision(task, revision)
        case = _lock_case(task.case_id)
        _require_workable(case)
        errors = _supplement_errors(case, materials, fields)
        if errors:
            raise ValidationError(errors)
        workflow.process_suspend(actor=actor, case_id=case.pk, reason="supplement", now=now)
        clock = SLAClock.from_dict(case.clock).pause(now, "supplement")
        supplement = SupplementRequest.objects.create(
            case=case,
            task_id=task.pk,
            department_id=task.department_id,
            requested_by=actor.label,
            materials=materials,
            fields=fields,
            note=note,
            created_at=now,
            updated_at=now,
        )
        case.status = Case.Status.SUPPLEMENT
        case.clock = clock.to_dict()
        Case.objects.filter(pk=case.pk).update(
            status=case.status, clock=case.clock, due_date=None, updated_at=now
        )
        wanted = [m["name"] for m in materials] + [f["label"] for f in fields]
        CaseStep.objects.bulk_create(
            [
                _step(
                    case,
                    at=now,
                    kind="supplement_requested",
                    label=(gettext_noop("Supplement requested; the time limit is paused"), {}),
                    actor=actor,
                    department_id=task.department_id,
                    role=task.role,
                    task_id=task.pk,
                    note=note,
                    awaiting=_("The applicant: %(items)s") % {"items": "、".join(wanted)},
                )
            ]
        )
        _audit(
            case,
            actor=actor,
            action="case.supplement_requested",
            details={"materials": [m["code"] for m in materials], "fields": [f["field"] for f in fields]},
        )
        _emit(case, "case.supplement_requested", {"supplement": str(supplement.pk)})
    return supplement


def _supplement_errors(case: Case, materials: list[dict], fields: list[dict]) -> dict:
    errors: dict[str, list[str]] = {}
    if not materials and not fields:
        errors["materials"] = [_("List everything that is missing: at least one material or field.")]
        return errors
    known = {m.code: m for item in _service_items(case.service) for m in item.materials.all()}
    for entry in materials:
        code = entry.get("code", "")
        if code not in known:
            errors.setdefault("materials", []).append(_("Unknown material %(code)s.") % {"code": code})
            continue
        if not (entry.get("reason") or "").strip():
            errors.setdefault("materials", []).append(
                _("Say what is wrong with %(name)s.") % {"name": known[code].name}
            )
        entry["name"] = known[code].name
        entry["item"] = known[code].item.code
    properties = (case.service.form_schema or {}).get("properties", {})
    for entry in fields:
        name = entry.get("field", "")
        if name not in properties:
            errors.setdefault("fields", []).append(_("Unknown form field %(field)s.") % {"field": name})
            continue
        if not (entry.get("reason") or "").strip():
            errors.setdefault("fields", []).append(
                _("Say what is wrong with field %(field)s.") % {"field": name}
            )
        entry["label"] = properties[name].get("title", name)
    return errors


def case_resubmit(
    *,
    user,
    case: Case,
    form_data: dict | None = None,
    files: Mapping | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """The applicant answers the supplement request with everything it listed; the clock runs again."""
    files = dict(files or {})
    now = now or timezone.now()
    _require_applicant(user, case)
    actor = actor_for(user)
    with transaction.atomic():
        workflow.process_lock(case.pk)
        case = _lock_case(case.pk)
        if case.status != Case.Status.SUPPLEMENT:
            raise Conflict(_("No supplement is being asked for on this case."), code="no_supplement")
        supplement = case.supplements.filter(answered_at__isnull=True).order_by("-created_at").first()
        merged = dict(case.form_data)
        merged.update(form_data or {})
        errors: dict[str, list[str]] = {}
        for entry in supplement.materials:
            upload = files.get(entry["code"])
            if upload is None:
                errors.setdefault(f"materials.{entry['code']}", []).append(
                    _("Provide “%(name)s” again: %(reason)s")
                    % {"name": entry["name"], "reason": entry["reason"]}
                )
            else:
                for message in _check_upload(entry["code"], upload):
                    errors.setdefault(f"materials.{entry['code']}", []).append(message)
        for entry in supplement.fields:
            if (form_data or {}).get(entry["field"]) in (None, ""):
                errors.setdefault(entry["field"], []).append(
                    _("Correct this field: %(reason)s") % {"reason": entry["reason"]}
                )
        for field, messages in form_validate(case.service.form_schema or {}, merged).items():
            errors.setdefault(field or "form_data", []).extend(messages)
        if errors:
            raise ValidationError(errors)
        codes = [e["code"] for e in supplement.materials]
        CaseMaterial.objects.filter(case=case, code__in=codes, superseded=False).update(superseded=True)
        needed = [m for item in _service_items(case.service) for m in item.materials.all() if m.code in codes]
        uploaded = _store_materials(case, needed, {c: files[c] for c in codes}, set(), actor_is_clerk=False)
        workflow.process_resume(actor=actor, case_id=case.pk, now=now)
        clock = SLAClock.from_dict(case.clock).resume(now)
        supplement.answered_at = now
        supplement.save(update_fields=["answered_at", "updated_at"])
        case.status = Case.Status.RESUBMITTED
        case.form_data = merged
        case.clock = clock.to_dict()
        case.due_date = clock.due_date()
        case.materials_uploaded += uploaded
        Case.objects.filter(pk=case.pk).update(
            status=case.status,
            form_data=merged,
            clock=case.clock,
            due_date=case.due_date,
            materials_uploaded=case.materials_uploaded,
            updated_at=now,
        )
        CaseStep.objects.bulk_create(
            [
                _step(
                    case,
                    at=now,
                    kind="resubmitted",
                    label=(gettext_noop("Supplement provided; the time limit runs again"), {}),
                    actor=actor,
                    awaiting=_awaiting_text(
                        list(Task.objects.filter(case_id=case.pk, state__in=Task.OPEN_STATES))
                    ),
                )
            ]
        )
        _audit(case, actor=actor, action="case.resubmitted", details={"materials": codes})
        _emit(case, "case.resubmitted")
    return case


def _require_applicant(user, case: Case) -> None:
    """Only the applicant (or whoever submitted on their behalf) acts on their case; a refusal is audited."""
    if case.submitted_by_id == user.pk or _owns(user, case):
        return
    require_permission(user, "portal.apply", owner=case.applicant_organisation or case.applicant_person)
    raise PermissionDenied(
        _("Only the applicant can do this.")
    )  # pragma: no cover - require_permission raised


def _owns(user, case: Case) -> bool:
    if case.applicant_person_id and case.applicant_person.user_id == user.pk:
        return True
    return bool(
        case.applicant_organisation_id and case.applicant_organisation.agents.filter(pk=user.pk).exists()
    )


def case_withdraw(*, user, case: Case, reason: str, now: dt.datetime | None = None) -> Case:
    """The applicant withdraws a case that has not closed; its tasks are cancelled."""
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why you withdraw the application.")]})
    _require_applicant(user, case)
    now = now or timezone.now()
    actor = actor_for(user)
    with transaction.atomic():
        workflow.process_lock(case.pk)
        case = _lock_case(case.pk)
        if case.is_closed:
            raise Conflict(_("The case is already closed."), code="case_closed")
        workflow.process_cancel(actor=actor, case_id=case.pk, reason=reason, now=now)
        steps: list[CaseStep] = []
        _close(
            case,
            status=Case.Status.WITHDRAWN,
            now=now,
            steps=steps,
            actor=actor,
            extra={"withdrawal_reason": reason},
        )
        steps.append(
            _step(
                case,
                at=now,
                kind="withdrawn",
                label=(gettext_noop("Withdrawn by the applicant"), {}),
                actor=actor,
                note=reason,
            )
        )
        CaseStep.objects.bulk_create(steps)
        _audit(case, actor=actor, action="case.withdrawn")
        _emit(case, "case.withdrawn")
    return case


def case_refuse_acceptance(
    *, user, case: Case, reason: str, basis: str, now: dt.datetime | None = None
) -> Case:
    """Refuse to accept a submitted case (不予受理), with the reason and its legal basis."""
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = [_("Give the reason for refusing.")]
    if not (basis or "").strip():
        errors["basis"] = [_("Give the legal basis for refusing.")]
    if errors:
        raise ValidationError(errors)
    require_permission(user, "case.accept")
    now = now or timezone.now()
    actor = actor_for(user)
    with transaction.atomic():
        case = _lock_case(case.pk)
        if case.status != Case.Status.SUBMITTED:
            raise Conflict(_("Only a submitted case can be refused acceptance."), code="case_not_submitted")
        steps: list[CaseStep] = []
        _close(
            case,
            status=Case.Status.REJECTED,
            now=now,
            steps=steps,
            actor=actor,
            extra={"rejection_reason": reason, "rejection_basis": basis},
        )
        steps.append(
            _step(
                case,
                at=now,
                kind="rejected",
                label=(gettext_noop("Not accepted"), {}),
                actor=actor,
                note=f"{reason}\n{basis}",
            )
        )
        CaseStep.objects.bulk_create(steps)
        _audit(
            case, actor=actor, action="case.rejected", details={"basis": basis[:300], "stage": "acceptance"}
        )
        _emit(case, "case.rejected")
    return case


# --- granted without application (免申即享) --------------------------------------------------------------------


def case_grant(
    *,
    actor: Actor,
    service: ServiceItem,
    applicant_person: Person | None = None,
    applicant_organisation: Organisation | None = None,
    form_data: dict | None = None,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Case:
    """A benefit granted without application (免申即享): a completed case made directly for an eligible person.

    The platform found the person eligible from the data it holds (``reason`` says how); the case is accepted and
    completed at once with its result package, so it shows in the person's cases and the department's figures like
    any other. The person may decline it (``case_grant_decline``).
    """
    if applicant_person is None and applicant_organisation is None:
        raise ValidationError({"applicant": [_("Say who is granted the benefit.")]})
    if service.status != PublicationStatus.PUBLISHED:
        raise ValidationError({"service": [_("This service is not open.")]})
    now = now or timezone.now()
    with transaction.atomic():
        case = Case(
            number=_number(now),
            item=service,
            title=service.name_zh,
            applicant_person=applicant_person,
            applicant_organisation=applicant_organisation,
            applicant_name=applicant_organisation.name if applicant_organisation else applicant_person.name,
            submitted_by=None,
            channel=Case.Channel.PROACTIVE,
            jurisdiction_district=_jurisdiction(applicant_person, applicant_organisation, None),
            lead_department=service.department,
            status=Case.Status.ACCEPTED,
            form_data=dict(form_data or {}),
            promised_limit_days=service.promised_limit_days,
            legal_limit_days=service.legal_limit_days,
            submitted_at=now,
            accepted_at=now,
            created_at=now,
            updated_at=now,
        )
        case.save(force_insert=True)
        steps = [
            _step(
                case,
                at=now,
                kind="granted",
                label=(gettext_noop("Granted without application"), {}),
                actor=actor,
                department_id=service.department_id,
                note=reason,
            )
        ]
        _close(case, status=Case.Status.COMPLETED, now=now, steps=steps, actor=actor)
        CaseStep.objects.bulk_create(steps)
        _audit(
            case,
            actor=actor,
            action="case.granted",
            details={"service": service.code, "reason": reason[:300]},
        )
        _emit(case, "case.completed", {"results": [r["item"] for r in case.result], "granted": True})
    return case


def case_grant_decline(*, actor: Actor, case: Case, reason: str = "", now: dt.datetime | None = None) -> Case:
    """The person declines a benefit granted without application: the case is withdrawn, with the reason."""
    now = now or timezone.now()
    with transaction.atomic():
        case = _lock_case(case.pk)
        if case.channel != Case.Channel.PROACTIVE:
            raise Conflict(
                _("Only a benefit granted without application can be declined."), code="not_granted"
            )
        if case.status == Case.Status.WITHDRAWN:
            return case
        Case.objects.filter(pk=case.pk).update(
            status=Case.Status.WITHDRAWN, withdrawal_reason=reason, updated_at=now
        )
        case.status, case.withdrawal_reason = Case.Status.WITHDRAWN, reason
        CaseStep.objects.bulk_create(
            [
                _step(
                    case,
                    at=now,
                    kind="withdrawn",
                    label=(gettext_noop("Declined by the person"), {}),
                    actor=actor,
                    note=reason,
                )
            ]
        )
        _audit(case, actor=actor, action="case.grant_declined", details={"reason": reason[:300]})
        _emit(case, "case.withdrawn", {"granted": True})
    return case
