"""Template helpers of the staff pages: ``{% load workbench_tags %}``."""

from django import template

from tongban.core.masking import mask_name, mask_phone, mask_resident_id
from tongban.identity.permissions import has_permission
from tongban.identity.selectors import is_staff_user
from tongban.workflow.selectors import inbox_for

register = template.Library()

_ACCESS = "_workbench_access"


@register.simple_tag(takes_context=True)
def workbench_access(context):
    """Which workbench sections the user may open (for the menu), and how many open tasks wait in the user's
    inbox; computed once a request."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None:
        return {}
    cached = getattr(request, _ACCESS, None)
    if cached is None:
        staff = is_staff_user(user)
        cached = {
            "window": staff and has_permission(user, "case.accept"),
            "tasks": staff and has_permission(user, "task.work"),
            "cases": staff,
            "processes": staff
            and (has_permission(user, "catalog.design") or has_permission(user, "platform.admin")),
            "supervision": staff and has_permission(user, "supervision.view"),
            "indicators": staff and has_permission(user, "evaluation.view"),
            "data_sharing": staff
            and (has_permission(user, "exchange.request") or has_permission(user, "exchange.grant")),
            "registries": staff and _registry_staff(user),
            "hotline": _hotline_access(user) if staff else {},
            "proactive": staff
            and (has_permission(user, "catalog.design") or has_permission(user, "platform.admin")),
            "champions": staff and has_permission(user, "enterprise.analytics"),
        }
        # The count beside "My inbox": one COUNT of the open tasks the inbox page lists.
        cached["inbox_count"] = inbox_for(user).order_by().count() if cached["tasks"] else 0
        setattr(request, _ACCESS, cached)
    return cached


# The hotline's pages in menu order: (key, permission); the menu link opens the first one the user may use.
HOTLINE_PAGES = (
    ("console", "ticket.take"),
    ("dispatch", "ticket.dispatch"),
    ("tickets", "ticket.handle"),
    ("callbacks", "ticket.callback"),
    ("faq", "faq.edit"),
    ("overview", "supervision.view"),
    ("blind-spots", "evaluation.view"),
)


def _hotline_access(user):
    """The hotline pages ``user`` may open (``{"blind_spots": True, ...}``), with ``first``: the URL name of the
    one the menu opens."""
    allowed = [page for page, perm in HOTLINE_PAGES if has_permission(user, perm)]
    if not allowed:
        return {}
    return {**{page.replace("-", "_"): True for page in allowed}, "first": f"hotline:{allowed[0]}"}


def _registry_staff(user):
    from tongban.exchange.registry_services import REGISTRY_OWNERS, is_registry_staff

    return any(is_registry_staff(user, registry) for registry in REGISTRY_OWNERS)


@register.filter
def masked_id(value):
    """A resident ID or credit code as staff see it on screen (脱敏)."""
    return mask_resident_id(value or "")


@register.filter
def masked_name(value):
    return mask_name(value or "")


@register.filter
def masked_phone(value):
    return mask_phone(value or "")


@register.filter
def field_value(value):
    """A form answer as text: yes/no for booleans, lists joined."""
    from django.utils.translation import gettext

    if value is True:
        return gettext("Yes")
    if value is False:
        return gettext("No")
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if value in (None, ""):
        return "—"
    return str(value)
