"""Writes of the cases app (统一受理): submit, accept, work, supplement, refuse, withdraw and complete a case.

``cases`` drives ``workflow``: it starts a case's process on acceptance and turns the outcome of each task
operation into the case's status, clock, timeline and measures. Each service is one transaction: a case is
either fully written (case, materials, first tasks, timeline, audit entry, event) or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import mimetypes
import secrets
from collections.abc import Iterable, Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tongban.catalog.models import Bundle, BundleItem, PublicationStatus, ServiceItem, ServiceObject
from tongban.catalog.services import form_validate, required_materials, service_items
from tongban.core import calendar
from tongban.core.audit import SYSTEM, Actor, audits_collected
from tongban.core.db import fast
from tongban.core.db.deferred import writes_deferred, writes_run
from tongban.core.events import events_collected
from tongban.core.exceptions import Conflict
from tongban.core.models.keys import new_id
from tongban.core.refcache import reference_cached
from tongban.core.sla import SLAClock
from tongban.identity.models import AdminUnit, Department, Organisation, Person
from tongban.identity.permissions import require_permission
from tongban.identity.selectors import actor_for, person_for, staff_for
from tongban.workflow import services as workflow
from tongban.workflow.models import Task

from . import evidence, lifecycle, step_effects
from . import files as files_kept
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


def _awaiting_text(tasks: list[Task]) -> dict:
    """A timeline line's ``awaiting`` fields for ``tasks``: the record "Department·step" of each task (from the
    labels ``workflow`` attaches to the tasks it creates; a task read back from the database names its department
    itself), and its keys (department code, step, step in English) so that the line reads in the visitor's
    language."""
    text = "；".join(f"{getattr(t, 'department_name', '') or t.department.name_zh}·{t.name}" for t in tasks)
    keys = [
        [getattr(t, "department_code", "") or t.department.code, t.name, getattr(t, "name_en", "")]
        for t in tasks
    ]
    return {"awaiting": text, "awaiting_params": keys}


def _step_args(task: Task) -> dict:
    """A timeline label's ``step`` argument: the step's name, with its English name for English pages."""
    return {"step": task.name, "step_en": task.name_en}


def _service_items(service, skip: Iterable[str] = ()) -> list[ServiceItem]:
    """The service's items in order, with materials prefetched; kept on the service object for the call.
    ``skip``: the codes of a bundle's items the case does not take ("not now")."""
    cached = getattr(service, "_case_items", None)
    if cached is None:
        cached = service_items(service)
        service._case_items = cached
    if skip:
        skip = set(skip)
        return [item for item in cached if item.code not in skip]
    return cached


def _skip_check(service, skip_items) -> list[str]:
    """The codes of the bundle's items a case leaves out, checked: a bundle's own items, and not all of them."""
    skip = sorted(set(skip_items or ()))
    if not skip:
        return []
    if not isinstance(service, Bundle):
        raise ValidationError({"skip_items": [_("Only a bundle's items can be left for later.")]})
    codes = [item.code for item in _service_items(service)]
    unknown = [code for code in skip if code not in codes]
    if unknown:
        raise ValidationError(
            {"skip_items": [_("%(codes)s: not an item of this bundle.") % {"codes": ", ".join(unknown)}]}
        )
    if len(skip) >= len(codes):
        raise ValidationError({"skip_items": [_("Choose at least one service to apply for.")]})
    # An item is left out only where the bundle's process names the steps that handle it (``tongban:item``):
    # otherwise its departments would still work it.
    handled = items_skippable(service)
    fixed = [item.name for item in _service_items(service) if item.code in skip and item.code not in handled]
    if fixed:
        raise ValidationError(
            {
                "skip_items": [
                    _("%(names)s cannot be left for later: the bundle's process handles it with the others.")
                    % {"names": "、".join(fixed)}
                ]
            }
        )
    return skip


def items_skippable(service) -> set[str]:
    """The codes of a bundle's items a case may leave for later ("not now"): those whose steps its process names
    (``tongban:item``); none for a single item."""
    if not isinstance(service, Bundle):
        return set()
    definition = workflow.definition_latest(service.process_key or DEFAULT_PROCESS)
    return {task.get("item") for task in (definition.user_tasks if definition else [])} - {None, ""}


def _schema_for(service, skip) -> dict:
    """The form schema a submission is checked against: a bundle case that leaves items out does not have to
    answer the fields only those items require."""
    schema = service.form_schema or {}
    if not skip:
        return schema
    wanted = {
        name
        for item in _service_items(service, skip)
        for name in (item.form_schema or {}).get("required", [])
    }
    return {**schema, "required": [name for name in schema.get("required", []) if name in wanted]}


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
    """The upload's SHA-256, computed once (the fingerprint and the stored row both need it)."""
    known = getattr(upload, "_tongban_sha256", None)
    if known is None:
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        known = upload._tongban_sha256 = digest.hexdigest()
    return known


def _fingerprint(
    *, service, applicant_person, applicant_organisation, form_data, files, window_checked, skip=()
) -> str:
    """SHA-256 of a canonical form of a submission: what an ``Idempotency-Key`` replay must repeat exactly."""
    materials = {code: _sha256(upload) for code, upload in files.items()}
    materials.update({code: "window-checked" for code in window_checked if code not in files})
    canonical = {
        "service": [type(service).__name__, service.code],
        "applicant": [
            str(applicant_person.pk) if applicant_person is not None else None,
            str(applicant_organisation.pk) if applicant_organisation is not None else None,
        ],
        "form_data": form_data,
        "materials": materials,
    }
    if skip:
        canonical["items_skipped"] = sorted(skip)
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _submitted_before(user, idempotency_key: str, fingerprint: str) -> Case | None:
    """The case ``user`` made with this key, marked ``replayed``; a Conflict if it was made from another body."""
    # One hand-written SELECT on the (submitted_by, idempotency_key) constraint's partial index: the planner uses it
    # only when the query states the index's condition word for word (SQLite cannot tell that a bound key is not
    # ''); without it a window clerk's submission read every case the clerk had submitted (a Shanghai day: 86,000).
    case = fast.first(
        Case,
        "t.submitted_by_id = %s AND t.idempotency_key = %s AND NOT (t.idempotency_key = '')",
        [fast.prep(Case, "submitted_by", user.pk), idempotency_key],
    )
    if case is None:
        return None
    if case.idempotency_fingerprint and case.idempotency_fingerprint != fingerprint:
        raise Conflict(
            _(
                "The Idempotency-Key “%(key)s” was already used for a different application (case "
                "%(number)s). Send a new key with each new application, and the same key only to retry the "
                "same one."
            )
            % {"key": idempotency_key, "number": case.number},
            code="idempotency_key_reused",
        )
    case.replayed = True
    return case


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


def _check_names(service, skip=()) -> list[str]:
    """The submission checks a service names: a bundle's own, then its items' (each once)."""
    names = list(service.submission_checks or [])
    if isinstance(service, Bundle):
        for item in _service_items(service, skip):
            names.extend(item.submission_checks or [])
    return list(dict.fromkeys(names))


def _run_checks(
    names, *, form_data, errors, applicant_person, applicant_organisation, department, case_id, number
):
    """The field errors of the named submission checks (``exchange.checks``), which read the registers as the
    service's department for the purpose of checking the application, naming the submission."""
    if not names:
        return {}
    from tongban.exchange.checks import CheckContext, submission_checks_run

    context = CheckContext(
        actor=Actor(kind="system", id="system", label="system", department=department.code),
        department=department,
        purpose=evidence.CHECK_PURPOSE,
        form_data=dict(form_data),
        applicant_person=applicant_person,
        applicant_organisation=applicant_organisation,
        case_id=case_id,
        case_number=number,
    )
    return submission_checks_run(names, context=context, errors=errors)


def _validate_submission(
    service, form_data, files, window_checked, *, data=None, skip=()
) -> tuple[list, dict]:
    """Field errors for the form and the materials together, so the applicant fixes everything at once.

    ``data`` (a dict with the applicant, the case id and number) lets materials that a department holds be
    obtained from the data hub or an e-licence instead of uploaded; what was obtained is ``data["evidence"]``.
    With it, the service's submission checks compare the answers with the registers (the newborn's parents
    with the marriage register, the seller with the real-estate register), once the form's own rules hold.
    """
    errors: dict[str, list[str]] = {}
    if not isinstance(form_data, Mapping):
        raise ValidationError({"form_data": [_("The form must be an object of fields.")]})
    for field, messages in form_validate(_schema_for(service, skip), dict(form_data)).items():
        errors.setdefault(field or "form_data", []).extend(messages)
    if data is not None:
        lookup = data["lookup"]
        checked = _run_checks(
            _check_names(service, skip),
            form_data=form_data,
            errors=errors,
            applicant_person=lookup["applicant_person"],
            applicant_organisation=lookup["applicant_organisation"],
            department=lookup["department"],
            case_id=lookup["case_id"],
            number=lookup["case_number"],
        )
        for field, messages in checked.items():
            errors.setdefault(field, []).extend(messages)
    needed = []
    seen = set()
    for material in required_materials(service, dict(form_data), items=_service_items(service, skip)):
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
    known = {m.code for item in _service_items(service, skip) for m in item.materials.all()}
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
        files_kept.note_stored(row.file.name)  # removed again if the transaction does not commit
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
    fast.insert(rows)
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
    actor: Actor,
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
    skip_items: Iterable[str] = (),
    on_created: Iterable = (),
) -> Case:
    """Submit an application; accept it at once when the service accepts complete online submissions.

    ``skip_items``: the codes of a bundle's items the applicant leaves for later ("not now"): the case takes the
    others only (their fields, materials, steps and results).
    ``on_created``: callables given the new case inside the transaction that writes it (a signature made with the
    submission, ``cases/signing.py``); one that raises leaves no case. A replayed submission does not call them.

    Idempotent: the same ``idempotency_key`` from the same user returns the case made the first time, with
    ``case.replayed`` set (also when two requests race: the constraint on the key lets one in and the other
    returns its case); the same key with a different submission (see ``_fingerprint``) is a Conflict.
    Invalid form fields and missing materials are reported together (ValidationError with field keys
    ``<form field>`` and ``materials.<code>``); nothing is written then.
    """
    user = actor.user
    files = dict(files or {})
    window_checked = set(window_checked or ())
    idempotency_key = (idempotency_key or "").strip()[:64]
    if channel == Case.Channel.ONLINE and applicant_person is None and applicant_organisation is None:
        applicant_person = person_for(user)
    fingerprint = ""
    if idempotency_key:
        fingerprint = _fingerprint(
            service=service,
            applicant_person=applicant_person,
            applicant_organisation=applicant_organisation,
            form_data=form_data,
            files=files,
            window_checked=window_checked,
            skip=sorted(set(skip_items or ())),
        )
        existing = _submitted_before(user, idempotency_key, fingerprint)
        if existing is not None:
            return existing
    _applicant_check(
        user=actor,
        service=service,
        applicant_person=applicant_person,
        applicant_organisation=applicant_organisation,
        channel=channel,
    )
    if channel != Case.Channel.WINDOW and window_checked:
        raise ValidationError({"window_checked": [_("Only a window clerk checks materials at a window.")]})
    _service_check(service, applicant_person, applicant_organisation)
    skip = _skip_check(service, skip_items)
    now = now or timezone.now()
    case_id, number = (
        new_id(),
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
    records: list = []  # the records of the lookups made for this submission (core.db.deferred)
    try:
        # The lookups made for this submission (its checks, the materials the data hub provides) read without the
        # write lock; their records are written with the case (or with the refusal, below).
        with writes_deferred() as records:
            needed, errors = _validate_submission(
                service, form_data, files, window_checked, data=data, skip=skip
            )
        if errors:
            raise ValidationError(errors)
        create = {
            "case_id": case_id,
            "obtained": data["evidence"],
            "definition": workflow.definition_latest(
                service.process_key or DEFAULT_PROCESS
            ),  # before the lock
            "actor": actor,
            "user": user,
            "service": service,
            "form_data": dict(form_data),
            "files": files,
            "needed": needed,
            "window_checked": window_checked,
            "applicant_person": applicant_person,
            "applicant_organisation": applicant_organisation,
            "channel": channel,
            "idempotency_key": idempotency_key,
            "idempotency_fingerprint": fingerprint,
            "jurisdiction_district": jurisdiction_district,
            "now": now,
            "items_skipped": skip,
            "on_created": tuple(on_created or ()),
            "records": records,
        }
        return _case_create_retrying(create, number=number)
    except Exception:
        # No case is written (refused, or valid but not stored): the lookups made for it stay on record without its
        # number, as made for a refused submission.
        from tongban.exchange.services import data_uses_submission_refused

        with transaction.atomic():
            writes_run(records)
            data_uses_submission_refused(actor=SYSTEM, submission_id=case_id)
        raise


def _case_create_retrying(create: dict, *, number: str) -> Case:
    """``_case_create(**create)``, again with a new number when the drawn one is taken (about twice a day at city
    scale); a request that lost a race on its idempotency key gets the winner's case."""
    for attempt in range(3):
        number = number if attempt == 0 else _number(create["now"])
        try:
            # The engine's start of the process, worked out before the write transaction.
            return _case_create(**create, number=number, start=_start_prepare(create, number))
        except IntegrityError:
            if create[
                "idempotency_key"
            ]:  # another request with this key committed first: its case is the answer
                existing = _submitted_before(
                    create["user"], create["idempotency_key"], create["idempotency_fingerprint"]
                )
                if existing is not None:
                    if create["records"]:  # this request's lookups happened, for a submission not stored
                        from tongban.exchange.services import data_uses_submission_refused

                        with transaction.atomic():
                            writes_run(create["records"])
                            data_uses_submission_refused(actor=SYSTEM, submission_id=create["case_id"])
                    return existing
            if attempt == 2:
                raise
            for upload in create["files"].values():
                upload.seek(0)
    raise AssertionError("unreachable")  # pragma: no cover


def _accepted_at_once(service, channel) -> bool:
    return channel == Case.Channel.WINDOW or getattr(service, "acceptance", "automatic") == "automatic"


def _start_prepare(create: dict, number: str):
    """The process start of a case accepted at once (``workflow.process_prepare``), or None."""
    service = create["service"]
    if not _accepted_at_once(service, create["channel"]):
        return None
    district = _jurisdiction(
        create["applicant_person"], create["applicant_organisation"], create["jurisdiction_district"]
    )
    lead = service.lead_department if isinstance(service, Bundle) else service.department
    return workflow.process_prepare(
        case_id=create["case_id"],
        case_number=number,
        case_title=service.name_zh,
        process_key=service.process_key or DEFAULT_PROCESS,
        district_code=district.code if district is not None else None,
        department_code=lead.code,
        data={"needs_approval": bool(create["form_data"].get("needs_approval", False))},
        now=create["now"],
        definition=create["definition"],
        skip_items=create["items_skipped"] or (),
    )


@files_kept.removed_unless_committed()  # outside the transaction: sees it roll back
@transaction.atomic
@events_collected()  # the submission's events in two statements
@audits_collected()  # and its audit entries in two
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
    idempotency_fingerprint="",
    number,
    obtained=(),
    definition=None,
    actor=None,
    items_skipped=(),
    on_created=(),
    records=(),
    start=None,
) -> Case:
    writes_run(records)  # the submission's lookups, recorded with its case
    actor = actor or actor_for(user)
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
        form_data=form_data,
        idempotency_key=idempotency_key,
        idempotency_fingerprint=idempotency_fingerprint,
        promised_limit_days=service.promised_limit_days,
        legal_limit_days=service.legal_limit_days,
        submitted_at=now,
        visits=1 if is_clerk else 0,
        materials_uploaded=sum(1 for code in files if code),
        items_skipped=list(items_skipped),
        created_at=now,
    )
    steps: list[CaseStep] = []
    lifecycle.transition_apply(
        case,
        "submit_window" if is_clerk else "submit_online",
        actor=actor,
        now=now,
        line_fields={
            "department_id": case.accepting_department_id,
            "role": actor.role if is_clerk else "",
            "awaiting": _("Acceptance"),
            "awaiting_params": {"msgid": "Acceptance"},
        },
        audit_details={"channel": channel, "service": service.code},
        event_payload={"service": service.code, "channel": channel},
        pending=steps,
        insert=False,  # accepted at once (usually): the case row is written once, accepted
    )
    if _accepted_at_once(service, channel):
        _accept(
            case,
            actor=actor if is_clerk else SYSTEM,
            now=now,
            steps=steps,
            definition=definition,
            start=start,
        )
    fast.insert([case])
    _store_materials(case, needed, files, window_checked, actor_is_clerk=is_clerk, obtained=obtained)
    fast.insert(steps)
    for keep in on_created:
        keep(case)
    return case


def _process_key(case: Case) -> str:
    return case.service.process_key or DEFAULT_PROCESS


def _accept(
    case: Case,
    *,
    actor: Actor,
    now,
    steps: list,
    definition=None,
    start=None,
    action: str = "accept",
    accepted_at=None,
) -> None:
    """Start the clock and the process of a submitted case (its lines join ``steps``); ``start``: the process's
    start prepared before the transaction (``workflow.process_prepare``). ``accepted_at``: when the acceptance
    counts from, if not ``now`` (a case deemed accepted: from its submission, and its time limit with it)."""
    accepted_at = accepted_at or now
    clock = SLAClock.start(accepted_at, case.promised_limit_days)
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
        skip_items=case.items_skipped or (),
        start=start,
    )
    due = clock.due_date()
    lifecycle.transition_apply(
        case,
        action,
        actor=actor,
        now=now,
        changes={
            "accepted_at": accepted_at,
            "clock": clock.to_dict(),
            "due_date": due,
            "departments_involved": sorted({t.department_code for t in outcome.created}),
        },
        label_args={"date": due.isoformat()},
        line_fields={
            "department_id": case.accepting_department_id or case.lead_department_id,
            **_awaiting_text(outcome.created),
        },
        audit_details={
            "due": due.isoformat(),
            "process": outcome.instance.definition.key,
            "version": outcome.instance.definition.version,
            "tasks": [t.bpmn_id for t in outcome.created],
        },
        event_payload={
            "due": due.isoformat(),
            "accepted_on": calendar.as_local_date(accepted_at).isoformat(),
        },
        pending=steps,
    )


def _waiting_locked(case_id) -> Case | None:
    """The case, locked for its acceptance, with what ``_accept`` reads (its lead department and district)."""
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("lead_department", "jurisdiction_district")
        .filter(pk=case_id)
        .first()
    )


def case_accept(*, actor: Actor, case: Case, now: dt.datetime | None = None) -> Case:
    """Accept a case submitted for manual acceptance (受理): the clock starts and the process begins."""
    require_permission(actor, "case.accept")
    now = now or timezone.now()
    with transaction.atomic():
        case = _waiting_locked(case.pk)
        if case is None:
            raise Case.DoesNotExist("Case matching query does not exist.")
        if case.status != Case.Status.SUBMITTED:
            raise Conflict(_("Only a submitted case can be accepted."), code="case_not_submitted")
        staff = staff_for(actor.user)
        if case.accepting_department_id is None and staff is not None:
            case.accepting_department = staff.department
            Case.objects.filter(pk=case.pk).update(accepting_department=staff.department)
        steps: list[CaseStep] = []
        _accept(case, actor=actor, now=now, steps=steps)
        CaseStep.objects.bulk_create(steps)
    return case


def case_deem_accepted(
    *, actor: Actor, case: Case, today: dt.date | None = None, now: dt.datetime | None = None
):
    """Accept by law a case left waiting past its acceptance period (视为受理): neither accepted nor refused within
    ``ACCEPTANCE_WORKING_DAYS`` working days of its submission, it counts as accepted from the day its materials
    arrived (《行政许可法》第三十二条). Its time limit runs from its submission, its process starts, the timeline
    says why and the applicant is told (``case.accepted`` with the action ``deem_accept``). The system's own act:
    supervision's deadline job calls it, after the acceptance's red card, in the card's transaction.

    Returns the case, or None when there is nothing to do: the case is no longer waiting (accepted, refused or
    withdrawn meanwhile) or its acceptance period has not run out on ``today``."""
    if actor.kind != "system":
        raise PermissionDenied(
            _("Only the platform deems a case accepted, when its acceptance period has run out.")
        )
    today = today or calendar.today()
    now = now or timezone.now()
    with transaction.atomic():
        case = _waiting_locked(case.pk)
        if case is None or case.status != Case.Status.SUBMITTED:
            return None
        due = case.acceptance_due_on
        if due is None or due >= today:
            return None
        steps: list[CaseStep] = []
        _accept(case, actor=actor, now=now, steps=steps, action="deem_accept", accepted_at=case.submitted_at)
        CaseStep.objects.bulk_create(steps)
    return case


# --- working a case ------------------------------------------------------------------------------------------


def _lock_case(case_id, *, lean: bool = False) -> Case:
    """The case, locked for the transaction, with its service and applicant; ``lean``: the applicant only (a step's
    effects and closing need no more, and a service's form schema is the widest JSON the platform stores)."""
    if lean:
        return _lock_case_lean(case_id)
    related = ("applicant_person", "applicant_organisation")
    if not lean:
        related += ("item", "bundle", "lead_department")
    return Case.objects.select_for_update(of=("self",)).select_related(*related).get(pk=case_id)


def _lock_case_lean(case_id, *, lock: bool = True) -> Case:
    """``_lock_case(lean=True)`` in one hand-written SELECT (``core.db.fast``): the case (without its service's
    form schema, which it does not hold) and its applicant, locked on PostgreSQL (SQLite's write transaction holds
    the database); ``lock=False``: read only (before a transaction)."""
    case_cols = fast.columns(Case, "c")
    person_cols = fast.columns(Person, "p")
    organisation_cols = fast.columns(Organisation, "o")
    lock = " FOR UPDATE OF c" if lock and connection.features.has_select_for_update_of else ""
    row = fast.fetchone(
        f"SELECT {case_cols.sql}, {person_cols.sql}, {organisation_cols.sql} FROM cases_case c "  # noqa: S608
        "LEFT OUTER JOIN identity_person p ON p.id = c.applicant_person_id "
        f"LEFT OUTER JOIN identity_organisation o ON o.id = c.applicant_organisation_id WHERE c.id = %s{lock}",
        [fast.prep(Case, "id", case_id)],
    )
    if row is None:
        raise Case.DoesNotExist("Case matching query does not exist.")
    case = fast.build(case_cols, row)
    case.applicant_person = fast.build(person_cols, row, case_cols.count)
    case.applicant_organisation = fast.build(organisation_cols, row, case_cols.count + person_cols.count)
    return case


def _task_for(actor: Actor, task_id, *, with_process=False) -> Task:
    """The task, after checking that ``actor`` may work it (audited refusal otherwise).

    ``with_process`` loads its process instance in the same query, for the engine step of a completion.
    """
    try:
        if with_process:
            task = workflow.task_for_completion(task_id)
        else:
            task = Task.objects.select_related("department").get(pk=task_id)
    except (Task.DoesNotExist, ValidationError, ValueError) as exc:
        raise Task.DoesNotExist(_("No such task.")) from exc
    workflow.require_can_work(actor, task)
    workflow.require_runnable(task)
    return task


def _require_revision(task: Task, revision: int | None) -> None:
    if revision is not None and task.revision != revision:
        raise Conflict(_("Someone else changed this step; reload it."), code="task_changed")


def case_task_claim(
    *, actor: Actor, task_id, revision: int | None = None, now: dt.datetime | None = None
) -> Task:
    """Take a task of one's department in hand; the case is then in progress.

    With ``revision`` (the one the page showed), a task changed since is a ``Conflict``.
    """
    task = _task_for(actor, task_id)
    now = now or timezone.now()
    with transaction.atomic():
        workflow.process_lock(task.case_id)
        task.refresh_from_db(fields=["state", "revision", "assignee", "claimed_at"])
        _require_revision(task, revision)
        workflow.task_claim(actor=actor, task=task, now=now)
        lifecycle.transition_apply(
            task.case_id,
            "claim",
            actor=actor,
            now=now,
            label_args=_step_args(task),
            line_fields={
                "department_id": task.department_id,
                "role": task.role,
                "task_id": task.pk,
                **_awaiting_text([task]),
            },
        )
    return task


def _require_workable(case: Case) -> None:
    if case.status not in Case.WORKABLE_STATUSES:
        raise Conflict(
            _("The case is %(status)s; its steps cannot be worked now.")
            % {"status": case.get_status_display()},
            code="case_not_workable",
        )


def case_task_complete(
    *,
    actor: Actor,
    task_id,
    decision: str,
    opinion: str = "",
    basis: str = "",
    revision: int | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """Complete a task (approve, or refuse with the reason and its legal basis); the case moves on or closes.

    The hot path of the platform: a handful of statements (lock the process, complete the task, create the
    next ones, one conditional update of the case, one timeline line, the audit entry and the events). The
    engine's work and the step's effects are prepared before the write transaction; when what they were prepared
    from changed meanwhile (``EffectsChanged``), the step is done again with its effects run under the lock.
    """
    now = now or timezone.now()
    if decision == Task.Decision.REJECT:
        errors = {}
        if not (opinion or "").strip():
            errors["opinion"] = [_("Give the reason for refusing.")]
        if not (basis or "").strip():
            errors["basis"] = [_("Give the legal basis for refusing.")]
        if errors:
            raise ValidationError(errors)
    arguments = {
        "actor": actor,
        "task_id": task_id,
        "decision": decision,
        "opinion": opinion,
        "basis": basis,
        "revision": revision,
        "now": now,
    }
    try:
        return _task_complete(**arguments, prepare_effects=True)
    except step_effects.EffectsChanged:
        _retries["effects_changed"] += 1
        return _task_complete(**arguments, prepare_effects=False)


# Steps done again whole because what their effects were prepared from changed meanwhile, in this process (the
# benchmarks report them: a retry is a step's work done twice).
_retries = {"effects_changed": 0}


def step_retries() -> int:
    """How many steps this process did again whole after ``EffectsChanged`` (see ``case_task_complete``)."""
    return _retries["effects_changed"]


def _task_complete(
    *, actor: Actor, task_id, decision: str, opinion: str, basis: str, revision, now, prepare_effects: bool
) -> Case:
    task = _task_for(actor, task_id, with_process=True)
    # The engine's work is done before the write transaction, and applied if the process is unchanged by then.
    prepared = workflow.task_prepare(task=task, decision=decision, now=now)
    effects = None  # the step's effects, prepared from the case read without a lock (see step_effects)
    with_effects = decision == Task.Decision.APPROVE and step_effects.step_has_effects(task.bpmn_id)
    if with_effects and prepare_effects:
        effects = step_effects.step_effects_prepare(
            case=_lock_case_lean(task.case_id, lock=False), task=task, actor=actor
        )
    # The events and the audit entries of the process, registries and case: two statements each.
    with transaction.atomic(), events_collected(), audits_collected():
        outcome = workflow.task_complete(
            actor=actor,
            task=task,
            decision=decision,
            opinion=opinion or "",
            revision=revision,
            prepared=prepared,
            now=now,
        )
        step_line = {
            "department_id": task.department_id,
            "role": task.role,
            "task_id": task.pk,
            "note": opinion or "",
            **_awaiting_text(outcome.created),
        }
        case = None  # read once, locked, when the effects or the closing need it
        # With prepared effects, the case they were prepared from must be unchanged (its updated_at): checked by the
        # transition's update, or on the case read under the lock for its closing.
        since = effects.case.updated_at if effects is not None else None
        if effects is not None:
            # The owners' registries change with the department's decision (数据跑腿), in this transaction.
            step_effects.step_effects_run(case=effects.case, task=task, actor=actor, prepared=effects)
        elif with_effects:
            case = _lock_case(task.case_id, lean=True)
            step_effects.step_effects_run(case=case, task=task, actor=actor)
        if decision != Task.Decision.REJECT and not outcome.completed:
            try:
                return lifecycle.transition_apply(
                    task.case_id,
                    "approve_step",
                    actor=actor,
                    now=now,
                    changes={"steps": lifecycle.STEPS_DONE},
                    label_args=_step_args(task),
                    line_fields=step_line,
                    unchanged_since=since,
                    status_read=effects.case.status if effects is not None else None,
                )
            except lifecycle.Unchanged:
                raise step_effects.EffectsChanged(
                    "the case changed since its effects were prepared"
                ) from None
        case = case or _lock_case(task.case_id, lean=True)
        if since is not None and case.updated_at != since:
            raise step_effects.EffectsChanged("the case changed since its effects were prepared")
        _require_workable(case)
        case.steps += 1
        decided = lifecycle.line(
            case.pk,
            at=now,
            kind="task_completed",
            label=(
                gettext_noop("%(step)s: approved")
                if decision == Task.Decision.APPROVE
                else gettext_noop("%(step)s: refused"),
                _step_args(task),
            ),
            actor=actor,
            **step_line,
        )
        if decision == Task.Decision.REJECT:
            changes = _closing(
                case,
                status=Case.Status.REJECTED,
                now=now,
                actor=actor,
                extra={"rejection_reason": opinion, "rejection_basis": basis},
            )
            lifecycle.transition_apply(
                case,
                "refuse",
                actor=actor,
                now=now,
                changes=changes,
                lines_before=[decided],
                line_fields={
                    "department_id": task.department_id,
                    "role": task.role,
                    "note": f"{opinion}\n{basis}",
                },
                audit_details={"basis": basis[:300]},
                event_payload={"reason": opinion[:500], "basis": basis[:500]},
            )
        else:
            changes = _closing(case, status=Case.Status.COMPLETED, now=now, actor=actor)
            lifecycle.transition_apply(
                case,
                "complete",
                actor=actor,
                now=now,
                changes=changes,
                lines_before=[decided],
                line_fields={"department_id": task.department_id},
                audit_details={"working_days": case.working_days},
                event_payload={"results": [r["item"] for r in case.result]},
            )
    return case


def case_task_return(
    *, actor: Actor, task_id, opinion: str, revision: int | None = None, now: dt.datetime | None = None
) -> Case:
    """Send a case back to its previous step with the reason (退回)."""
    task = _task_for(actor, task_id)
    now = now or timezone.now()
    with transaction.atomic():
        workflow.process_lock(task.case_id)
        case = _lock_case(task.case_id)
        _require_workable(case)
        outcome = workflow.task_return(
            actor=actor, task_id=task.pk, opinion=opinion, revision=revision, now=now
        )
        lifecycle.transition_apply(
            case,
            "return_step",
            actor=actor,
            now=now,
            changes={"steps": case.steps + 1},
            label_args=_step_args(task),
            line_fields={
                "department_id": task.department_id,
                "role": task.role,
                "task_id": task.pk,
                "note": opinion,
                **_awaiting_text(outcome.created),
            },
        )
    return case


@reference_cached(Bundle, BundleItem, ServiceItem, Department)
def _result_rows(bundle_id, item_id) -> tuple:
    """What the result package of a service's cases names, per item in order (the catalogue, kept a minute)."""
    fields = ("code", "result_name", "name_zh", "result_type", "result_licence_type", "department__name_zh")
    if bundle_id:
        rows = (
            BundleItem.objects.filter(bundle_id=bundle_id)
            .order_by("position", "pk")
            .values_list(*(f"item__{f}" for f in fields))
        )
    else:
        rows = ServiceItem.objects.filter(pk=item_id).values_list(*fields)
    return tuple(rows)


def _result_package(case: Case, now) -> list[dict]:
    """One result per item of the service, in order (no model instances)."""
    skipped = set(case.items_skipped or ())
    rows = [row for row in _result_rows(case.bundle_id, case.item_id) if row[0] not in skipped]
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
    from tongban.licences.selectors import licence_types_issued_for_case
    from tongban.licences.services import licence_type_get, licences_for_case_results

    issued = licence_types_issued_for_case(case.pk)
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


def _closing(case: Case, *, status: str, now, actor: Actor, extra: dict | None = None) -> dict:
    """The changes that close a case: its clock stopped, its measures, and (when completed) its result package,
    whose e-licences are issued here. Set on ``case`` too; the caller applies them with the transition."""
    clock = SLAClock.from_dict(case.clock).stop(now) if case.clock else None
    submitted_on = calendar.as_local_date(case.submitted_at or now)
    closed_on = calendar.as_local_date(now)
    case.natural_days = (closed_on - submitted_on).days
    case.working_days = max(0, calendar.working_days_between(submitted_on, closed_on))
    case.paused_working_days = clock.paused_working_days(now) if clock else 0
    if case.pk is not None and not case._state.adding:
        involved = [  # the departments of the case's tasks, in one hand-written SELECT
            code
            for (code,) in fast.fetchall(
                "SELECT DISTINCT d.code FROM workflow_task t "
                "INNER JOIN identity_department d ON d.id = t.department_id WHERE t.case_id = %s AND t.state <> %s",
                [fast.prep(Task, "case_id", case.pk), Task.State.CANCELLED.value],
            )
        ]
        case.departments_involved = sorted(set(case.departments_involved) | set(involved))
    if status == Case.Status.COMPLETED:
        case.result = _result_package(case, now)
    changes = {
        "closed_at": now,
        "natural_days": case.natural_days,
        "working_days": case.working_days,
        "paused_working_days": case.paused_working_days,
        "steps": case.steps,
        "departments_involved": case.departments_involved,
        "result": case.result,
    }
    if clock is not None:
        changes["clock"] = clock.to_dict()
    changes.update(extra or {})
    for key, value in changes.items():
        setattr(case, key, value)
    if status == Case.Status.COMPLETED and not case._state.adding:
        _issue_licences(case, actor=actor)
    return changes


# --- supplements (补正) ---------------------------------------------------------------------------------------


def case_supplement_request(
    *,
    actor: Actor,
    task_id,
    materials: list[dict] | None = None,
    fields: list[dict] | None = None,
    note: str = "",
    revision: int | None = None,
    now: dt.datetime | None = None,
) -> SupplementRequest:
    """Ask the applicant, once, for everything missing (materials and form fields, each with a reason).

    The case and its open tasks wait and their clocks stop until the applicant answers. A step asks once: the
    list is complete the first time (一次性告知), so the same step cannot ask again.
    """
    task = _task_for(actor, task_id)
    require_permission(actor, "case.supplement", department=task.department_id)
    now = now or timezone.now()
    materials, fields = list(materials or []), list(fields or [])
    with transaction.atomic():
        workflow.process_lock(task.case_id)
        task.refresh_from_db(fields=["state", "revision"])
        _require_revision(task, revision)
        case = _lock_case(task.case_id)
        _require_workable(case)
        if SupplementRequest.objects.filter(task_id=task.pk).exists():
            raise Conflict(
                _("This step has already asked for a supplement: everything missing is asked at once."),
                code="supplement_already_requested",
            )
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
        wanted = [m["name"] for m in materials] + [f["label"] for f in fields]
        wanted_en = [m.get("name_en") or m["name"] for m in materials]
        wanted_en += [f.get("label_en") or f["label"] for f in fields]
        lifecycle.transition_apply(
            case,
            "request_supplement",
            actor=actor,
            now=now,
            changes={"clock": clock.to_dict(), "due_date": None},
            line_fields={
                "department_id": task.department_id,
                "role": task.role,
                "task_id": task.pk,
                "note": note,
                "awaiting": _("The applicant: %(items)s") % {"items": "、".join(wanted)},
                "awaiting_params": {
                    "msgid": "The applicant: %(items)s",
                    "args": {"items": "、".join(wanted), "items_en": ", ".join(wanted_en)},
                },
            },
            audit_details={
                "materials": [m["code"] for m in materials],
                "fields": [f["field"] for f in fields],
            },
            event_payload={"supplement": str(supplement.pk)},
        )
    return supplement


def _supplement_errors(case: Case, materials: list[dict], fields: list[dict]) -> dict:
    errors: dict[str, list[str]] = {}
    if not materials and not fields:
        errors["materials"] = [_("List everything that is missing: at least one material or field.")]
        return errors
    known = {
        m.code: m for item in _service_items(case.service, case.items_skipped) for m in item.materials.all()
    }
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
        entry["name_en"] = known[code].name_en
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
        entry["label_en"] = properties[name].get("title_en", "")
    return errors


def _resubmit_checks(case: Case, form_data: Mapping) -> dict:
    """The submission checks that read a field the supplement changes, on the merged answers (none when the
    corrected fields are not what the registers are asked about, or do not pass the form's own rules)."""
    if not isinstance(form_data, Mapping) or not form_data or case.status != Case.Status.SUPPLEMENT:
        return {}
    from tongban.exchange.checks import submission_check_get

    service = case.service
    changed = {name for name, value in form_data.items() if case.form_data.get(name) != value}
    names = [
        name
        for name in _check_names(service)
        if submission_check_get(name) is None or changed & set(submission_check_get(name).fields)
    ]
    merged = {**case.form_data, **form_data}
    return _run_checks(
        names,
        form_data=merged,
        errors=form_validate(service.form_schema or {}, merged),
        applicant_person=case.applicant_person,
        applicant_organisation=case.applicant_organisation,
        department=case.lead_department,
        case_id=case.pk,
        number=case.number,
    )


@files_kept.removed_unless_committed()  # a failed resubmission leaves none of its files
def case_resubmit(
    *,
    actor: Actor,
    case: Case,
    form_data: dict | None = None,
    files: Mapping | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """The applicant answers the supplement request with everything it listed; the clock runs again."""
    files = dict(files or {})
    now = now or timezone.now()
    _require_applicant(actor, case)
    # The corrected answers meet the registers again, before the transaction: a refused resubmission must not
    # roll back the record of the lookups it made (they happened, for this case).
    checked = _resubmit_checks(case, form_data or {})
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
        # The answers given now (and those the request lists) must hold; an answer accepted at submission and
        # not touched here is not the applicant's to fix on this page (e.g. a rule added since).
        answered = set(form_data or {}) | {entry["field"] for entry in supplement.fields}
        for field, messages in form_validate(case.service.form_schema or {}, merged).items():
            if field.split(".")[0] in answered or field == "__all__":
                errors.setdefault(field or "form_data", []).extend(messages)
        for field, messages in checked.items():
            if field not in errors:  # a number the form refuses already says why
                errors.setdefault(field, []).extend(messages)
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
        lifecycle.transition_apply(
            case,
            "resubmit",
            actor=actor,
            now=now,
            changes={
                "form_data": merged,
                "clock": clock.to_dict(),
                "due_date": clock.due_date(),
                "materials_uploaded": case.materials_uploaded + uploaded,
            },
            line_fields=_awaiting_text(
                list(
                    Task.objects.filter(case_id=case.pk, state__in=Task.OPEN_STATES).select_related(
                        "department"
                    )
                )
            ),
            audit_details={"materials": codes},
            event_payload={"supplement": str(supplement.pk)},
        )
    return case


def _require_applicant(actor: Actor, case: Case) -> None:
    """Only the applicant (or whoever submitted on their behalf) acts on their case; a refusal is audited."""
    user = actor.user
    if user is not None and (case.submitted_by_id == user.pk or _owns(user, case)):
        return
    require_permission(actor, "portal.apply", owner=case.applicant_organisation or case.applicant_person)
    raise PermissionDenied(
        _("Only the applicant can do this.")
    )  # pragma: no cover - require_permission raised


def _owns(user, case: Case) -> bool:
    if case.applicant_person_id and case.applicant_person.user_id == user.pk:
        return True
    return bool(
        case.applicant_organisation_id and case.applicant_organisation.agents.filter(pk=user.pk).exists()
    )


def case_withdraw(*, actor: Actor, case: Case, reason: str, now: dt.datetime | None = None) -> Case:
    """The applicant withdraws a case that has not closed; its tasks are cancelled."""
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why you withdraw the application.")]})
    _require_applicant(actor, case)
    now = now or timezone.now()
    with transaction.atomic():
        workflow.process_lock(case.pk)
        case = _lock_case(case.pk)
        if case.is_closed:
            raise Conflict(_("The case is already closed."), code="case_closed")
        workflow.process_cancel(actor=actor, case_id=case.pk, reason=reason, now=now)
        changes = _closing(
            case, status=Case.Status.WITHDRAWN, now=now, actor=actor, extra={"withdrawal_reason": reason}
        )
        lifecycle.transition_apply(
            case,
            "withdraw",
            actor=actor,
            now=now,
            changes=changes,
            line_fields={"note": reason},
            event_payload={"reason": reason[:500]},
        )
    return case


def case_refuse_acceptance(
    *, actor: Actor, case: Case, reason: str, basis: str, now: dt.datetime | None = None
) -> Case:
    """Refuse to accept a submitted case (不予受理), with the reason and its legal basis."""
    require_permission(actor, "case.accept")
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = [_("Give the reason for refusing.")]
    if not (basis or "").strip():
        errors["basis"] = [_("Give the legal basis for refusing.")]
    if errors:
        raise ValidationError(errors)
    now = now or timezone.now()
    with transaction.atomic():
        case = _lock_case(case.pk)
        if case.status != Case.Status.SUBMITTED:
            raise Conflict(_("Only a submitted case can be refused acceptance."), code="case_not_submitted")
        changes = _closing(
            case,
            status=Case.Status.REJECTED,
            now=now,
            actor=actor,
            extra={"rejection_reason": reason, "rejection_basis": basis},
        )
        lifecycle.transition_apply(
            case,
            "refuse_acceptance",
            actor=actor,
            now=now,
            changes=changes,
            line_fields={"note": f"{reason}\n{basis}"},
            audit_details={"basis": basis[:300], "stage": "acceptance"},
            event_payload={"reason": reason[:500], "basis": basis[:500], "stage": "acceptance"},
        )
    return case


# --- time-limit cards (raised by supervision, which owns warnings) ---------------------------------------------

_CARD_ORDER = {"": 0, "yellow": 1, "red": 2}


def case_warning_raise(*, actor: Actor, case: Case, level: str, now: dt.datetime | None = None) -> bool:
    """Raise a running case's card to ``yellow`` or ``red`` (never lowered; once each); False if nothing changed.

    Called by supervision's deadline job inside its transaction. The update is conditional on the card the job
    read, so of two jobs at once one raises it; a case that stopped running meanwhile is left alone.
    """
    if _CARD_ORDER[level] <= _CARD_ORDER[case.warning or ""]:
        return False
    now = now or timezone.now()
    try:
        lifecycle.transition_apply(
            case,
            f"warn_{level}",
            actor=actor,
            now=now,
            changes={"warning": level},
            expect={"warning": case.warning},
            line_fields={"department_id": case.lead_department_id},
            audit_details={
                "due": case.due_date.isoformat() if case.due_date else None,
                "department": case.lead_department_id,
            },
            event_payload={"level": level, "department": case.lead_department_id},
        )
    except (Conflict, lifecycle.Unchanged):
        return False
    return True


def case_acceptance_warning_raise(
    *, actor: Actor, case: Case, level: str, current: str = "", now: dt.datetime | None = None
) -> bool:
    """Card a case left waiting for acceptance past its acceptance period (``yellow`` on its last day, ``red`` after
    it): audited, announced (``case.acceptance_warning``; messaging apologises to the applicant for a red one) and,
    for a red one, on the timeline. ``current`` is the acceptance card supervision already recorded; the case's own
    ``warning`` (the handling limit's card) is not touched. False if nothing changed: the level is not above
    ``current``, or the case was accepted, refused or withdrawn meanwhile, or changed since it was read (another
    job carded it first: the update is conditional on the ``updated_at`` the caller read).

    Called by supervision's deadline job inside its transaction."""
    if _CARD_ORDER[level] <= _CARD_ORDER[current or ""]:
        return False
    now = now or timezone.now()
    due = case.acceptance_due_on
    department = case.accepting_department_id or case.lead_department_id
    try:
        lifecycle.transition_apply(
            case,
            f"warn_acceptance_{level}",
            actor=actor,
            now=now,
            unchanged_since=case.updated_at,
            line_fields={"department_id": department},
            audit_details={"due": due.isoformat() if due else None, "department": department},
            event_payload={"level": level, "department": department, "due": due.isoformat() if due else None},
        )
    except (Conflict, lifecycle.Unchanged):
        return False
    return True


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
            form_data=dict(form_data or {}),
            promised_limit_days=service.promised_limit_days,
            legal_limit_days=service.legal_limit_days,
            submitted_at=now,
            accepted_at=now,
            created_at=now,
        )
        changes = _closing(case, status=Case.Status.COMPLETED, now=now, actor=actor)
        lifecycle.transition_apply(
            case,
            "grant",
            actor=actor,
            now=now,
            changes=changes,
            line_fields={"department_id": service.department_id, "note": reason},
            audit_details={"service": service.code, "reason": reason[:300]},
            event_payload={"results": [r["item"] for r in case.result], "granted": True},
        )
        _issue_licences(case, actor=actor)
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
        lifecycle.transition_apply(
            case,
            "decline_grant",
            actor=actor,
            now=now,
            changes={"withdrawal_reason": reason},
            line_fields={"note": reason},
            audit_details={"reason": reason[:300]},
            event_payload={"granted": True, "reason": reason[:500]},
        )
    return case
