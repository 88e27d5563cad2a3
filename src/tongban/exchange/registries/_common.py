"""Helpers of the registries' fetch functions: key normalisation, field picking, value shaping.

A fetch reads only the columns that the asked fields need (``columns_for``) in one or two indexed queries and
returns a dict restricted to the asked fields.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from tongban.core.db import fast
from tongban.identity.models import Person


def key(value) -> str:
    """A subject key as stored: trimmed, capital letters (resident IDs end in X, credit codes are upper case)."""
    return str(value or "").strip().upper()


def columns_for(fields, mapping: dict[str, tuple[str, ...]], always: tuple[str, ...] = ()) -> list[str]:
    """The ORM columns needed by ``fields``: ``mapping`` gives each field's columns."""
    needed = dict.fromkeys(always)
    for name in fields:
        needed.update(dict.fromkeys(mapping.get(name, ())))
    return list(needed)


def plain(value):
    """A JSON-friendly value: ISO dates and times, numbers for decimals, text for UUIDs."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if value is not None and not isinstance(value, str | int | float | bool | list | dict):
        return str(value)
    return value


def person_id(resident_id):
    """The primary key of the person with this resident ID, or None (one unique-index lookup)."""
    row = fast.fetchone("SELECT id FROM identity_person WHERE resident_id = %s", [key(resident_id)])
    return None if row is None else fast.convert(Person, "id", row[0])


def subject_person_ids(resident_id, fields=None) -> list:
    found = person_id(resident_id)
    return [found] if found else []
