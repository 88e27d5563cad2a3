"""The hotline in the citizens' portal (the web channel): send a request, follow my tickets, reopen one I am not
satisfied with. A resident sees only the tickets they sent; staff use the workbench."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tongban.core.exceptions import Conflict
from tongban.identity.models import AdminUnit
from tongban.identity.permissions import require_permission, second_factor_required
from tongban.identity.selectors import actor_from_request, person_for

from . import selectors, services
from .models import Ticket

# What a resident may send on the web: not "report" (a matter for the police or the department's own line).
WEB_TYPES = (Ticket.Type.CONSULT, Ticket.Type.COMPLAINT, Ticket.Type.SUGGESTION, Ticket.Type.HELP)


def _resident(request):
    require_permission(request.user, "portal.apply", request=request)
    person = person_for(request.user)
    if person is None:
        raise PermissionDenied(_("Only a resident's account can send a request."))
    return person


@login_required
@second_factor_required
def my_tickets(request):
    _resident(request)
    return render(
        request, "hotline/portal_list.html", {"tickets": selectors.tickets_of_citizen(request.user)[:100]}
    )


@login_required
@second_factor_required
@require_http_methods(["GET", "POST"])
def ticket_new(request):
    person = _resident(request)
    errors, posted = {}, {}
    if request.method == "POST":
        posted = request.POST
        kind = posted.get("ticket_type", "")
        try:
            if kind not in WEB_TYPES:
                raise ValidationError({"ticket_type": [_("Choose what kind of request it is.")]})
            ticket = services.ticket_create(
                actor=actor_from_request(request),
                channel=Ticket.Channel.WEB,
                ticket_type=kind,
                text=posted.get("text", ""),
                district_code=posted.get("district", "")[:12],
                address=posted.get("address", ""),
                caller=person,
                contact_name=person.name,
                contact_phone=person.phone or "",
                attachments=request.FILES.getlist("attachments"),
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        else:
            messages.success(
                request,
                _("Your request %(number)s is received. We will reply to you.") % {"number": ticket.number},
            )
            return redirect("hotline-portal:ticket", number=ticket.number)
    context = {
        "errors": errors,
        "posted": posted,
        "types": [(value, label) for value, label in Ticket.Type.choices if value in WEB_TYPES],
        "districts": AdminUnit.objects.filter(level=AdminUnit.Level.DISTRICT).order_by("code"),
    }
    return render(request, "hotline/portal_new.html", context)


@login_required
@second_factor_required
@require_http_methods(["GET", "POST"])
def my_ticket(request, number):
    _resident(request)
    ticket = selectors.tickets_of_citizen(request.user).filter(number=number).first()
    if ticket is None:
        raise Http404(_("No such ticket."))
    errors = {}
    if request.method == "POST":
        try:
            services.ticket_reopen(
                actor=actor_from_request(request), ticket=ticket, reason=request.POST.get("reason", "")
            )
        except ValidationError as exc:
            errors = exc.message_dict
        except Conflict as exc:
            errors = {"__all__": [str(exc)]}
        else:
            messages.success(request, _("Your request is reopened and goes back to the department."))
            return redirect("hotline-portal:ticket", number=ticket.number)
        ticket.refresh_from_db()
    steps = ticket.steps.filter(kind__in=PUBLIC_STEPS)
    return render(request, "hotline/portal_ticket.html", {"ticket": ticket, "steps": steps, "errors": errors})


# The steps a caller sees of their ticket (not who handled it inside, nor the dispatchers' notes).
PUBLIC_STEPS = ("taken", "dispatched", "accepted", "replied", "called_back", "reopened", "merged")
