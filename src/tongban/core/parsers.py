"""JSON from outside, with a nesting limit: a deeply nested body is a 400, never a ``RecursionError`` and a 500.

``json.loads`` recurses once per level, so ``'[' * 50000 + ']' * 50000`` exhausts Python's stack inside the
parser; a body that parses at a few hundred levels may still exhaust it later (serializers, ``json.dumps`` of
an audit entry's details, a database JSON field). No form, material or query this platform takes nests deeper
than a handful of levels, so anything beyond ``TONGBAN_API_JSON_MAX_DEPTH`` (32 by default) is refused as soon as
it is parsed. ``JSONParser`` is the API's default parser (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``).
"""

import json

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework import parsers as drf_parsers
from rest_framework.utils.json import strict_constant

__all__ = ["JSONParser", "TooDeep", "json_depth_exceeds", "loads_limited", "max_depth"]

DEFAULT_MAX_DEPTH = 32


class TooDeep(ValueError):
    """The JSON nests deeper than the limit (a ``ValueError``, so callers that catch bad JSON catch it too)."""


def max_depth() -> int:
    return int(getattr(settings, "TONGBAN_API_JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))


def json_depth_exceeds(value, limit: int) -> bool:
    """True when ``value`` (parsed JSON) nests lists and objects more than ``limit`` deep; iterative."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def loads_limited(text, *, limit: int | None = None, **kwargs):
    """``json.loads`` that raises ``TooDeep`` (a ``ValueError``) past the nesting limit instead of recursing."""
    limit = max_depth() if limit is None else limit
    try:
        value = json.loads(text, **kwargs)
    except RecursionError as exc:
        raise TooDeep(f"JSON nested deeper than {limit} levels") from exc
    if json_depth_exceeds(value, limit):
        raise TooDeep(f"JSON nested deeper than {limit} levels")
    return value


def parse_error(exc: ValueError) -> exceptions.ParseError:
    """The API's 400 ``parse_error`` for bad JSON; too deep a nesting says so."""
    if isinstance(exc, TooDeep):
        return exceptions.ParseError(
            _("The JSON nests deeper than %(depth)s levels.") % {"depth": max_depth()}
        )
    return exceptions.ParseError(_("The body is not valid JSON."))


class JSONParser(drf_parsers.JSONParser):
    """DRF's JSON parser with the nesting limit; a refused body is a 400 ``parse_error`` in the API's shape."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding) if stream is not None else ""
            return loads_limited(text, parse_constant=strict_constant)
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors too
            raise parse_error(exc) from exc
