"""Hotline pages: the operator's console (intake in one screen, routing suggested as you type), the dispatchers'
queue, a department's tickets, and the call-backs."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tongban.core.exceptions import Conflict
from tongban.identity.models import AdminUnit
from tongban.identity.permissions import staff_required
from tongban.identity.reference import MUNICIPAL_DEPARTMENTS

from . import selectors, services
from .models import Ticket


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
                user=request.user,
                channel=posted.get("channel", "phone"),
                ticket_type=posted.get("ticket_type", ""),
                urgency=posted.get("urgency", "general"),
                text=posted.get("text", ""),
                district_code=posted.get("district", ""),
                address=posted.get("address", ""),
                contact_name=posted.get("contact_name", ""),
                contact_phone=posted.get("contact_phone", ""),
                answer=posted.get("answer", ""),
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
        "first_contact": selectors.first_contact_rate(),
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
            text=text, district_code=request.GET.get("district", ""), department=prediction.department
        )
        if prediction
        else []
    )
    context = {"prediction": prediction, "similar": similar, "guides": selectors.knowledge_for(text)}
    if prediction is not None:
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
            services.ticket_dispatch(
                user=request.user, ticket=ticket, department_code=request.POST.get("department", "")
            )
        except (ValidationError, Conflict) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("Ticket %(number)s dispatched.") % {"number": ticket.number})
        return redirect("hotline:dispatch")
    return render(
        request,
        "hotline/dispatch.html",
        {"tickets": selectors.dispatch_queue()[:100], "departments": MUNICIPAL_DEPARTMENTS},
    )


@staff_required(permission="ticket.handle")
def department_tickets(request):
    return render(
        request, "hotline/tickets.html", {"tickets": selectors.department_tickets(request.user)[:200]}
    )


@staff_required
@require_http_methods(["GET", "POST"])
def ticket_detail(request, number):
    ticket = selectors.ticket_get_for_user(request.user, number)
    if ticket is None:
        raise Http404(_("No such ticket."))
    errors = {}
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "accept":
                services.ticket_accept(user=request.user, ticket=ticket)
            elif action == "reply":
                services.ticket_reply(user=request.user, ticket=ticket, reply=request.POST.get("reply", ""))
            elif action == "return":
                services.ticket_return(
                    user=request.user, ticket=ticket, reason=request.POST.get("reason", "")
                )
            elif action == "callback":
                services.ticket_callback(
                    user=request.user,
                    ticket=ticket,
                    satisfaction=_satisfaction(request.POST.get("satisfaction")),
                    note=request.POST.get("note", ""),
                )
            elif action == "reopen":
                services.ticket_reopen(
                    user=request.user, ticket=ticket, reason=request.POST.get("reason", "")
                )
            else:
                raise ValidationError(_("Unknown action."))
        except ValidationError as exc:
            errors = _errors(exc)
        except Conflict as exc:
            errors = {"__all__": [str(exc)]}
        else:
            return redirect("hotline:ticket", number=ticket.number)
        ticket.refresh_from_db()
    return render(
        request, "hotline/ticket.html", {"ticket": ticket, "steps": ticket.steps.all(), "errors": errors}
    )


@staff_required(permission="ticket.callback")
def callbacks(request):
    return render(request, "hotline/callbacks.html", {"tickets": selectors.callbacks_due()[:200]})
