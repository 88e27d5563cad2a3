"""Portal pages of messaging: my inbox, one message, and my notification settings."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tongban.identity.models import Organisation
from tongban.identity.selectors import actor_from_request, needs_second_factor

from . import selectors, services
from .models import CHANNELS, MANDATORY_INBOX_TOPICS


def _otp_redirect(request):
    if needs_second_factor(request.user) and not request.user.is_verified():
        return redirect(f"{reverse('identity:otp-verify')}?{urlencode({'next': request.get_full_path()})}")
    return None


@login_required
def inbox(request):
    """My inbox (我的消息): mine and my organisations', newest first."""
    if (response := _otp_redirect(request)) is not None:
        return response
    messages = selectors.message_list_for_user(request.user)
    page = Paginator(messages, 20).get_page(request.GET.get("page"))
    # The unread count is the menu's ({% unread_count %}): one COUNT for both.
    return render(request, "messaging/inbox.html", {"page": page})


@login_required
def message_detail(request, message_id):
    """One message; opening it marks it read."""
    if (response := _otp_redirect(request)) is not None:
        return response
    message = selectors.message_get_for_user(request.user, message_id)
    if message is None:
        raise Http404
    services.message_read(actor=actor_from_request(request), message=message)
    return render(request, "messaging/detail.html", {"message": message})


def _english() -> bool:
    return (get_language() or "").startswith("en")


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request):
    """Notification settings (通知设置): topics × channels, for me and each organisation I act for."""
    if (response := _otp_redirect(request)) is not None:
        return response
    owners = selectors.recipients_for_user(request.user)
    if request.method == "POST":
        key = request.POST.get("owner", "person")
        if key == "person":
            owner = next((o for o in owners if not isinstance(o, Organisation)), None)
            organisation = None
        else:
            owner = organisation = next(
                (o for o in owners if isinstance(o, Organisation) and str(o.pk) == key), None
            )
        if owner is None:
            raise Http404
        checked = set(request.POST.getlist("on"))
        # A locked box (the case inbox) is disabled in the form and so never posted: leave it alone.
        values = {
            (topic, channel): f"{topic}:{channel}" in checked
            for (topic, channel) in selectors.preferences_for(owner)
            if not (channel == "inbox" and topic in MANDATORY_INBOX_TOPICS)
        }
        try:
            changed = services.preferences_set_many(
                actor=actor_from_request(request), values=values, organisation=organisation
            )
        except (ValidationError, PermissionDenied) as exc:
            flash.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            flash.success(
                request, _("Your notification settings are saved (%(n)s changed).") % {"n": changed}
            )
        return redirect("messaging:settings")
    tables = [
        {
            "owner": owner,
            "key": "person" if not isinstance(owner, Organisation) else str(owner.pk),
            "rows": selectors.preference_table(owner, english=_english()),
        }
        for owner in owners
    ]
    channels = [
        {"code": code, "label": names[1] if _english() else names[0]} for code, names in CHANNELS.items()
    ]
    return render(request, "messaging/settings.html", {"tables": tables, "channels": channels})
