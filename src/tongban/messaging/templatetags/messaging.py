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


# What ends a sentence in a message's text, and how long a last sentence may be to count as the call to open the
# link ("查看进度：", "请在此补正：", "Track it:") rather than content.
_SENTENCE_ENDS = ("。", "！", "？", ". ", "\n")
_CALL_TO_OPEN = 20


@register.filter
def excerpt(text: str, link: str = "") -> str:
    """The inbox's excerpt of a message: its text without its own ``link`` (the subject links to the message, whose
    page has the button). When the link ends the text, the short call to open it before the link goes too, rather
    than leaving "查看进度：" with nothing after it; a trailing colon goes in any case."""
    text = (text or "").strip()
    if link and text.endswith(link):
        head = text[: -len(link)].rstrip()
        end = max((head.rfind(mark) + len(mark) for mark in _SENTENCE_ENDS if mark in head), default=0)
        if end > 0 and len(head) - end <= _CALL_TO_OPEN:
            head = head[:end]
        text = head.rstrip().rstrip("：:").rstrip()
    elif link:
        text = text.replace(link, "")
    return readable_links(text)
