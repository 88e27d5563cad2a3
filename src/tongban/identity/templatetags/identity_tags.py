from django import template
from django.utils.translation import ngettext

register = template.Library()


@register.filter
def as_minutes(value):
    """A timedelta as "15 minutes" (rounded up)."""
    if not value:
        return ""
    minutes = max(1, -(-int(value.total_seconds()) // 60))
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
