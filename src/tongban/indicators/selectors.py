"""Reads of the indicators: sums of the aggregate rows for a period and filters, limited to what the user may see.

A period is read as whole calendar months from the month rows and the rest from the day rows, so a year costs
about twelve rows per department and district, not 365. Who sees what is ``identity.permissions
.permission_scope(user, "evaluation.view")``: a supervisor or service designer the whole city, a department head
their own department (a municipal head also its district branches).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min, Q, Sum
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tongban.catalog.models import Bundle, ServiceItem
from tongban.identity.models import AdminUnit, Department
from tongban.identity.permissions import permission_scope

from . import formulas, sums
from .compute import month_start, next_month
from .models import (
    CASE_COUNTERS,
    PROACTIVE_COUNTERS,
    STAT_COUNTERS,
    CatalogSnapshot,
    Grain,
    MonthlyReport,
    ProactiveStat,
    ServiceStat,
    ServiceVersion,
    Stat,
)

PERMISSION = "evaluation.view"
DAILY_TREND_DAYS = 92  # a longer period's trend is shown by month
SNAPSHOT_FIELDS = (
    "items_published",
    "items_online_apply",
    "items_full_online",
    "items_multi_channel",
    "items_guide_complete",
    "materials",
    "materials_from_data",
)


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date
    department: Department | None = None
    district: AdminUnit | None = None
    service: str = ""  # a service item's or bundle's code
    departments: frozenset | None = field(default=None)  # the scope: None for every department

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def scope_for(user) -> frozenset | None:
    """The departments whose indicators ``user`` may read (None: all; empty: none)."""
    return permission_scope(user, PERMISSION)


def filters_for(user, *, start, end, department=None, district=None, service="") -> Filters:
    """The filters of a request, checked against the user's scope: a department outside it is refused."""
    scope = scope_for(user)
    if scope is not None and not scope:
        raise PermissionDenied(_("You may not read indicators."))
    if department is not None and scope is not None and department.pk not in scope:
        raise PermissionDenied(_("You may read the indicators of your own department only."))
    return Filters(start, end, department, district, service, scope)


def period_q(start: dt.date, end: dt.date, model=Stat) -> Q:
    """The rows that make up the period: whole months from the month rows, the other days from the day rows.

    A month that starts inside the period and has no day row after its end (the current month, read up to today)
    is whole as far as the rows go: its month row is read instead of its days (``model``'s rows decide)."""
    months, days = period_parts(start, end, model)
    q = Q(pk__in=[])
    if months:
        q |= Q(grain=Grain.MONTH, period__in=months)
    for first, last in days:
        q |= Q(grain=Grain.DAY, period__gte=first, period__lte=last)
    return q


def period_parts(start: dt.date, end: dt.date, model=Stat) -> tuple[list, list]:
    """``period_q``'s parts: the whole months (their first days) and the (first, last) ranges of other days."""
    months, days = [], []
    day = start
    while day <= end:
        after = next_month(month_start(day))
        whole = after - dt.timedelta(days=1) <= end or (
            day.day == 1
            and not model.objects.filter(grain=Grain.DAY, period__gt=end, period__lt=after).exists()
        )
        if day.day == 1 and whole:
            months.append(day)
            day = after
        else:
            last = min(end, after - dt.timedelta(days=1))
            days.append((day, last))
            day = last + dt.timedelta(days=1)
    return months, days


def _department_ids(department: Department) -> list:
    return [department.pk, *Department.objects.filter(parent=department).values_list("pk", flat=True)]


def _stat_departments(f: Filters):
    """The department ids the department × district rows are limited to (None: all)."""
    allowed = None if f.departments is None else set(f.departments)
    if f.department is not None:
        chosen = set(_department_ids(f.department))
        allowed = chosen if allowed is None else allowed & chosen
    return allowed


def _grouped(f: Filters) -> list[tuple]:
    """The department × district rows of the period under the filters (but the service), summed per pair, from
    the per-period slabs kept in memory (``sums``)."""
    months, days = period_parts(f.start, f.end, Stat)
    return sums.stats.grouped(months, days, _stat_filters(f), ("department_id", "district_id"))


def _stat_filters(f: Filters) -> dict:
    return {
        "department_id": _stat_departments(f),
        "district_id": None if f.district is None else [f.district.pk],
    }


def _rows(f: Filters, *, by_service: bool | None = None):
    """The rows of the period under the filters: the service rows when a service is chosen."""
    service_rows = bool(f.service) if by_service is None else by_service
    model = ServiceStat if service_rows else Stat
    query = model.objects.filter(period_q(f.start, f.end, model))
    if f.departments is not None:
        query = query.filter(department_id__in=f.departments)
    if f.department is not None:
        query = query.filter(department_id__in=_department_ids(f.department))
    if service_rows:
        if f.service:
            query = query.filter(service_code=f.service)
    elif f.district is not None:
        query = query.filter(district=f.district)
    return query, (CASE_COUNTERS if service_rows else STAT_COUNTERS)


def _sums(counters):
    return {name: Sum(name) for name in counters}


def _clean(row: dict, counters) -> dict:
    return {name: row.get(name) or 0 for name in counters}


def totals(f: Filters) -> dict:
    if not f.service:
        return stat_totals(f)
    query, counters = _rows(f)
    return _clean(query.aggregate(**_sums(counters)), counters)


def snapshot(f: Filters) -> dict:
    """The published catalogue on the last snapshot day of the period, summed over the departments in view (for a
    period before the first snapshot, the first one: the catalogue's past is known only from its snapshots)."""
    query = _snapshot_day(f)
    if query is None:
        return {}
    return _clean(query.aggregate(**_sums(SNAPSHOT_FIELDS)), SNAPSHOT_FIELDS)


def _snapshot_day(f: Filters):
    """The snapshot rows of the departments in view on the period's snapshot day (None when there is none)."""
    query = CatalogSnapshot.objects.all()
    if f.departments is not None:
        query = query.filter(department_id__in=f.departments)
    if f.department is not None:
        query = query.filter(department_id__in=_department_ids(f.department))
    day = query.filter(day__lte=f.end).aggregate(day=Max("day"))["day"]
    if day is None:  # a period before the first snapshot: the nearest one after it
        day = query.aggregate(day=Min("day"))["day"]
    return None if day is None else query.filter(day=day)


def snapshots_by_department(f: Filters) -> dict:
    """Each department's published catalogue on the period's snapshot day (``snapshot`` is their sum):
    department id -> the snapshot's fields."""
    query = _snapshot_day(f)
    if query is None:
        return {}
    return {
        row["department_id"]: _clean(row, SNAPSHOT_FIELDS)
        for row in query.values("department_id", *SNAPSHOT_FIELDS)
    }


def stat_grouped(f: Filters) -> list[tuple]:
    """The department and district rows of the period summed per (department id, district id), whatever the
    service filter: one query from which the totals and both rankings are drawn."""
    return _grouped(f)


def _summed(groups, key) -> dict:
    result: dict = {}
    for group in groups:
        k = key(group)
        target = result.get(k)
        if target is None:
            result[k] = dict(group[2])
            continue
        for name, value in group[2].items():
            target[name] += value
    return result


def totals_of(groups) -> dict:
    return _summed(groups, lambda g: None).get(None, dict.fromkeys(STAT_COUNTERS, 0))


def by_department(f: Filters, groups=None) -> list[dict]:
    if f.service:
        query, counters = _rows(f)
        summed = {
            r["department_id"]: _clean(r, counters)
            for r in query.values("department_id").annotate(**_sums(counters)).order_by()
        }
    else:  # summed per department from the slabs (``groups`` is not needed: numpy sums faster than a loop)
        summed = dict(_stat_by(f, "department_id"))
    names = Department.objects.in_bulk([pk for pk in summed if pk])
    return [{"department": names.get(pk), "counters": c} for pk, c in summed.items() if pk]


def _stat_by(f: Filters, *by: str) -> list[tuple]:
    """The department × district rows of the period (whatever the service filter) summed per ``by``."""
    months, days = period_parts(f.start, f.end, Stat)
    return sums.stats.grouped(months, days, _stat_filters(f), by)


def stat_totals(f: Filters) -> dict:
    """``totals_of(stat_grouped(f))``, summed by numpy."""
    found = _stat_by(f)
    return found[0][-1] if found else dict.fromkeys(STAT_COUNTERS, 0)


def by_district(f: Filters, groups=None) -> list[dict]:
    summed = dict(_stat_by(f, "district_id"))
    names = AdminUnit.objects.in_bulk([pk for pk in summed if pk])
    return [{"district": names.get(pk), "counters": c} for pk, c in summed.items() if pk]


REFORM_COUNTERS = sums.REFORM_COUNTERS  # what the reform measures use (formulas.reform)


def by_service(f: Filters) -> list[dict]:
    """The reform counters per service over the period, from the per-period slabs kept in memory (``sums``)."""
    months, days = period_parts(f.start, f.end, ServiceStat)
    rows = sums.services.grouped(
        months,
        days,
        {
            "department_id": _stat_departments(f),
            "service_code": [f.service] if f.service else None,
        },
        ("service_kind", "service_code"),
    )
    names = service_names([code for _kind, code, _c in rows])
    return [
        {"kind": kind, "code": code, "name": names.get(code, code), "counters": counters}
        for kind, code, counters in rows
    ]


def catalogue_version() -> tuple:
    """What changes when an item or bundle is added, edited or removed (one aggregate query each)."""
    return tuple(
        tuple(model.objects.aggregate(n=Count("pk"), last=Max("updated_at")).values())
        for model in (ServiceItem, Bundle)
    )


_names: dict = {}  # (catalogue version, English?) -> {code: name}, this process's


def service_names(codes) -> dict:
    """Code -> name in the active language, for items and bundles (as the models' ``name``).

    Every service's name is read once per state of the catalogue (``catalogue_version``) and language in a
    process: the reform measures page names some 3,600 services, and reading them with ``code IN (...)`` cost more
    than summing their rows."""
    english = (get_language() or "").startswith("en")
    key = (catalogue_version(), english)
    every = _names.get(key)
    if every is None:
        every = {}
        for model in (ServiceItem, Bundle):
            for code, name_zh, name_en in model.objects.values_list("code", "name_zh", "name_en"):
                every[code] = name_en if english and name_en else name_zh
        _names.clear()  # one state of the catalogue at a time (per language: the other is read again)
        _names[key] = every
    return {code: every[code] for code in codes if code in every}


# What the trend shows: cases and tickets, and the counters of the two national indicators that follow the day's
# work (online service effectiveness, online handling maturity; the other three follow the catalogue).
TREND_COUNTERS = (
    "cases_submitted",
    "cases_completed",
    "completed_on_time",
    "tickets",
    "cases_online",
    "cases_full_online_item",
    "completed_no_visit",
    "ratings",
    "ratings_4",
    "ratings_5",
)
# A service's rows keep the case counters only (no tickets, no ratings).
TREND_SERVICE_COUNTERS = tuple(name for name in TREND_COUNTERS if name in CASE_COUNTERS)


def trend(f: Filters) -> tuple[str, list[tuple[dt.date, dict]]]:
    """The period's counters of ``TREND_COUNTERS`` by day (up to ``DAILY_TREND_DAYS`` days) or by month:
    ("day"|"month", rows)."""
    counters = TREND_COUNTERS if not f.service else TREND_SERVICE_COUNTERS
    if not f.service:
        return _trend_stat(f, counters)
    if f.days <= DAILY_TREND_DAYS:
        model = ServiceStat if f.service else Stat
        daily = model.objects.filter(grain=Grain.DAY, period__gte=f.start, period__lte=f.end)
        daily = _same_filters(daily, f)
        rows = daily.values("period").annotate(**_sums(counters)).order_by("period")
        found = {r["period"]: _clean(r, counters) for r in rows}
        days = [f.start + dt.timedelta(days=i) for i in range(f.days)]
        return "day", [(day, found.get(day, dict.fromkeys(counters, 0))) for day in days]
    query, _all = _rows(f)
    buckets: dict[dt.date, dict] = {}
    for r in query.values("period").annotate(**_sums(counters)).order_by("period"):
        bucket = buckets.setdefault(month_start(r["period"]), dict.fromkeys(counters, 0))
        for name in counters:
            bucket[name] += r[name] or 0
    months, month = [], month_start(f.start)
    while month <= f.end:
        months.append((month, buckets.get(month, dict.fromkeys(counters, 0))))
        month = next_month(month)
    return "month", months


def _trend_stat(f: Filters, counters) -> tuple[str, list[tuple[dt.date, dict]]]:
    """``trend`` of the department × district rows, from the slabs kept in memory (``sums``)."""
    filters = _stat_filters(f)
    empty = dict.fromkeys(counters, 0)
    if f.days <= DAILY_TREND_DAYS:
        found = sums.stats.per_period([], [(f.start, f.end)], counters, filters)
        days = [f.start + dt.timedelta(days=i) for i in range(f.days)]
        return "day", [(day, found.get((Grain.DAY, day), dict(empty))) for day in days]
    months_whole, days = period_parts(f.start, f.end, Stat)
    buckets: dict[dt.date, dict] = {}
    for (_grain, period), values in sorted(
        sums.stats.per_period(months_whole, days, counters, filters).items(), key=lambda item: item[0][1]
    ):
        bucket = buckets.setdefault(month_start(period), dict(empty))
        for name in counters:
            bucket[name] += values[name]
    months, month = [], month_start(f.start)
    while month <= f.end:
        months.append((month, buckets.get(month, dict(empty))))
        month = next_month(month)
    return "month", months


def _same_filters(query, f: Filters):
    if f.departments is not None:
        query = query.filter(department_id__in=f.departments)
    if f.department is not None:
        query = query.filter(department_id__in=_department_ids(f.department))
    if query.model is ServiceStat:
        if f.service:
            query = query.filter(service_code=f.service)
    elif f.district is not None:
        query = query.filter(district=f.district)
    return query


def proactive_by_rule(f: Filters) -> list[dict]:
    from tongban.proactive.models import ProactiveRule

    rows = (
        ProactiveStat.objects.filter(period_q(f.start, f.end, ProactiveStat))
        .values("rule_code")
        .annotate(**_sums(PROACTIVE_COUNTERS))
        .order_by("rule_code")
    )
    rules = {r.code: r for r in ProactiveRule.objects.filter(code__in=[r["rule_code"] for r in rows])}
    return [
        {
            "code": r["rule_code"],
            "name": rules[r["rule_code"]].name if r["rule_code"] in rules else r["rule_code"],
            "counters": _clean(r, PROACTIVE_COUNTERS),
        }
        for r in rows
    ]


def service_versions(code: str) -> list[dict]:
    """The versions of a service with its measured reform figures before and after each change (the first version
    also covers the cases before the first catalogue snapshot, whose catalogue is not known otherwise)."""
    versions = list(ServiceVersion.objects.filter(service_code=code).order_by("number"))
    result = []
    for index, version in enumerate(versions):
        until = versions[index + 1].valid_from - dt.timedelta(days=1) if index + 1 < len(versions) else None
        query = ServiceStat.objects.filter(grain=Grain.DAY, service_code=code)
        if index:  # the first version also stands for the time before the first snapshot
            query = query.filter(period__gte=version.valid_from)
        if until is not None:
            query = query.filter(period__lte=until)
        measured = formulas.reform(_clean(query.aggregate(**_sums(CASE_COUNTERS)), CASE_COUNTERS))
        result.append({"version": version, "until": until, "measured": measured})
    return result


def reports_list():
    return MonthlyReport.objects.order_by("-month")


def report_get(month: dt.date) -> MonthlyReport | None:
    return MonthlyReport.objects.filter(month=month).first()


# --- the headline, for the open-data page and ``tongban simulate`` ------------------------------------------


def indicators_headline(start: dt.date, end: dt.date) -> dict:
    """The city's headline indicators for the days ``start`` to ``end`` (inclusive), from the aggregate rows.

    A flat dict of numbers (None where there is no data), no personal data: the five national indicators (0–100),
    the reform measures, 好差评, the hotline's and the proactive services' figures. ``tongban simulate`` prints it
    in its JSON summary; the open-data page shows it. Recompute the rows first for records written without the
    worker (``days_recompute``).
    """
    f = Filters(start=start, end=end)
    c = totals(f)
    result = {"start": start.isoformat(), "end": end.isoformat()}
    result.update(formulas.national(c, snapshot(f)))
    result.update({f"reform_{k}": v for k, v in formulas.reform(c).items()})
    rating = formulas.ratings(c)
    result.update(
        {
            "ratings": rating["ratings"],
            "ratings_good_pct": rating["good_pct"],
            "ratings_bad_pct": rating["bad_pct"],
            "rectification_on_time_pct": rating["rectification_on_time_pct"],
        }
    )
    result.update({f"hotline_{k}": v for k, v in formulas.hotline(c).items()})
    pro = dict.fromkeys(PROACTIVE_COUNTERS, 0)
    for row in proactive_by_rule(f):
        for name, value in row["counters"].items():
            pro[name] += value
    result.update({f"proactive_{k}": v for k, v in formulas.proactive(pro).items()})
    result.update(
        {
            "cases_submitted": c["cases_submitted"],
            "cases_completed": c["cases_completed"],
            "warnings_yellow": c["warnings_yellow"],
            "warnings_red": c["warnings_red"],
        }
    )
    return result
