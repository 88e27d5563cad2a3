"""The working-day calendar of Asia/Shanghai (工作日历).

Where an answer comes from, in order:

1. ``override``: a ``WorkdayOverride`` an administrator recorded for that date. It wins over everything.
2. ``package``: the official holidays and adjusted working weekends (调休) of the ``chinesecalendar`` package,
   for the years it knows (``PACKAGE_YEARS``).
3. ``declared``: for a year the package does not know but an administrator declared complete
   (``CalendarYear``), days without an override are ordinary: Monday to Friday work, weekends do not.
4. ``weekend-fallback``: otherwise the same weekday rule, but as a guess. ``day_info()`` says so
   (``certain=False`` and a warning), and the first use of such a year in a process logs a warning.

Semantics (all dates are days in Asia/Shanghai; an aware datetime is converted, a naive one is refused):

- ``add_working_days(start, n)``: for ``n > 0`` the date on which the n-th working day after ``start``
  falls, ``start`` itself not counted (so the result is always a working day after ``start``); ``n == 0``
  gives ``start`` unchanged; ``n < 0`` gives the |n|-th working day before ``start``.
- ``working_days_between(start, end)``: the number of working days in ``(start, end]``: ``start`` excluded,
  ``end`` included. It is 0 when ``start == end`` and ``-working_days_between(end, start)`` when
  ``end < start``. For ``n >= 0``, ``working_days_between(start, add_working_days(start, n)) == n``.

Speed: overrides and declared years are loaded once into an immutable snapshot; each year becomes a table
of working flags with running totals, so a lookup is an index and adding or counting working days is a
binary search per year, never a loop over days with queries. Saving or deleting an override or a declared
year drops the snapshot in this process at once (signals, and again on commit); other processes notice
within ``TONGBAN_CALENDAR_RECHECK_SECONDS`` (default 60) through a cheap fingerprint query.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import logging
import threading
import time
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from chinese_calendar.constants import Holiday
from chinese_calendar.constants import holidays as PACKAGE_HOLIDAYS
from chinese_calendar.constants import workdays as PACKAGE_WORKDAYS
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("tongban.calendar")

SHANGHAI = ZoneInfo("Asia/Shanghai")
PACKAGE_YEARS = range(
    min(d.year for d in PACKAGE_HOLIDAYS),
    max(d.year for d in PACKAGE_HOLIDAYS) + 1,
)
# The package names its holidays in English; the platform shows the official Chinese names.
_PACKAGE_NAMES = {holiday.value: holiday.chinese for holiday in Holiday}

SOURCE_OVERRIDE = "override"
SOURCE_PACKAGE = "package"
SOURCE_DECLARED = "declared"
SOURCE_FALLBACK = "weekend-fallback"


# --- dates -------------------------------------------------------------------


def as_local_date(value) -> dt.date:
    """The Asia/Shanghai day of ``value``: a date as is, an aware datetime converted; naive is refused."""
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            raise ValueError(f"naive datetime {value.isoformat()}: pass an aware datetime or a date")
        return value.astimezone(SHANGHAI).date()
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"expected a date or an aware datetime, not {type(value).__name__}")


def today() -> dt.date:
    """Today in Asia/Shanghai."""
    return timezone.now().astimezone(SHANGHAI).date()


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in Asia/Shanghai (an aware datetime)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)


# --- answers -------------------------------------------------------------------


@dataclass(frozen=True)
class DayInfo:
    """Whether a day is a working day, and where that answer comes from."""

    date: dt.date
    working: bool
    source: str  # "override" | "package" | "declared" | "weekend-fallback"
    name: str = ""  # the holiday the day belongs to (also for an adjusted working day), e.g. 国庆节
    certain: bool = True
    warning: str = ""  # why the answer is a guess; empty when certain

    @property
    def guessed(self) -> bool:
        return not self.certain


@dataclass(frozen=True)
class YearCoverage:
    """How a year is known: by the package, by an administrator's declaration, or only guessed."""

    year: int
    source: str  # "package" | "declared" | "weekend-fallback"
    overrides: int = 0

    @property
    def certain(self) -> bool:
        return self.source != SOURCE_FALLBACK


def fallback_warning(year: int, overrides: int = 0) -> str:
    """The message that says a year is guessed from weekends."""
    if overrides:
        return str(
            _(
                "The official schedule of %(year)s is not known: the holiday package covers %(first)s–%(last)s "
                "and the %(count)s override(s) entered for %(year)s are not declared complete, so other days of "
                "%(year)s are assumed from weekends."
            )
            % {"year": year, "first": PACKAGE_YEARS[0], "last": PACKAGE_YEARS[-1], "count": overrides}
        )
    return str(
        _(
            "The official schedule of %(year)s is not known: the holiday package covers %(first)s–%(last)s and "
            "no administrator has entered %(year)s, so its days are assumed from weekends, without holidays "
            "or adjusted working days."
        )
        % {"year": year, "first": PACKAGE_YEARS[0], "last": PACKAGE_YEARS[-1]}
    )


# --- the calculation -----------------------------------------------------------------


@dataclass(frozen=True)
class _YearTable:
    year: int
    first_ordinal: int
    working: bytes  # 1 for a working day, by day of year (0-based)
    cum: array  # cum[i]: working days from 1 January to day i, inclusive
    source: str

    @property
    def total(self) -> int:
        return self.cum[-1]

    def index(self, day: dt.date) -> int:
        return day.toordinal() - self.first_ordinal

    def date_at(self, index: int) -> dt.date:
        return dt.date.fromordinal(self.first_ordinal + index)


@dataclass
class WorkingCalendar:
    """The package's schedule plus administrators' overrides, as one pure, cached calculation.

    ``overrides`` maps a date to ``(working, name)``; ``declared_years`` lists the years declared complete.
    The module functions use the snapshot loaded from the database (``get_calendar()``); tests and tools
    can build one directly.
    """

    overrides: Mapping[dt.date, tuple[bool, str]] = field(default_factory=dict)
    declared_years: frozenset[int] = frozenset()
    fingerprint: object = None
    _tables: dict[int, _YearTable] = field(default_factory=dict, init=False, repr=False)
    _override_counts: Counter = field(init=False, repr=False)

    def __post_init__(self):
        self.declared_years = frozenset(self.declared_years)
        self._override_counts = Counter(day.year for day in self.overrides)

    # year level

    def year_source(self, year: int) -> str:
        if year in PACKAGE_YEARS:
            return SOURCE_PACKAGE
        if year in self.declared_years:
            return SOURCE_DECLARED
        return SOURCE_FALLBACK

    def coverage(self, year: int) -> YearCoverage:
        return YearCoverage(year=year, source=self.year_source(year), overrides=self._override_counts[year])

    def override_years(self) -> list[int]:
        return sorted(self._override_counts)

    def _table(self, year: int) -> _YearTable:
        table = self._tables.get(year)
        if table is None:
            table = self._tables[year] = self._build(year)
        return table

    def _build(self, year: int) -> _YearTable:
        source = self.year_source(year)
        if source == SOURCE_FALLBACK:
            logger.warning(fallback_warning(year, self._override_counts[year]))
        first = dt.date(year, 1, 1)
        days = (dt.date(year + 1, 1, 1) - first).days if year < dt.MAXYEAR else 365
        flags = bytearray(days)
        for i in range(days):
            day = first + dt.timedelta(days=i)
            override = self.overrides.get(day)
            if override is not None:
                flags[i] = override[0]
            elif source == SOURCE_PACKAGE:
                flags[i] = day in PACKAGE_WORKDAYS or (day.weekday() < 5 and day not in PACKAGE_HOLIDAYS)
            else:
                flags[i] = day.weekday() < 5
        return _YearTable(
            year=year,
            first_ordinal=first.toordinal(),
            working=bytes(flags),
            cum=array("l", itertools.accumulate(flags)),
            source=source,
        )

    # day level

    def is_working_day(self, day) -> bool:
        day = as_local_date(day)
        table = self._table(day.year)
        return bool(table.working[table.index(day)])

    def day_info(self, day) -> DayInfo:
        day = as_local_date(day)
        table = self._table(day.year)
        working = bool(table.working[table.index(day)])
        override = self.overrides.get(day)
        if override is not None:
            return DayInfo(date=day, working=working, source=SOURCE_OVERRIDE, name=override[1])
        if table.source == SOURCE_PACKAGE:
            raw = PACKAGE_WORKDAYS.get(day) or PACKAGE_HOLIDAYS.get(day) or ""
            return DayInfo(
                date=day, working=working, source=SOURCE_PACKAGE, name=_PACKAGE_NAMES.get(raw, raw)
            )
        if table.source == SOURCE_DECLARED:
            return DayInfo(date=day, working=working, source=SOURCE_DECLARED)
        return DayInfo(
            date=day,
            working=working,
            source=SOURCE_FALLBACK,
            certain=False,
            warning=fallback_warning(day.year, self._override_counts[day.year]),
        )

    # spans

    def add_working_days(self, start, n: int) -> dt.date:
        start = as_local_date(start)
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"the number of working days must be an int, not {type(n).__name__}")
        if n == 0:
            return start
        table = self._table(start.year)
        i = table.index(start)
        if n > 0:
            need, done = n, table.cum[i]
            while need > table.total - done:
                need -= table.total - done
                table, done = self._table(table.year + 1), 0
            return table.date_at(bisect_left(table.cum, done + need))
        need, before = -n, table.cum[i] - table.working[i]
        while need > before:
            need -= before
            table = self._table(table.year - 1)
            before = table.total
        return table.date_at(bisect_left(table.cum, before - need + 1))

    def working_days_between(self, start, end) -> int:
        start, end = as_local_date(start), as_local_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        first, last = self._table(start.year), self._table(end.year)
        if first is last:
            return last.cum[last.index(end)] - first.cum[first.index(start)]
        middle = sum(self._table(year).total for year in range(start.year + 1, end.year))
        return first.total - first.cum[first.index(start)] + middle + last.cum[last.index(end)]

    def fallback_years(self, start, end) -> list[int]:
        """The years from ``start`` to ``end`` (either order) whose days are guessed from weekends."""
        start, end = sorted((as_local_date(start), as_local_date(end)))
        return [y for y in range(start.year, end.year + 1) if self.year_source(y) == SOURCE_FALLBACK]


# --- the snapshot from the database ------------------------------------------------------

_lock = threading.Lock()
_current: WorkingCalendar | None = None
_valid_until = 0.0  # time.monotonic() until which _current is used without a fingerprint check


def _fingerprint():
    from django.db.models import Count, Max

    from tongban.core.models import CalendarYear, WorkdayOverride

    overrides = WorkdayOverride.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    years = CalendarYear.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    return (overrides["n"], overrides["last"], years["n"], years["last"])


def _load(fingerprint) -> WorkingCalendar:
    from tongban.core.models import CalendarYear, WorkdayOverride

    overrides = {
        day: (kind == WorkdayOverride.Kind.WORKDAY, name)
        for day, kind, name in WorkdayOverride.objects.values_list("date", "kind", "name")
    }
    declared = CalendarYear.objects.values_list("year", flat=True)
    return WorkingCalendar(overrides=overrides, declared_years=frozenset(declared), fingerprint=fingerprint)


def get_calendar() -> WorkingCalendar:
    """The calendar of the package plus the database's overrides, cached per process."""
    global _current, _valid_until
    calendar = _current
    if calendar is not None and time.monotonic() < _valid_until:
        return calendar
    with _lock:
        if _current is not None and time.monotonic() < _valid_until:
            return _current
        fingerprint = _fingerprint()
        if _current is None or _current.fingerprint != fingerprint:
            _current = _load(fingerprint)
        _valid_until = time.monotonic() + float(getattr(settings, "TONGBAN_CALENDAR_RECHECK_SECONDS", 60))
        return _current


def invalidate_cache() -> None:
    """Forget the loaded overrides; the next call loads them again."""
    global _current
    _current = None


@receiver(setting_changed)
def _recheck_setting_changed(setting, **kwargs):
    global _valid_until
    if setting == "TONGBAN_CALENDAR_RECHECK_SECONDS":
        _valid_until = 0.0


def invalidate_cache_now_and_on_commit() -> None:
    invalidate_cache()
    # Again after commit: a read inside the writing transaction may have cached uncommitted rows.
    transaction.on_commit(invalidate_cache)


# --- the public functions --------------------------------------------------------------


def is_working_day(day) -> bool:
    """Whether ``day`` is a working day in Asia/Shanghai."""
    return get_calendar().is_working_day(day)


def day_info(day) -> DayInfo:
    """Whether ``day`` is a working day, its holiday name and where the answer comes from."""
    return get_calendar().day_info(day)


def add_working_days(start, n: int) -> dt.date:
    """The date of the n-th working day after ``start`` (``start`` not counted); see the module doc."""
    return get_calendar().add_working_days(start, n)


def working_days_between(start, end) -> int:
    """The number of working days in ``(start, end]``; negative when ``end < start``."""
    return get_calendar().working_days_between(start, end)


def fallback_years(start, end) -> list[int]:
    """The years touched by ``start``..``end`` that are only guessed from weekends."""
    return get_calendar().fallback_years(start, end)


_package_only = WorkingCalendar()


def package_day_info(day) -> DayInfo | None:
    """What the holiday package alone says of ``day``; None for a year it does not know."""
    day = as_local_date(day)
    return _package_only.day_info(day) if day.year in PACKAGE_YEARS else None


def year_coverage(year: int) -> YearCoverage:
    return get_calendar().coverage(year)


def coverage_list(*, extra_years: Iterable[int] = ()) -> list[YearCoverage]:
    """Coverage of the package's years, the years with overrides or declarations, and ``extra_years``."""
    calendar = get_calendar()
    years = set(PACKAGE_YEARS) | set(calendar.override_years()) | calendar.declared_years | set(extra_years)
    return [calendar.coverage(year) for year in sorted(years)]


# --- selectors ------------------------------------------------------------------------------


def workday_override_list(*, year: int | None = None):
    """The overrides, by date; of one year when ``year`` is given."""
    from tongban.core.models import WorkdayOverride

    overrides = WorkdayOverride.objects.order_by("date")
    return overrides.filter(date__year=year) if year is not None else overrides


# --- administration services ------------------------------------------------------------

KIND_ALIASES = {
    "holiday": "holiday",
    "off": "holiday",
    "休": "holiday",
    "假": "holiday",
    "workday": "workday",
    "working": "workday",
    "work": "workday",
    "班": "workday",
}


def parse_kind(value: str) -> str:
    kind = KIND_ALIASES.get(value.strip().lower())
    if kind is None:
        raise ValidationError(
            _("Unknown kind %(value)r: use holiday or workday."), code="invalid_kind", params={"value": value}
        )
    return kind


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(
            _("%(value)r is not a date: write it as YYYY-MM-DD, e.g. 2027-01-01."),
            code="invalid_date",
            params={"value": value},
        ) from None


def parse_date_range(value: str) -> list[dt.date]:
    """``2027-01-01`` or ``2027-01-01..2027-01-03`` (both ends included) as a list of dates."""
    first, sep, last = value.partition("..")
    start = parse_date(first)
    end = parse_date(last) if sep else start
    if end < start:
        raise ValidationError(
            _("The range %(value)s ends before it starts."), code="invalid_range", params={"value": value}
        )
    if (end - start).days > 366:
        raise ValidationError(
            _("The range %(value)s is longer than a year."), code="invalid_range", params={"value": value}
        )
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


@dataclass(frozen=True)
class OverrideRow:
    date: dt.date
    kind: str
    name: str = ""
    note: str = ""
    line: int = 0


def parse_override_csv(lines: Iterable[str]) -> tuple[list[OverrideRow], list[str]]:
    """Read ``date,kind,name,note`` rows (a header line is optional; a date may be a ``..`` range).

    Returns the rows and the errors, each error naming its line. A date given twice is an error.
    """
    rows: list[OverrideRow] = []
    errors: list[str] = []
    seen: dict[dt.date, int] = {}
    for number, record in enumerate(csv.reader(lines), start=1):
        if not record or not "".join(record).strip() or record[0].lstrip().startswith("#"):
            continue
        cells = [cell.strip() for cell in record]
        if number == 1 and cells[0].lower() in {"date", "日期"}:
            continue
        if len(cells) < 2:
            errors.append(str(_("line %(line)s: expected date,kind[,name[,note]]") % {"line": number}))
            continue
        try:
            days = parse_date_range(cells[0])
            kind = parse_kind(cells[1])
            for day in days:
                validate_override_year(day)
        except ValidationError as error:
            errors.extend(
                str(_("line %(line)s: %(error)s") % {"line": number, "error": m}) for m in error.messages
            )
            continue
        name = cells[2] if len(cells) > 2 else ""
        note = cells[3] if len(cells) > 3 else ""
        for day in days:
            if day in seen:
                errors.append(
                    str(
                        _("line %(line)s: %(date)s is already given on line %(first)s")
                        % {"line": number, "date": day.isoformat(), "first": seen[day]}
                    )
                )
                continue
            seen[day] = number
            rows.append(OverrideRow(date=day, kind=kind, name=name, note=note, line=number))
    return rows, errors


def validate_override_year(day: dt.date) -> None:
    from tongban.core.models.calendar import validate_calendar_year

    validate_calendar_year(day.year)


def _actor_label(actor) -> str:
    return getattr(actor, "label", "") or str(actor)


def _record(*, actor, action: str, subject_id: str, details: dict) -> None:
    from tongban.core.audit import audit_record
    from tongban.core.events import event_emit

    audit_record(actor=actor, action=action, subject_type="calendar", subject_id=subject_id, details=details)
    event_emit(
        "calendar.changed", {"action": action, **details}, subject_type="calendar", subject_id=subject_id
    )


def workday_override_set(*, actor, date: dt.date, kind: str, name: str = "", note: str = ""):
    """Create or change the override of ``date``; returns it. Audited; emits ``calendar.changed``."""
    from tongban.core.models import WorkdayOverride

    with transaction.atomic():
        override = WorkdayOverride.objects.filter(date=date).first() or WorkdayOverride(date=date)
        before = (override.kind, override.name) if override.pk else None
        override.kind, override.name, override.note = kind, name, note
        override.changed_by = _actor_label(actor)
        override.full_clean(validate_unique=False)
        override.save()
        _record(
            actor=actor,
            action="calendar.override.set",
            subject_id=date.isoformat(),
            details={"date": date.isoformat(), "kind": kind, "name": name, "before": before},
        )
        invalidate_cache_now_and_on_commit()
    return override


def workday_override_delete(*, actor, date: dt.date) -> bool:
    """Remove the override of ``date``; False when there was none."""
    from tongban.core.models import WorkdayOverride

    with transaction.atomic():
        override = WorkdayOverride.objects.filter(date=date).first()
        if override is None:
            return False
        details = {"date": date.isoformat(), "kind": override.kind, "name": override.name}
        override.delete()
        _record(actor=actor, action="calendar.override.delete", subject_id=date.isoformat(), details=details)
        invalidate_cache_now_and_on_commit()
    return True


def workday_overrides_import(*, actor, rows: Iterable[OverrideRow]) -> dict:
    """Set every row's override in one transaction; returns counts of ``created``, ``updated``, ``unchanged``."""
    from tongban.core.models import WorkdayOverride

    counts = {"created": 0, "updated": 0, "unchanged": 0}
    with transaction.atomic():
        rows = list(rows)
        existing = {o.date: o for o in WorkdayOverride.objects.filter(date__in=[row.date for row in rows])}
        for row in rows:
            current = existing.get(row.date)
            if current is not None and (current.kind, current.name, current.note) == (
                row.kind,
                row.name,
                row.note,
            ):
                counts["unchanged"] += 1
                continue
            workday_override_set(actor=actor, date=row.date, kind=row.kind, name=row.name, note=row.note)
            counts["updated" if current is not None else "created"] += 1
    return counts


def calendar_year_declare(*, actor, year: int, note: str = ""):
    """Declare that ``year``'s official schedule is entered completely as overrides."""
    from tongban.core.models import CalendarYear

    with transaction.atomic():
        declared = CalendarYear.objects.filter(year=year).first() or CalendarYear(year=year)
        declared.note = note or declared.note
        declared.declared_by = _actor_label(actor)
        declared.full_clean(validate_unique=False)
        declared.save()
        _record(
            actor=actor,
            action="calendar.year.declare",
            subject_id=str(year),
            details={"year": year, "overrides": workday_override_list(year=year).count()},
        )
        invalidate_cache_now_and_on_commit()
    return declared


def calendar_year_undeclare(*, actor, year: int) -> bool:
    """Withdraw the declaration of ``year``; False when it was not declared."""
    from tongban.core.models import CalendarYear

    with transaction.atomic():
        deleted, _by_model = CalendarYear.objects.filter(year=year).delete()
        if not deleted:
            return False
        _record(actor=actor, action="calendar.year.undeclare", subject_id=str(year), details={"year": year})
        invalidate_cache_now_and_on_commit()
    return True
