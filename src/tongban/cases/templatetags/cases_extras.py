"""Template helpers of the case pages: ``{% load cases_extras %}``."""

from django import template
from django.utils.html import format_html_join

register = template.Library()

# Bootstrap badge colours that keep a 4.5:1 contrast with their text.
STATUS_BADGES = {
    "draft": "text-bg-secondary",
    "submitted": "text-bg-info",
    "accepted": "text-bg-primary",
    "in_progress": "text-bg-primary",
    "supplement": "text-bg-warning",
    "resubmitted": "text-bg-info",
    "rejected": "text-bg-danger",
    "withdrawn": "text-bg-secondary",
    "completed": "text-bg-success",
}


@register.filter
def status_badge(status):
    """The badge class of a case status."""
    return STATUS_BADGES.get(status, "text-bg-secondary")


@register.simple_tag
def html_attrs(attrs):
    """Extra attributes of an input (``maxlength``, ``pattern``, ...), escaped."""
    return format_html_join(" ", '{}="{}"', sorted((attrs or {}).items()))
