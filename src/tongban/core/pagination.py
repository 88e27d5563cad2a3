"""Keyset (cursor) pagination for the lists that grow with the city: cases, inboxes, supervision.

A page is "the next ``page_size`` rows after this one" in a fixed order that ends with the primary key, so it is
one index range whatever the page: no OFFSET to walk, and no COUNT of the whole list (what made the case lists
slow at 50,000 cases). The answer has ``next`` (a URL with an opaque ``cursor``, or null on the last page) and
``results``; there is no total and no ``previous`` (a client keeps the cursors it came through).
``?page_size=`` is honoured from 1 to ``MAX_PAGE_SIZE``.

A list is given to :class:`KeysetPagination` either as a QuerySet (ordered by the view's ``keyset``) or as any
object with ``page(after, limit)`` returning model instances in keyset order (the staff case list merges several
index-ordered queries, see ``cases.selectors``).
"""

from __future__ import annotations

import base64
import binascii
import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from tongban.core.keyset import Keyset

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(text: str, size: int) -> list:
    """The values of a cursor, or a 400 naming the parameter."""
    try:
        values = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        values = None
    if not isinstance(values, list) or len(values) != size or any(isinstance(v, list | dict) for v in values):
        raise ValidationError({"cursor": [_("This cursor is not one this list gave out.")]})
    return values


def page_size_from(request, default: int = DEFAULT_PAGE_SIZE) -> int:
    text = request.query_params.get("page_size")
    if text in (None, ""):
        return default
    try:
        size = int(text)
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValidationError(
            {"page_size": [_("Give a whole number from 1 to %(max)s.") % {"max": MAX_PAGE_SIZE}]}
        )
    return size


class KeysetPagination(BasePagination):
    """``?cursor=&page_size=`` over the view's ``keyset``; answers ``{"next": url|null, "results": [...]}``."""

    page_size = DEFAULT_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        keyset: Keyset = view.keyset
        self.request = request
        limit = page_size_from(request, self.page_size)
        text = request.query_params.get("cursor")
        cursor = decode_cursor(text, len(keyset.fields)) if text else None
        try:
            if hasattr(queryset, "page"):
                rows = list(queryset.page(cursor, limit + 1))
            else:
                rows = list(keyset.after(queryset, cursor)[: limit + 1])
        except (ValueError, TypeError, DjangoValidationError) as exc:
            # A cursor whose values are not of the fields' types (edited by hand, or from another list).
            raise ValidationError({"cursor": [_("This cursor is not one this list gave out.")]}) from exc
        self.next_cursor = encode_cursor(keyset.values_of(rows[limit - 1])) if len(rows) > limit else None
        return rows[:limit]

    def get_next_link(self):
        if self.next_cursor is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, "cursor", self.next_cursor)

    def get_first_link(self):
        return remove_query_param(self.request.build_absolute_uri(), "cursor")

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page (null on the last); there is no total count.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                "description": "The cursor from the previous page's `next`.",
                "schema": {"type": "string"},
            },
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "description": f"Rows per page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]


class NumberedPagination(PageNumberPagination):
    """DRF's page numbers (``?page=``, with ``count``, ``next`` and ``previous``) for the short lists (departments,
    catalogue, grants, a person's licences and messages ...), with ``?page_size=`` honoured as on the keyset lists:
    1 to ``MAX_PAGE_SIZE``, anything else a 400 naming ``page_size`` (DRF's own silently ignored it)."""

    page_size_query_param = "page_size"  # read by the schema (drf-spectacular) to name the parameter
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        return page_size_from(request, self.page_size)
