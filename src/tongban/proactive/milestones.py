"""Date-driven milestones: which birth dates reach N months or years today.

Periods follow the Civil Code (《民法典》第二百零二条): a period counted in months or years ends on the
corresponding day of the last month; when that month has no such day, on its last day. So a child born on
31 December is 2 months old on 28 (or 29) February, and someone born on 29 February turns 65 on 28 February
in a common year (and on 29 February in a leap year).
"""

from __future__ import annotations

import calendar
import datetime as dt

from .models import LifeEventKind

# milestone kind -> age in months; child milestones are addressed to the child's parents.
PERSON_MILESTONES: dict[str, int] = {
    LifeEventKind.CHILD_2_MONTHS: 2,
    LifeEventKind.CHILD_3_YEARS: 36,
    LifeEventKind.CHILD_6_YEARS: 72,
    LifeEventKind.AGE_16: 16 * 12,
    LifeEventKind.AGE_60: 60 * 12,
    LifeEventKind.AGE_65: 65 * 12,
}
CHILD_MILESTONES = frozenset(
    {LifeEventKind.CHILD_2_MONTHS, LifeEventKind.CHILD_3_YEARS, LifeEventKind.CHILD_6_YEARS}
)
LICENCE_WINDOW_DAYS = 90


def _months_back(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) - months
    return index // 12, index % 12 + 1


def birth_dates_reaching(today: dt.date, months: int) -> list[dt.date]:
    """The birth dates whose ``months``-month anniversary falls on ``today`` (one, or several at month end)."""
    year, month = _months_back(today.year, today.month, months)
    last = calendar.monthrange(year, month)[1]
    if today.day < calendar.monthrange(today.year, today.month)[1]:
        return [dt.date(year, month, today.day)] if today.day <= last else []
    # Today is the last day of its month: the later days of the birth month have no day this month and end
    # today too. (When the birth month is the shorter one, its last day was matched on its own day.)
    return [dt.date(year, month, day) for day in range(today.day, last + 1)]


def age_on(birth_date: dt.date, day: dt.date) -> tuple[int, int]:
    """Full years and full months of someone born on ``birth_date`` on ``day`` (Civil Code month ends)."""
    months = (day.year - birth_date.year) * 12 + (day.month - birth_date.month)
    last = calendar.monthrange(day.year, day.month)[1]
    if day.day < birth_date.day and day.day < last:
        months -= 1
    months = max(months, 0)
    return months // 12, months
