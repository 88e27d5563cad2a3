"""``{% load messaging %}{% unread_count as n %}``: the signed-in user's unread inbox messages (0 if none),
counted once a request."""

import re
from urllib.parse import unquote

from django import template

from tongban.messaging.selectors import unread_count_for_user

register = template.Library()

_UNREAD = "_messaging_unread_count"


@register.simple_tag(takes_context=True)
def unread_count(context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    # Cached on the request: the menu and the page may both ask, and it is one COUNT either way.
    cached = getattr(request, _UNREAD, None) if request is not None else None
    if cached is None or cached[0] != user.pk:
        cached = (user.pk, unread_count_for_user(user))
        if request is not None:
            setattr(request, _UNREAD, cached)
    return cached[1]


_ENCODED_LINK = re.compile(r"(?:https?://|/)[^\s，。；]*%[0-9A-Fa-f]{2}[^\s，。；]*")


@register.filter
def readable_links(text: str) -> str:
    """A message's text with its links readable (``/services/?q=社保``, not ``?q=%E7%A4%BE%E4%BF%9D``); the link
    itself is the message's "Open" button."""
    return _ENCODED_LINK.sub(lambda match: unquote(match.group(0)), text or "")
