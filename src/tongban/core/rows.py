"""Dates and times of list rows as DRF's fields give them, without DRF's per-field machinery.

The lists (cases, inboxes, supervision) make their rows directly from a page's values; each row has two to four
dates. DRF's ``DateTimeField.to_representation`` looks up its format and time zone for every value; these
formatters look them up once per page and give the same text (tests hold the rows equal to the serializers').
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings


def datetime_text():
    """A function giving ``serializers.DateTimeField().to_representation(value)`` for the current time zone."""
    field = serializers.DateTimeField()
    output = api_settings.DATETIME_FORMAT
    if not settings.USE_TZ or output is None or output.lower() != ISO_8601:
        return field.to_representation
    zone = timezone.get_current_timezone()

    def text(value):
        if not value:
            return None
        if isinstance(value, str) or value.utcoffset() is None:
            return field.to_representation(value)  # a naive value: DRF's own rule
        out = value.astimezone(zone).isoformat()
        return out[:-6] + "Z" if out.endswith("+00:00") else out

    return text


def date_text():
    """A function giving ``serializers.DateField().to_representation(value)``."""
    output = api_settings.DATE_FORMAT
    if output is None or output.lower() != ISO_8601:
        return serializers.DateField().to_representation

    def text(value):
        if not value:
            return None
        return value if isinstance(value, str) else value.isoformat()

    return text
