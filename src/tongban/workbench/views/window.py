"""The window (一窗受理): a clerk at any service centre applies on an applicant's behalf for any service of the
city (全市通办), and accepts or refuses the cases submitted for manual acceptance."""

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.cases import guided
from tongban.cases import services as cases
from tongban.cases.selectors import case_awaiting_acceptance, case_get_for_user
from tongban.core import calendar
from tongban.core.exceptions import Conflict
from tongban.identity.models import Organisation
from tongban.identity.permissions import staff_required
from tongban.identity.selectors import actor_from_request
from tongban.workflow.selectors import open_tasks_for_case

from .. import selectors
from ..services import applicant_lookup_record
from .common import error_dict, receipt_url

KINDS = ("person", "organisation")


def _applicant_context(applicant):
    if applicant is None:
        return {"applicant": None}
    return {
        "applicant": applicant,
        "applicant_token": selectors.applicant_token(applicant),
        "applicant_is_person": not isinstance(applicant, Organisation),
    }


@staff_required(permission="case.accept")
def window_home(request):
    """Step 1: find the applicant by resident ID or credit code; step 2: choose the service.

    The identifier is posted, never put in a URL (addresses end up in logs and browser history); the pages
    that follow carry the applicant's record id instead.
    """
    source = request.POST if request.method == "POST" else request.GET
    kind = source.get("kind") if source.get("kind") in KINDS else "person"
    identifier, applicant, not_found = "", None, False
    if request.method == "POST":
        identifier = (request.POST.get("id") or "").strip()[:18]
        applicant = selectors.applicant_find(request.user, kind=kind, identifier=identifier)
        if applicant is not None:
            applicant_lookup_record(actor=actor_from_request(request), applicant=applicant)
            token = selectors.applicant_token(applicant)
            return redirect(f"{reverse('workbench:window')}?{urlencode({'applicant': token})}")
        not_found = True
    elif request.GET.get("applicant"):
        applicant = selectors.applicant_from_token(request.user, request.GET["applicant"])
    query = (request.GET.get("q") or "").strip()[:100]
    context = {
        "kind": kind,
        "identifier": identifier,
        "not_found": not_found,
        "query": query,
        "services": selectors.window_services(query, applicant=applicant) if applicant else [],
        "awaiting_count": case_awaiting_acceptance(request.user).count(),
        **_applicant_context(applicant),
    }
    return render(request, "workbench/window/home.html", context, status=404 if not_found else 200)


def _form_data(fields, post) -> dict:
    """The answers of a posted form, typed as the schema says; empty answers are left out."""
    data = {}
    for field in fields:
        if field.type == "boolean":
            data[field.name] = post.get(f"form-{field.name}") == "on"
            continue
        raw = (post.get(f"form-{field.name}") or "").strip()
        if raw == "":
            continue
        value = raw
        if field.type in ("integer", "number"):
            try:
                value = int(raw) if field.type == "integer" else float(raw)
            except ValueError:
                value = raw  # the schema check reports the wrong type beside the field
        data[field.name] = value
    return data


@staff_required(permission="case.accept")
def window_apply(request, kind, code):
    """Step 3: the service's form and materials (upload, or checked at the window); submit the case."""
    service = selectors.service_get(kind, code)
    if service is None:
        raise Http404(_("No such service."))
    token = request.POST.get("applicant") or request.GET.get("applicant") or ""
    applicant = selectors.applicant_from_token(request.user, token)
    if applicant is None:
        messages.error(request, _("Find the applicant first."))
        return redirect("workbench:window")
    materials = selectors.service_materials(service)
    errors, values, checked, status = {}, {}, set(), 200
    idempotency_key = uuid.uuid4().hex
    if request.method == "POST":
        idempotency_key = (request.POST.get("idempotency_key") or idempotency_key)[:64]
        values = _form_data(selectors.form_fields(service), request.POST)
        codes = {m.code for m in materials}
        checked = {c for c in request.POST.getlist("window_checked") if c in codes}
        files = {c: request.FILES[f"file-{c}"] for c in codes if f"file-{c}" in request.FILES}
        is_person = not isinstance(applicant, Organisation)
        try:
            case = cases.case_submit(
                actor=actor_from_request(request),
                service=service,
                form_data=values,
                files=files,
                applicant_person=applicant if is_person else None,
                applicant_organisation=None if is_person else applicant,
                channel="window",
                idempotency_key=idempotency_key,
                window_checked=checked,
            )
        except ValidationError as exc:
            errors, status = error_dict(exc), 400
        except Conflict as exc:  # the form's key already made a case from other answers: say which
            errors, status = {"__all__": [str(exc)]}, 409
            idempotency_key = uuid.uuid4().hex  # sending the form again is then a new application
        else:
            return redirect("workbench:window-done", number=case.number)
    prefilled = {}
    if request.method != "POST" and not isinstance(applicant, Organisation):
        # 预填: the looked-up person's records (and phone) fill the form; the clerk checks, never retypes.
        prefilled = guided.guided_prefill(service=service, applicant_person=applicant, answers={})
        values = {name: found.value for name, found in prefilled.items()}
    for material in materials:
        material.errors = errors.get(f"materials.{material.code}", [])
        material.checked = material.code in checked
    field_names = {f.name for f in selectors.form_fields(service)}
    general = [
        message
        for key, messages_ in errors.items()
        if key not in field_names and not key.startswith("materials.")
        for message in messages_
    ]
    sections = selectors.form_sections(service, values, errors)
    for section in sections:
        for form_field in section["fields"]:
            if form_field.name in prefilled:
                form_field.help = guided.prefill_help(prefilled[form_field.name], for_staff=True)
    context = {
        "service": service,
        "service_kind": kind,
        "sections": sections,
        "prefilled_count": len(prefilled),
        "materials": materials,
        "errors": errors,
        "general_errors": general,
        "idempotency_key": idempotency_key,
        **_applicant_context(applicant),
    }
    return render(request, "workbench/window/apply.html", context, status=status)


@staff_required(permission="case.accept")
def window_done(request, number):
    """The case made at the window: its number, where it was accepted and who has jurisdiction, its receipt."""
    case = case_get_for_user(request.user, number)
    if case is None:
        raise Http404(_("No such case."))
    context = {
        "case": case,
        "open_tasks": list(open_tasks_for_case(case.pk)),
        "receipt_url": receipt_url(case.number),
    }
    return render(request, "workbench/window/done.html", context)


def _awaiting_page(request, *, errors=None, failed=None, status=200):
    awaiting = list(case_awaiting_acceptance(request.user)[:200])
    today = calendar.today()
    for case in awaiting:  # the acceptance day (受理期限), and whether it is today or past
        case.acceptance_level = selectors.acceptance_level(case, today)
    context = {
        "cases": awaiting,
        "errors": errors or {},
        "failed": failed,
        "values": request.POST if failed else {},
    }
    return render(request, "workbench/window/awaiting.html", context, status=status)


@staff_required(permission="case.accept")
def window_awaiting(request):
    """Cases submitted for manual acceptance (受理), oldest first, with accept and refuse."""
    return _awaiting_page(request)


def _awaiting_case(request, number):
    case = case_awaiting_acceptance(request.user).filter(number=number).first()
    if case is None:
        raise Http404(_("No such case waiting for acceptance."))
    return case


@require_POST
@staff_required(permission="case.accept")
def window_accept(request, number):
    case = _awaiting_case(request, number)
    try:
        cases.case_accept(actor=actor_from_request(request), case=case)
    except Conflict as exc:
        messages.error(request, str(exc))
        return _awaiting_page(request, status=409)
    messages.success(request, _("Case %(number)s accepted.") % {"number": case.number})
    return redirect("workbench:window-awaiting")


@require_POST
@staff_required(permission="case.accept")
def window_refuse(request, number):
    """Refuse acceptance (不予受理) with the reason and its legal basis."""
    case = _awaiting_case(request, number)
    try:
        cases.case_refuse_acceptance(
            actor=actor_from_request(request),
            case=case,
            reason=request.POST.get("reason", ""),
            basis=request.POST.get("basis", ""),
        )
    except ValidationError as exc:
        return _awaiting_page(request, errors=error_dict(exc), failed=case.number, status=400)
    except Conflict as exc:
        messages.error(request, str(exc))
        return _awaiting_page(request, status=409)
    messages.success(
        request, _("Case %(number)s was not accepted; the applicant is told why.") % {"number": number}
    )
    return redirect("workbench:window-awaiting")
