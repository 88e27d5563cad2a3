"""Portal pages of cases (办件) for citizens and enterprise agents: apply, my cases, a case, its receipt,
answering a supplement request, withdrawing, and the public tracking page behind the receipt's QR code.

Each view parses the request, calls one service or selector, and renders; the rules live in ``services``.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlencode

from axes.helpers import get_client_ip_address
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tongban.catalog import selectors as catalog_selectors
from tongban.catalog.models import Bundle, ServiceObject
from tongban.core.exceptions import Conflict, DomainError
from tongban.identity.selectors import (
    actor_from_request,
    department_get,
    needs_second_factor,
    organisations_for,
    person_for,
    role_list,
)

from . import guided, selectors, services, signing
from .forms import (
    MATERIAL_PREFIX,
    NON_FIELD,
    MaterialInput,
    files_from_request,
    form_data_from_post,
    form_sections,
    material_inputs,
)
from .models import Case, CaseStep, awaiting_render, material_name
from .prefill import organisation_prefill
from .receipts import case_for_tracking, receipt_pdf, tracking_path

PAGE_SIZE = 20


# --- helpers ---------------------------------------------------------------------------------------------


def _error_dict(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {key: [str(m) for m in messages_] for key, messages_ in exc.message_dict.items()}
    return {NON_FIELD: [str(m) for m in exc.messages]}


def _error_summary(errors: dict, sections, materials, extra_targets: dict | None = None) -> list[dict]:
    """Every message once, linked to its input when the page has one (an error summary at the top)."""
    targets = {f.name: (f.id, f.label) for s in sections for f in s.fields}
    targets.update({m.input_name: (m.id, m.name) for m in materials})
    targets.update(extra_targets or {})
    summary = []
    for key, found in errors.items():
        anchor, label = targets.get(key, ("", ""))
        for message in found:
            summary.append({"anchor": anchor, "label": label, "message": message})
    return summary


def _service_or_404(kind: str, code: str):
    service = catalog_selectors.item_get(code) if kind == "item" else catalog_selectors.bundle_get(code)
    if service is None:
        raise Http404(_("No such service is open for applications."))
    return service


def _service_materials(service) -> list:
    if isinstance(service, Bundle):
        return catalog_selectors.bundle_materials_list(service)
    return list(service.materials.all())


def _applicant_options(user, service) -> list[dict]:
    """Whom the user may apply for: themselves (a citizen) and/or the organisations they act for."""
    options = []
    person = person_for(user)
    if person is not None and service.service_object != ServiceObject.ORGANISATION:
        options.append({"value": "person", "label": person.name, "person": person, "organisation": None})
    if service.service_object != ServiceObject.PERSON:
        for organisation in organisations_for(user):
            options.append(
                {
                    "value": f"organisation:{organisation.pk}",
                    "label": organisation.name,
                    "person": None,
                    "organisation": organisation,
                }
            )
    return options


def _otp_redirect(request):
    query = urlencode({"next": request.get_full_path()})
    return redirect(f"{reverse('identity:otp-verify')}?{query}")


def _visible_case(request, number: str) -> tuple[Case, bool]:
    """The case if the user may see it (else 404), and whether the user is its applicant."""
    case = selectors.case_get_for_user(request.user, number)
    if case is None:
        raise Http404(_("No such case."))
    return case, selectors.case_is_applicant(request.user, case)


def _staff_unverified(request) -> bool:
    """Staff see cases only after giving their second factor, as on staff pages (citizens need none)."""
    return needs_second_factor(request.user) and not request.user.is_verified()


def _applicant_case(request, number: str) -> Case:
    case, is_applicant = _visible_case(request, number)
    if not is_applicant:
        raise Http404(_("No such case."))
    return case


def _timeline(case: Case, *, with_roles: bool = True) -> list[dict]:
    roles = {role.code: role for role in role_list()} if with_roles else {}
    rows = []
    for step in selectors.case_timeline(case):
        rows.append(
            {
                "at": step.at,
                "kind": step.kind,
                "label": step.display_label,
                "department": step.department,
                "roles": [roles[c] for c in step.role.split(",") if c in roles] if with_roles else [],
                "awaiting": step.display_awaiting,
            }
        )
    return rows


def _results(case: Case) -> list[dict]:
    """The result package, each result with the e-licence issued for it (if any) to download and verify."""
    from tongban.licences.selectors import licences_for_case

    issued = {licence.type.code: licence for licence in licences_for_case(case.pk)}
    return [
        {
            **result,
            "issued": parse_datetime(result.get("issued_at") or ""),
            "licence": issued.get(result.get("licence_type") or ""),
        }
        for result in case.result or []
    ]


def _departments(codes) -> list:
    found = [department_get(code) for code in codes or []]
    return [department for department in found if department is not None]


def _supplement_form(case: Case, supplement, *, raw=None, errors=None):
    """The inputs answering a supplement request: the listed fields (current answers) and materials."""
    errors = errors or {}
    listed = [entry["field"] for entry in supplement.fields]
    sections = form_sections(
        case.service.form_schema,
        case.service.form_ui,
        raw=raw,
        data=case.form_data,
        errors=errors,
        only=listed,
    )
    reasons = {entry["field"]: entry.get("reason", "") for entry in supplement.fields}
    for section in sections:
        for form_field in section.fields:
            form_field.required = True
            form_field.help = _("What to correct: %(reason)s") % {"reason": reasons.get(form_field.name, "")}
    materials = [
        MaterialInput(
            code=entry["code"],
            name=material_name(entry.get("item", ""), entry["code"], entry.get("name", entry["code"])),
            necessity="required",
            reason=entry.get("reason", ""),
            errors=list(errors.get(MATERIAL_PREFIX + entry["code"], [])),
        )
        for entry in supplement.materials
    ]
    return sections, materials


# --- applying --------------------------------------------------------------------------------------------


def _query(answers: dict, **extra) -> str:
    return urlencode({**answers, **extra})


@login_required
def guide(request, kind: str, code: str):
    """好办: one plain question per screen (GET steps, no JavaScript), then the applicant's personal guide."""
    service = _service_or_404(kind, code)
    catalogue = _service_materials(service)
    result = guided.guide_for(service, request.GET, materials=catalogue)
    base = reverse(f"cases:guide_{kind}", args=[code])
    apply_url = reverse(f"cases:apply_{kind}", args=[code])
    answered = []
    for position, question in enumerate(result.questions):
        if question.key in result.answers:
            earlier = {
                q.key: result.answers[q.key] for q in result.questions[:position] if q.key in result.answers
            }
            answered.append(
                {
                    "question": question,
                    "answer": dict(question.choices)[result.answers[question.key]],
                    "change_url": f"{base}?{_query(earlier)}",
                }
            )
    question = result.next_question
    context = {
        "service": service,
        "kind": kind,
        "guide": result,
        "question": question,
        "step": len(result.answers) + 1,
        "steps": len(result.questions),
        "answered": answered,
        "carried": [(q.key, result.answers[q.key]) for q in result.questions if q.key in result.answers],
        "back_url": f"{base}?{_query(dict(list(result.answers.items())[:-1]))}" if result.answers else "",
        "form_url": f"{apply_url}?{_query(result.answers, guided='1')}",
        "sources": [(m, guided.material_source(m)) for m in result.obtained],
        "base": base,
    }
    return render(request, "cases/guide.html", context)


def _signature_keeper(request, actor, organisation) -> list:
    """法人一证通: a form the browser signed (``cases/signing.py``) is checked before its case is written; the
    returned keeper records the signature in the case's transaction. Unsigned forms: nothing to keep."""
    signature = (request.POST.get(signing.SIGNATURE_FIELD) or "").strip()
    registered = signing.signer()
    if not signature or registered is None:
        return []
    keeper = registered.prepare(
        actor=actor,
        organisation=organisation,
        payload=signing.form_canonical(request.POST, request.FILES),
        serial=request.POST.get(signing.SERIAL_FIELD) or "",
        signature=signature,
        address=get_client_ip_address(request) or "",
    )
    return [keeper]


@login_required
@require_http_methods(["GET", "POST"])
def apply(request, kind: str, code: str):
    """The application form of a service item or bundle; a valid submission becomes a case.

    After the guided questions (``guided=1`` and the answers in the query string or as hidden inputs), the form
    leaves out what the answers settle, is prefilled accordingly, and lists only the materials that apply.
    """
    service = _service_or_404(kind, code)
    options = _applicant_options(request.user, service)
    if not options:
        return render(request, "cases/apply_unavailable.html", {"service": service}, status=403)
    catalogue = _service_materials(service)
    source = request.POST if request.method == "POST" else request.GET
    is_guided = source.get("guided") == "1"
    questions = guided.questions_for(service, catalogue)
    answers = guided.answers_from(source, questions) if is_guided else {}
    settled = guided.form_data_from_answers(service, answers)
    hidden_fields = guided.answered_fields(service, answers)
    errors: dict[str, list[str]] = {}
    raw: dict = {}
    chosen = options[0]["value"]
    key = uuid.uuid4().hex
    if request.method == "POST":
        key = (request.POST.get("idempotency_key") or "").strip()[:64] or key
        chosen = request.POST.get("applicant") or chosen
        option = next((o for o in options if o["value"] == chosen), None)
        form_data, raw = form_data_from_post(service.form_schema, request.POST)
        for name in hidden_fields:  # settled by the answers, not by inputs
            form_data.pop(name, None)
            raw.pop(name, None)
        form_data.update(settled)
        files = files_from_request(request.FILES, [m.code for m in catalogue])
        if option is None:
            errors = {"applicant": [_("Choose who applies.")]}
        else:
            try:
                actor = actor_from_request(request)
                case = services.case_submit(
                    actor=actor,
                    service=service,
                    form_data=form_data,
                    files=files,
                    applicant_person=option["person"],
                    applicant_organisation=option["organisation"],
                    idempotency_key=key,
                    on_created=_signature_keeper(request, actor, option["organisation"]),
                )
            except ValidationError as exc:
                errors = _error_dict(exc)
            except (
                DomainError
            ) as exc:  # e.g. a process that cannot start now: said on the form, nothing written
                errors = {"__all__": [str(exc)]}
            else:
                messages.success(
                    request,
                    format_html(
                        '{} <a href="{}">{}</a>',
                        _("Your application was submitted. Case number: %(number)s.")
                        % {"number": case.number},
                        reverse("cases:receipt", args=[case.number]),
                        _("Download the acceptance receipt (PDF)"),
                    ),
                )
                return redirect(case.get_absolute_url())
    prefilled = {}
    if request.method != "POST":  # 预填: what the data hub may provide, marked with its source
        chosen = next((o["value"] for o in options if o["value"] == request.GET.get("applicant")), chosen)
        option = next(o for o in options if o["value"] == chosen)
        prefilled = guided.guided_prefill(service=service, applicant_person=option["person"], answers=answers)
        if option["organisation"] is not None:  # for an enterprise: the business register, the agent's phone
            prefilled = {
                **organisation_prefill(
                    service=service,
                    organisation=option["organisation"],
                    agent_person=person_for(request.user),
                ),
                **prefilled,
            }
    sections = form_sections(
        service.form_schema,
        service.form_ui,
        raw=raw,
        data={name: p.value for name, p in prefilled.items()},
        errors=errors,
    )
    for section in sections:
        section.fields = [f for f in section.fields if f.name not in hidden_fields or f.errors]
        for form_field in section.fields:
            if form_field.name in prefilled:
                form_field.help = guided.prefill_help(prefilled[form_field.name])
    sections = [s for s in sections if s.fields]
    personal = guided.guide_for(service, answers, prefilled=prefilled, materials=catalogue)
    if is_guided:
        wanted = {m.code for m in personal.uploads + personal.optional + personal.obtained}
        catalogue = [m for m in catalogue if m.code in wanted]
    materials = material_inputs(catalogue, errors=errors)
    # Materials the platform obtains itself are listed as obtained, never as uploads (unless obtaining failed).
    obtained = [m for m in materials if m.from_data and not m.errors]
    uploads = [m for m in materials if not (m.from_data and not m.errors)]
    by_code = {m.code: m for m in catalogue}
    summary = _error_summary(
        errors,
        sections,
        materials,
        {
            **({"applicant": ("applicant", _("Who applies"))} if len(options) > 1 else {}),
            "signature": ("tb-signing", _("Enterprise certificate signature")),
        },
    )
    # 法人一证通: the certificates the agent may sign each organisation's application with (the browser signs the
    # form with the matching key it keeps, cases/signing.py).
    signing_by_option = {
        o["value"]: signing.signing_certificates(request.user, o["organisation"])
        for o in options
        if o["organisation"] is not None
    }
    signing_by_option = {value: certs for value, certs in signing_by_option.items() if certs}
    typed = sum(1 for s in sections for f in s.fields if f.name not in prefilled)
    context = {
        "service": service,
        "kind": kind,
        "sections": sections,
        "materials": uploads,
        "obtained": [(m, guided.material_source(by_code[m.code], prefilled)) for m in obtained],
        "options": options,
        "chosen": chosen,
        "idempotency_key": key,
        "errors": errors,
        "summary": summary,
        "submitted": request.method == "POST",
        "is_guided": is_guided,
        "questions": questions,
        "carried": [(q.key, answers[q.key]) for q in questions if q.key in answers],
        "answered": [(q, dict(q.choices)[answers[q.key]]) for q in questions if q.key in answers],
        "guide_url": reverse(f"cases:guide_{kind}", args=[service.code]),
        "prefilled_count": sum(1 for s in sections for f in s.fields if f.name in prefilled),
        "typed_count": typed,
        "signing_by_option": signing_by_option,
    }
    return render(request, "cases/apply.html", context)


# --- the applicant's cases -------------------------------------------------------------------------------


@login_required
def case_list(request):
    """My cases: the cases the user applied for or acts for, newest first."""
    if _staff_unverified(request):
        return _otp_redirect(request)
    latest = CaseStep.objects.filter(case=OuterRef("pk")).order_by("-at", "-id")
    cases = selectors.case_list_for_applicant(request.user).annotate(
        awaiting_stored=Subquery(latest.values("awaiting")[:1]),
        awaiting_params=Subquery(latest.values("params")[:1]),
    )
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    for case in page:  # what the latest line awaits, in the page's language
        params = case.awaiting_params
        if isinstance(
            params, str
        ):  # a JSON column read through a subquery comes back as text on some databases
            params = json.loads(params or "{}")
        case.awaiting_now = awaiting_render((params or {}).get("awaiting"), case.awaiting_stored or "")
    return render(request, "cases/list.html", {"page": page})


@login_required
def case_detail(request, number: str):
    """A case: status, due date, timeline, materials, supplement request, result package and measures."""
    if _staff_unverified(request):
        return _otp_redirect(request)
    case, is_applicant = _visible_case(request, number)
    timeline = _timeline(case)
    supplement = selectors.case_open_supplement(case) if case.status == Case.Status.SUPPLEMENT else None
    supplement_sections, supplement_materials = (
        _supplement_form(case, supplement) if supplement and is_applicant else ([], [])
    )
    context = {
        "case": case,
        "service_name": case.service.name,
        "is_applicant": is_applicant,
        "timeline": timeline,
        "awaiting": next((row["awaiting"] for row in reversed(timeline) if row["awaiting"]), ""),
        # Accepted by law, not by a unit (视为受理): the accepting unit says so instead of "online".
        "deemed_accepted": selectors.case_deemed_accepted(case, {row["kind"] for row in timeline}),
        "materials": selectors.case_materials(case),
        "supplement": supplement,
        "supplement_sections": supplement_sections,
        "supplement_materials": supplement_materials,
        "results": _results(case) if case.status == Case.Status.COMPLETED else [],
        "departments": _departments(case.departments_involved),
        "can_withdraw": is_applicant and not case.is_closed,
        "can_rate": is_applicant and case.status == Case.Status.COMPLETED,
        "rate_url": f"/ratings/case/{case.number}/",
        "tracking_url": request.build_absolute_uri(tracking_path(case)),
    }
    return render(request, "cases/detail.html", context)


@login_required
def case_receipt(request, number: str):
    """The acceptance receipt (受理回执) as PDF, for the applicant and staff who may see the case."""
    if _staff_unverified(request):
        return _otp_redirect(request)
    case, _is_applicant = _visible_case(request, number)
    pdf = receipt_pdf(case, tracking_url=request.build_absolute_uri(tracking_path(case)))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{case.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def case_supplement(request, number: str):
    """Answer a supplement request (补正): upload the listed materials and correct the listed fields."""
    if _staff_unverified(request):
        return _otp_redirect(request)
    case = _applicant_case(request, number)
    supplement = selectors.case_open_supplement(case) if case.status == Case.Status.SUPPLEMENT else None
    if supplement is None:
        messages.info(request, _("No supplement is being asked for on this case."))
        return redirect(case.get_absolute_url())
    errors: dict[str, list[str]] = {}
    raw: dict = {}
    if request.method == "POST":
        listed = [entry["field"] for entry in supplement.fields]
        form_data, raw = form_data_from_post(case.service.form_schema, request.POST, only=listed)
        files = files_from_request(request.FILES, [entry["code"] for entry in supplement.materials])
        try:
            services.case_resubmit(
                actor=actor_from_request(request), case=case, form_data=form_data, files=files
            )
        except ValidationError as exc:
            errors = _error_dict(exc)
        except Conflict as exc:
            messages.error(request, str(exc))
            return redirect(case.get_absolute_url())
        else:
            messages.success(request, _("Thank you: the supplement was sent and the time limit runs again."))
            return redirect(case.get_absolute_url())
    sections, materials = _supplement_form(case, supplement, raw=raw, errors=errors)
    context = {
        "case": case,
        "service_name": case.service.name,
        "supplement": supplement,
        "supplement_sections": sections,
        "supplement_materials": materials,
        "summary": _error_summary(errors, sections, materials),
    }
    return render(request, "cases/supplement.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def case_withdraw(request, number: str):
    """Withdraw an application that has not closed, with the reason (asks for confirmation first)."""
    if _staff_unverified(request):
        return _otp_redirect(request)
    case = _applicant_case(request, number)
    if case.is_closed:
        messages.info(request, _("The case is already closed."))
        return redirect(case.get_absolute_url())
    errors: dict[str, list[str]] = {}
    reason = ""
    if request.method == "POST":
        reason = (request.POST.get("reason") or "").replace("\x00", "").strip()[:1000]
        try:
            services.case_withdraw(actor=actor_from_request(request), case=case, reason=reason)
        except ValidationError as exc:
            errors = _error_dict(exc)
        except Conflict as exc:
            messages.error(request, str(exc))
            return redirect(case.get_absolute_url())
        else:
            messages.success(request, _("Your application was withdrawn."))
            return redirect(case.get_absolute_url())
    context = {
        "case": case,
        "service_name": case.service.name,
        "reason": reason,
        "reason_errors": [m for key in ("reason", NON_FIELD) for m in errors.get(key, [])],
    }
    return render(request, "cases/withdraw.html", context)


# --- public tracking -------------------------------------------------------------------------------------


def case_track(request, number: str, token: str):
    """Progress of a case for whoever holds its receipt: status and steps, nothing personal."""
    case = case_for_tracking(number, token)
    if case is None:
        raise Http404(_("No such case."))
    steps = [
        {"at": row["at"], "label": row["label"], "department": row["department"]}
        for row in _timeline(case, with_roles=False)
    ]
    response = render(
        request,
        "cases/track.html",
        {"case": case, "service_name": case.service.name, "timeline": steps},
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
