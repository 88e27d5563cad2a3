"""Rule conditions: safe, typed expressions (the ``rule-engine`` package; never Python eval).

A condition is checked against a fixed set of typed names (``CONTEXT_TYPES``), so a misspelt name or a
syntax error is refused when the rule is saved, with its position; a type error (``age == "x"`` is allowed,
``district > 3`` is not) too. At run time the context of a life event's subject fills the names; a name that
does not apply (``age`` of an organisation) is null, and comparing null with a number fails for that subject
only (the rule is logged and skipped for it).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

import rule_engine
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

T = rule_engine.DataType

# name -> (type, what it means); the dry run and the rule form list them for designers.
CONTEXT_TYPES: dict[str, tuple[object, str]] = {
    "subject": (T.STRING, '"person" or "organisation"'),
    "event": (T.STRING, "the life event kind, e.g. birth_registered, age_65"),
    "event_date": (T.DATETIME, "the day it happened"),
    "age": (T.FLOAT, "age in full years on the event date (persons)"),
    "age_months": (T.FLOAT, "age in full months on the event date (persons)"),
    "sex": (T.STRING, '"M" or "F" (persons)'),
    "district": (T.STRING, "household district code, e.g. 310106; an organisation's district"),
    "has_account": (T.BOOLEAN, "the person has a portal account"),
    "org_type": (T.STRING, "enterprise, individual, coop, ... (organisations)"),
    "baby_sex": (T.STRING, '"M" or "F" (birth_registered)'),
    "licence_type": (T.STRING, "licence type code (licence events)"),
    "days_to_expiry": (T.FLOAT, "days until the licence expires (licence_expiring)"),
    # Enterprise figures (enterprise_profile), read through the data hub (proactive.enterprise).
    "industry_code": (T.STRING, "GB/T 4754 industry code, e.g. C3913 (enterprises)"),
    "industry_section": (T.STRING, 'its section letter, e.g. "C" (manufacturing)'),
    "enterprise_age": (T.FLOAT, "full years since business registration"),
    "headcount": (T.FLOAT, "people insured by the enterprise in the latest quarter"),
    "headcount_growth": (T.FLOAT, "% change of the insured head-count over four quarters"),
    "tax_credit_rating": (T.STRING, '"A", "B", "M", "C" or "D"'),
    "revenue": (T.FLOAT, "revenue of the last four quarters, 10,000 CNY"),
    "revenue_band": (
        T.STRING,
        '"micro" (< 100), "small" (< 2,000), "medium" (< 40,000) or "large", 10,000 CNY',
    ),
    "tax_growth": (T.FLOAT, "% change of tax paid, last four quarters against the four before"),
    "qualifications": (T.ARRAY(T.STRING), 'qualifications held now, e.g. "high_tech" in qualifications'),
}


@lru_cache(maxsize=1)
def _context() -> rule_engine.Context:
    return rule_engine.Context(
        type_resolver=rule_engine.type_resolver_from_dict({k: v[0] for k, v in CONTEXT_TYPES.items()}),
        default_value=None,
    )


@dataclass(frozen=True)
class ConditionError:
    message: str
    position: int  # 0-based offset in the expression
    line: int
    column: int  # 1-based

    def __str__(self):
        return _("%(message)s at line %(line)s, column %(column)s") % {
            "message": self.message,
            "line": self.line,
            "column": self.column,
        }


def _line_column(text: str, position: int) -> tuple[int, int]:
    before = text[:position]
    return before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1


def condition_error(expression: str) -> ConditionError | None:
    """None when ``expression`` is a valid condition; otherwise what is wrong and where."""
    text = expression or ""
    if not text.strip():
        return None
    try:
        rule_engine.Rule(text, context=_context())
    except rule_engine.errors.RuleSyntaxError as exc:
        position = exc.token.lexpos if exc.token is not None else len(text)
        found = repr(exc.token.value) if exc.token is not None else _("the end")
        message = _("syntax error near %(found)s") % {"found": found}
    except rule_engine.errors.SymbolResolutionError as exc:
        match = re.search(rf"(?<![\w.$]){re.escape(exc.symbol_name)}(?!\w)", text)
        position = match.start() if match else 0
        message = _("unknown name %(name)s") % {"name": repr(exc.symbol_name)}
        if exc.suggestion:
            message += " " + _("(did you mean %(name)s?)") % {"name": repr(exc.suggestion)}
    except rule_engine.errors.EngineError as exc:
        # Type errors carry no token: point at the start of the expression.
        position = len(text) - len(text.lstrip())
        message = _("invalid expression: %(reason)s") % {"reason": exc.message}
    else:
        return None
    line, column = _line_column(text, position)
    return ConditionError(message=message, position=position, line=line, column=column)


def condition_validate(expression: str, *, field: str = "condition") -> None:
    """Raise ValidationError (with the position of the error) for a malformed condition."""
    error = condition_error(expression)
    if error is not None:
        raise ValidationError({field: [str(error)]}, code="invalid")


@lru_cache(maxsize=256)
def _compiled(expression: str) -> rule_engine.Rule:
    return rule_engine.Rule(expression, context=_context())


def condition_matches(expression: str, context: dict) -> bool:
    """Whether ``context`` satisfies ``expression`` (empty: always). Raises rule_engine errors."""
    if not (expression or "").strip():
        return True
    values = dict(context)
    if isinstance(values.get("event_date"), dt.date) and not isinstance(values["event_date"], dt.datetime):
        day = values["event_date"]
        values["event_date"] = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return bool(_compiled(expression).matches(values))
