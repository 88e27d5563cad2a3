"""Plausible answers to a service's form, for the demo scenarios and the benchmark (never for real cases)."""

from __future__ import annotations

import datetime as dt

from tongban.core import calendar
from tongban.core.ids import make_credit_code

# Values for fields whose rule is a pattern, by the field's name (or its ending).
_BY_NAME = {
    "applicant_phone": "13812345678",
    "birth_time": "08:30",
    "property_unit": "310101001001GB00001F00010001",
    "bank_account": "6222021001112223334",
}


def sample_value(name: str, rules: dict, *, person=None, today: dt.date | None = None):
    today = today or calendar.today()
    if "enum" in rules:
        return rules["enum"][0]
    kind = rules.get("type")
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        low = rules.get("minimum", rules.get("exclusiveMinimum", 0) + 1)
        return int(max(low, min(rules.get("maximum", 3200), 3200)))
    if name in _BY_NAME:
        return _BY_NAME[name]
    if name.endswith("resident_id"):
        return person.resident_id if person is not None else "310101199005121115"
    if name.endswith("credit_code"):
        return make_credit_code("310115", "MA1G7K3X")
    if name.endswith("phone"):
        return "13812345678"
    if rules.get("format") == "date":
        return (today - dt.timedelta(days=3)).isoformat()
    if name.endswith("name") and person is not None:
        return person.name
    return "示例"[: rules.get("maxLength", 64)] or "示"


def sample_form_data(schema: dict, *, person=None, today: dt.date | None = None) -> dict:
    """An answer to every field of ``schema`` that its rules accept (checked by the callers' validation), except
    an optional choice, which is left unchosen (e.g. why the parents are not the applicant and spouse)."""
    required = set((schema or {}).get("required", []))
    return {
        name: sample_value(name, rules, person=person, today=today)
        for name, rules in (schema or {}).get("properties", {}).items()
        if name in required or "enum" not in rules
    }
