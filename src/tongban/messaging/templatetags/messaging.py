"""``{% load messaging %}{% unread_count as n %}``: the signed-in user's unread inbox messages (0 if none)."""

from django import template

from tongban.messaging.selectors import unread_count_for_user

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_count(context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return unread_count_for_user(user)
