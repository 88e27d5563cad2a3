"""Dates and times of list rows as DRF's fields give them, without DRF's per-field machinery.

The lists (cases, inboxes, supervision) make their rows directly from a page's values; each row has two to four
dates. DRF's ``DateTimeField.to_representation`` looks up its format and time zone for every value; these
formatters look them up once per page and give the same text (tests hold the rows equal to the serializers').
"""

from __future__ import annotations

import re

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


# --- a list's filters from its query string ------------------------------------------------------------------------

_filter_specs: dict = {}
_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")


def _plain_spec(serializer_class):
    """``((name, "choice", {text: value}) | (name, "text", (max_length, slug)), ...)`` when every field of the
    serializer is an optional choice or text field with DRF's default rules only (no default, no null, no blank,
    trimmed, no validator or ``validate*`` method of its own), else None."""
    serializer = serializer_class()
    if type(serializer).validate is not serializers.Serializer.validate:
        return None
    spec = []
    for name, field in serializer.fields.items():
        plain = (
            not field.required
            and not field.allow_null
            and field.default is serializers.empty
            and field.source == name
            and not hasattr(serializer, f"validate_{name}")
        )
        if (
            plain
            and type(field) is serializers.ChoiceField
            and not field.allow_blank
            and not field.validators
        ):
            spec.append((name, "choice", dict(field.choice_strings_to_values)))
        elif (
            plain
            and type(field) in (serializers.CharField, serializers.SlugField)
            and not field.allow_blank
            and field.trim_whitespace
            and field.min_length is None
            and not getattr(field, "allow_unicode", False)
            # DRF's own: MaxLength (when given), no NUL, no surrogates, and the slug pattern for a SlugField.
            and len(field.validators)
            == (field.max_length is not None) + 2 + (type(field) is serializers.SlugField)
        ):
            spec.append((name, "text", (field.max_length, type(field) is serializers.SlugField)))
        else:
            return None
    return tuple(spec)


def query_filters(serializer_class, params) -> dict:
    """``serializer_class(data=params)``'s ``validated_data`` (raising its ValidationError), for a list's query
    string of plain filters: values that are plainly valid (one of a choice's values; text DRF keeps as it is once
    trimmed: not blank, within its length, no NUL or surrogate, a slug where it asks one) are taken directly, and
    anything else goes through the serializer, whose answer and errors are unchanged. Building the serializer
    (DRF deep-copies its fields) cost a list request more CPU than its page's statement."""
    spec = _filter_specs.get(serializer_class, False)
    if spec is False:
        spec = _filter_specs[serializer_class] = _plain_spec(serializer_class)
    if spec is not None:
        data = {}
        for name, kind, rule in spec:
            value = params.get(name)  # a QueryDict's last value, as DRF reads it
            if value is None:
                continue
            if kind == "choice":
                if value not in rule:
                    break
                data[name] = rule[value]
                continue
            text = value.strip()
            max_length, slug = rule
            if (
                not text
                or (max_length is not None and len(text) > max_length)
                or "\x00" in text
                or (not text.isascii() and any(0xD800 <= ord(c) <= 0xDFFF for c in text))
                or (slug and not _SLUG.match(text))
            ):
                break
            data[name] = text
        else:
            return data
    serializer = serializer_class(data=params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
