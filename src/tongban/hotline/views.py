"""Hotline pages: the operator's console (intake in one screen, routing suggested as you type), the dispatchers'
queue, a department's tickets, and the call-backs."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tongban.core import calendar
from tongban.core.exceptions import Conflict
from tongban.core.masking import mask_name, mask_phone
from tongban.identity.models import AdminUnit
from tongban.identity.permissions import has_permission, staff_required
from tongban.identity.reference import MUNICIPAL_DEPARTMENTS
from tongban.identity.selectors import actor_from_request

from . import selectors, services
from .corpus import topic_label
from .models import FaqEntry, Ticket


def _errors(exc: ValidationError) -> dict:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


def _satisfaction(value) -> int:
    """The posted satisfaction as a number; anything else is a field error, not a 500."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        raise ValidationError({"satisfaction": [_("Choose a satisfaction from 1 to 5.")]}) from None


def _districts():
    return AdminUnit.objects.filter(level=AdminUnit.Level.DISTRICT).order_by("code")


@staff_required(permission="ticket.take")
@require_http_methods(["GET", "POST"])
def console(request):
    """Take a request in one screen; the classifier's suggestion and similar open tickets show as you type."""
    errors, posted = {}, {}
    if request.method == "POST":
        posted = request.POST
        try:
            ticket = services.ticket_create(
                actor=actor_from_request(request),
                channel=posted.get("channel", "phone"),
                ticket_type=posted.get("ticket_type", ""),
                urgency=posted.get("urgency", "general"),
                text=posted.get("text", ""),
                district_code=posted.get("district", ""),
                address=posted.get("address", ""),
                contact_name=posted.get("contact_name", ""),
                contact_phone=posted.get("contact_phone", ""),
                answer=posted.get("answer", ""),
                faq=posted.get("faq") or None,
                attachments=request.FILES.getlist("attachments"),
                case_number=posted.get("case_number", ""),
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(
                request,
                _("Ticket %(number)s taken: %(status)s.")
                % {"number": ticket.number, "status": ticket.get_status_display()},
            )
            return redirect("hotline:console")
    context = {
        # Today's rate: a count over every consultation ever would grow with the city's history on each render.
        "first_contact": selectors.first_contact_rate(since=calendar.today()),
        "errors": errors,
        "posted": posted,
        "districts": _districts(),
        "types": Ticket.Type.choices,
        "urgencies": Ticket.Urgency.choices,
        "channels": Ticket.Channel.choices,
    }
    return render(request, "hotline/console.html", context)


@staff_required(permission="ticket.take")
def suggest(request):
    """The htmx partial under the text box: the suggested department with its top three, and similar tickets."""
    text = (request.GET.get("text") or "").strip()[: services.MAX_TEXT]
    prediction = None
    if len(text) >= 4:
        from .routing import classify

        prediction = classify([text])[0]
    names = {d.code: d.name_zh for d in MUNICIPAL_DEPARTMENTS}
    similar = (
        selectors.similar_tickets(
            text=text,
            district_code=request.GET.get("district", "")[:12],
            topic=getattr(prediction, "topic", ""),
            department=prediction.department,
        )
        if prediction
        else []
    )
    # Guides and FAQ entries of the departments the text is about, or none (never an unrelated one).
    knowledge = (
        selectors.knowledge_for(text, departments=selectors.likely_departments(prediction))
        if prediction
        else []
    )
    context = {
        "prediction": prediction,
        "similar": similar,
        "faqs": [k for k in knowledge if k["kind"] == "faq"],
        "guides": [k for k in knowledge if k["kind"] != "faq"],
    }
    if prediction is not None:
        context["topic"] = topic_label(getattr(prediction, "topic", ""))
        context["name"] = names.get(prediction.department, prediction.department)
        context["top3"] = [(names.get(code, code), p) for code, p in (prediction.top3 or [])]
    return render(request, "hotline/_suggest.html", context)


@staff_required(permission="ticket.dispatch")
@require_http_methods(["GET", "POST"])
def dispatch_queue(request):
    if request.method == "POST":
        ticket = Ticket.objects.filter(number=request.POST.get("number", "")).first()
        if ticket is None:
            raise Http404
        try:
            ticket = services.ticket_dispatch(
                actor=actor_from_request(request),
                ticket=ticket,
                department_code=request.POST.get("department", ""),
            )
        except (ValidationError, Conflict) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(
                request,
                _("Ticket %(number)s dispatched to %(department)s.")
                % {"number": ticket.number, "department": ticket.department.name_zh},
            )
        return redirect("hotline:dispatch")
    names = {d.code: d.name_zh for d in MUNICIPAL_DEPARTMENTS}
    tickets = list(selectors.dispatch_queue().select_related("district", "duplicate_of")[:100])
    for ticket in tickets:
        ticket.suggested_name = names.get(ticket.suggested_department, ticket.suggested_department)
        ticket.topic_name = topic_label(ticket.topic)
        # The classifier's three best at intake (tickets taken before they were kept: the suggestion alone).
        ticket.top3 = [
            (code, names.get(code, code), p) for code, p in (ticket.suggested_top3 or []) if code in names
        ]
    return render(
        request, "hotline/dispatch.html", {"tickets": tickets, "departments": MUNICIPAL_DEPARTMENTS}
    )


@staff_required(permission="ticket.handle")
def department_tickets(request):
    return render(
        request, "hotline/tickets.html", {"tickets": selectors.department_tickets(request.user)[:200]}
    )


def _ticket_action(request, ticket, action):
    post, actor = request.POST, actor_from_request(request)
    if action == "accept":
        services.ticket_accept(actor=actor, ticket=ticket)
    elif action == "reply":
        services.ticket_reply(actor=actor, ticket=ticket, reply=post.get("reply", ""))
    elif action == "return":
        services.ticket_return(actor=actor, ticket=ticket, reason=post.get("reason", ""))
    elif action == "callback":
        services.ticket_callback(
            actor=actor,
            ticket=ticket,
            satisfaction=_satisfaction(post.get("satisfaction")),
            note=post.get("note", ""),
        )
    elif action == "reopen":
        services.ticket_reopen(actor=actor, ticket=ticket, reason=post.get("reason", ""))
    elif action == "merge":
        into = selectors.ticket_get_for_user(request.user, post.get("into", "").strip()[:24])
        if into is None:
            raise ValidationError({"into": [_("No such ticket.")]})
        services.ticket_merge(actor=actor, ticket=ticket, into=into)
    elif action == "not_duplicate":
        services.ticket_not_duplicate(actor=actor, ticket=ticket)
    elif action == "supervise":
        services.ticket_supervise(actor=actor, ticket=ticket, note=post.get("note", ""))
    elif action == "extension":
        services.ticket_extension_request(actor=actor, ticket=ticket, reason=post.get("reason", ""))
    elif action in ("extension_approve", "extension_refuse"):
        services.ticket_extension_decide(
            actor=actor, ticket=ticket, approve=action == "extension_approve", note=post.get("note", "")
        )
    else:
        raise ValidationError(_("Unknown action."))


@staff_required
@require_http_methods(["GET", "POST"])
def ticket_detail(request, number):
    ticket = selectors.ticket_get_for_user(request.user, number)
    if ticket is None:
        raise Http404(_("No such ticket."))
    errors = {}
    if request.method == "POST":
        try:
            _ticket_action(request, ticket, request.POST.get("action"))
        except ValidationError as exc:
            errors = _errors(exc)
        except Conflict as exc:
            errors = {"__all__": [str(exc)]}
        else:
            return redirect("hotline:ticket", number=ticket.number)
        ticket.refresh_from_db()
    user = request.user
    candidates = []
    if has_permission(user, "ticket.dispatch") and ticket.status in (
        Ticket.Status.DISPATCHING,
        Ticket.Status.DISPATCHED,
        Ticket.Status.REOPENED,
    ):
        candidates = selectors.duplicate_candidates(
            text=ticket.text,
            district_id=ticket.district_id,
            street_id=ticket.street_id,
            address=ticket.address,
            topic=ticket.topic,
            department=ticket.suggested_department,
            exclude=ticket.pk,
        )
    suggestions = []
    # What the classifier proposed at intake, as the queue shows it.
    if has_permission(user, "ticket.dispatch"):
        names = {d.code: d.name_zh for d in MUNICIPAL_DEPARTMENTS}
        suggestions = [(names[code], p) for code, p in (ticket.suggested_top3 or []) if code in names] or (
            [(names[ticket.suggested_department], ticket.suggestion_confidence)]
            if ticket.suggested_department in names
            else []
        )
    context = {
        "ticket": ticket,
        "suggestions": suggestions,
        "steps": ticket.steps.all(),
        "attachments": ticket.attachments.all(),
        "errors": errors,
        "topic": topic_label(ticket.topic),
        "candidates": candidates,
        "contact_phone": ticket.contact_phone
        if has_permission(user, "ticket.callback")
        else mask_phone(ticket.contact_phone),
        "contact_name": ticket.contact_name
        if has_permission(user, "ticket.callback")
        else mask_name(ticket.contact_name),
        "can_dispatch": has_permission(user, "ticket.dispatch"),
        "can_handle": ticket.department_id is not None
        and has_permission(user, "ticket.handle", department=ticket.department_id),
        "can_supervise": has_permission(user, "supervision.warn"),
        "can_callback": has_permission(user, "ticket.callback"),
    }
    return render(request, "hotline/ticket.html", context)


@staff_required(permission="ticket.callback")
def callbacks(request):
    return render(request, "hotline/callbacks.html", {"tickets": selectors.callbacks_due()[:200]})


# --- the knowledge base (FAQ) ---------------------------------------------------------------------------


@staff_required(permission="faq.edit")
def faq_list(request):
    query = (request.GET.get("q") or "").strip()[:100]
    return render(
        request, "hotline/faq_list.html", {"entries": selectors.faq_list(query=query)[:500], "query": query}
    )


@staff_required(permission="faq.edit")
@require_http_methods(["GET", "POST"])
def faq_edit(request, pk=None):
    entry = None
    if pk is not None:
        entry = FaqEntry.objects.filter(pk=pk).first()
        if entry is None:
            raise Http404
    errors, values = {}, {}
    if request.method == "POST":
        values = request.POST
        try:
            services.faq_save(
                actor=actor_from_request(request),
                entry=entry,
                question=values.get("question", ""),
                answer=values.get("answer", ""),
                question_en=values.get("question_en", ""),
                answer_en=values.get("answer_en", ""),
                keywords=values.get("keywords", ""),
                department=values.get("department", ""),
                service_code=values.get("service_code", ""),
                active=values.get("active") == "on",
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("The FAQ entry is saved."))
            return redirect("hotline:faq")
    elif entry is not None:
        values = {
            "question": entry.question,
            "answer": entry.answer,
            "question_en": entry.question_en,
            "answer_en": entry.answer_en,
            "keywords": entry.keywords,
            "department": entry.department,
            "service_code": entry.service_code,
            "active": "on" if entry.active else "",
        }
    else:
        values = {"active": "on"}
    return render(
        request,
        "hotline/faq_edit.html",
        {"entry": entry, "values": values, "errors": errors, "departments": MUNICIPAL_DEPARTMENTS},
    )


@staff_required
def attachment(request, number, pk):
    """A ticket's attachment, for staff who may see the ticket; each download is audited."""
    from django.http import FileResponse

    from tongban.core.audit import audit_record

    ticket = selectors.ticket_get_for_user(request.user, number)
    found = ticket.attachments.filter(pk=pk).first() if ticket is not None else None
    if found is None:
        raise Http404(_("No such attachment."))
    audit_record(
        actor=actor_from_request(request),
        action="ticket.attachment_read",
        subject_type="ticket",
        subject_id=str(ticket.pk),
        ticket_id=str(ticket.pk),
        details={"number": ticket.number, "attachment": found.pk, "name": found.name},
    )
    response = FileResponse(found.file.open("rb"), content_type=found.content_type)
    response["Content-Disposition"] = f'inline; filename="{found.pk}{found.name[found.name.rfind(".") :]}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
