"""Writing the aggregate rows (指标计算): one day from the raw records, the month from its days.

``day_compute(day)`` reads the records of one day (Asia/Shanghai) from the owning apps' tables — cases by their
submission and closing, ratings, rectifications, warnings, hotline tickets and their steps, proactive offers —
and replaces that day's rows; ``month_rollup(month)`` replaces the month's rows with the sums of its day rows.
The worker refreshes yesterday and today every hour (``tasks``); ``tongban indicators recompute`` runs the same
functions over any range, so the incremental rows and the recomputed ones are the same by construction (and a
test holds them equal).

The reads are aggregates over another app's rows, which no owner selector offers (as ``supervision``'s
compliance reads ``cases.Case``); nothing here writes outside this app. No personal data leaves the reads: only
department, district, service and counts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate

from tongban.cases.models import Case, CaseMaterial, SupplementRequest
from tongban.catalog.models import (
    Bundle,
    HandlingMode,
    Material,
    OnlineDepth,
    PublicationStatus,
    SatisfiedBy,
    ServiceItem,
)
from tongban.core import calendar
from tongban.evaluation.models import Rating
from tongban.hotline.models import Ticket, TicketStep
from tongban.identity.models import Department
from tongban.proactive.models import Offer
from tongban.supervision.models import Rectification, Warning

from . import sums
from .models import (
    CASE_COUNTERS,
    PROACTIVE_COUNTERS,
    STAT_COUNTERS,
    CatalogSnapshot,
    Grain,
    ProactiveStat,
    ServiceStat,
    ServiceVersion,
    Stat,
)

DATA_ORIGINS = (CaseMaterial.Origin.REGISTRY, CaseMaterial.Origin.LICENCE)
GOOD_LEVELS = (Rating.Level.SATISFIED, Rating.Level.VERY_SATISFIED)
ONLINE_CHANNELS = (Case.Channel.ONLINE, Case.Channel.API, Case.Channel.PROACTIVE)


def day_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=calendar.SHANGHAI)
    return start, start + dt.timedelta(days=1)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


# --- reference maps -------------------------------------------------------------------------------------


class Reference:
    """Departments' districts and the catalogue's attributes, read once per computation."""

    def __init__(self):
        self.department_district = dict(
            Department.objects.filter(level=Department.Level.DISTRICT).values_list("pk", "admin_unit_id")
        )
        self.items = {}
        for pk, code, depth, modes in ServiceItem.objects.values_list(
            "pk", "code", "online_depth", "handling_modes"
        ):
            self.items[pk] = (
                code,
                depth == OnlineDepth.FULL,
                len(set(modes or []) & set(HandlingMode.values)),
            )
        self.bundles = {}
        members = defaultdict(list)
        for bundle_id, item_id in Bundle.items.through.objects.values_list("bundle_id", "item_id"):
            members[bundle_id].append(self.items.get(item_id))
        for pk, code in Bundle.objects.values_list("pk", "code"):
            parts = [m for m in members.get(pk, []) if m]
            full = bool(parts) and all(m[1] for m in parts)
            modes = min((m[2] for m in parts), default=0)
            self.bundles[pk] = (code, full, modes)

    def service(self, item_id, bundle_id) -> tuple[str, str, bool, int]:
        if item_id is not None:
            code, full, modes = self.items.get(item_id, ("", False, 0))
            return "item", code, full, modes
        code, full, modes = self.bundles.get(bundle_id, ("", False, 0))
        return "bundle", code, full, modes

    def district(self, district_id, department_id):
        return district_id if district_id is not None else self.department_district.get(department_id)


class Accumulator:
    """Counters by key, for the rows of one day."""

    def __init__(self):
        self.stat = defaultdict(lambda: defaultdict(int))  # (department, district) -> counters
        self.service = defaultdict(lambda: defaultdict(int))  # (kind, code, department) -> counters
        self.proactive = defaultdict(lambda: defaultdict(int))  # rule code -> counters

    def add(self, department, district, counters: dict, service=None):
        row = self.stat[department, district]
        for name, value in counters.items():
            row[name] += value
        if service is not None and service[1]:
            row = self.service[service[0], service[1], department]
            for name, value in counters.items():
                if name in CASE_COUNTERS:
                    row[name] += value


# --- the sources ----------------------------------------------------------------------------------------


def _cases_submitted(acc: Accumulator, ref: Reference, start, end):
    rows = (
        Case.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
        .values("lead_department_id", "jurisdiction_district_id", "item_id", "bundle_id", "channel")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        kind, code, full, modes = ref.service(row["item_id"], row["bundle_id"])
        n = row["n"]
        acc.add(
            row["lead_department_id"],
            ref.district(row["jurisdiction_district_id"], row["lead_department_id"]),
            {
                "cases_submitted": n,
                "cases_online": n if row["channel"] in ONLINE_CHANNELS else 0,
                "cases_full_online_item": n if full else 0,
                "item_modes_sum": n * modes,
            },
            (kind, code),
        )


def _cases_closed(acc: Accumulator, ref: Reference, start, end):
    materials = (
        CaseMaterial.objects.filter(case=OuterRef("pk"), superseded=False)
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    from_data = (
        CaseMaterial.objects.filter(case=OuterRef("pk"), superseded=False, origin__in=DATA_ORIGINS)
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        Case.objects.filter(closed_at__gte=start, closed_at__lt=end, status__in=Case.CLOSED_STATUSES)
        .annotate(
            n_materials=Coalesce(Subquery(materials, output_field=IntegerField()), 0),
            n_from_data=Coalesce(Subquery(from_data, output_field=IntegerField()), 0),
            supplemented=Exists(SupplementRequest.objects.filter(case=OuterRef("pk"))),
        )
        .values_list(
            "lead_department_id",
            "jurisdiction_district_id",
            "item_id",
            "bundle_id",
            "status",
            "closed_at",
            "due_date",
            "promised_limit_days",
            "legal_limit_days",
            "working_days",
            "paused_working_days",
            "visits",
            "steps",
            "n_materials",
            "n_from_data",
            "supplemented",
        )
        .order_by()
    )
    for (
        department,
        district,
        item_id,
        bundle_id,
        status,
        closed_at,
        due_date,
        promised,
        legal,
        working,
        paused,
        visits,
        steps,
        n_materials,
        n_from_data,
        supplemented,
    ) in rows.iterator(chunk_size=5000):
        kind, code, _full, _modes = ref.service(item_id, bundle_id)
        district = ref.district(district, department)
        if status == Case.Status.REJECTED:
            acc.add(department, district, {"cases_refused": 1}, (kind, code))
            continue
        if status == Case.Status.WITHDRAWN:
            acc.add(department, district, {"cases_withdrawn": 1}, (kind, code))
            continue
        actual = max(0, (working or 0) - (paused or 0))
        if due_date is not None:
            on_time = closed_at.astimezone(calendar.SHANGHAI).date() <= due_date
        else:
            on_time = actual <= promised
        acc.add(
            department,
            district,
            {
                "cases_completed": 1,
                "completed_on_time": int(on_time),
                "completed_no_visit": int(not visits),
                "completed_supplemented": int(bool(supplemented)),
                "legal_days_sum": legal,
                "promised_days_sum": promised,
                "working_days_sum": actual,
                "visits_sum": visits,
                "materials_sum": n_materials,
                "materials_data_sum": n_from_data,
                "steps_sum": steps,
            },
            (kind, code),
        )


def _case_places(case_ids) -> dict:
    """Case id -> (lead department, district, item, bundle) for the cases that ratings and warnings name."""
    ids = [c for c in set(case_ids) if c is not None]
    places = {}
    for i in range(0, len(ids), 500):
        for row in Case.objects.filter(pk__in=ids[i : i + 500]).values_list(
            "pk", "lead_department_id", "jurisdiction_district_id", "item_id", "bundle_id"
        ):
            places[row[0]] = row[1:]
    return places


def _ratings(acc: Accumulator, ref: Reference, start, end):
    ratings = list(
        Rating.objects.filter(created_at__gte=start, created_at__lt=end).values_list(
            "case_id", "department_id", "level", "channel", "scores"
        )
    )
    places = _case_places(r[0] for r in ratings)
    for case_id, department, level, channel, scores in ratings:
        place = places.get(case_id)
        district = ref.district(place[1] if place else None, department)
        guide = (scores or {}).get("guide_accuracy") if channel == Rating.Channel.ONLINE else None
        good = level in GOOD_LEVELS
        online = channel == Rating.Channel.ONLINE
        acc.add(
            department,
            district,
            {
                "ratings": 1,
                f"ratings_{level}": 1,
                "ratings_online": int(online),
                "ratings_online_good": int(online and good),
                "ratings_window": int(not online),
                "ratings_window_good": int(not online and good),
                "guide_score_sum": guide if isinstance(guide, int) and 1 <= guide <= 5 else 0,
                "guide_score_count": int(isinstance(guide, int) and 1 <= guide <= 5),
            },
        )


def _rectifications(acc: Accumulator, ref: Reference, start, end):
    opened = list(
        Rectification.objects.filter(created_at__gte=start, created_at__lt=end).values_list(
            "case_id", "department_id"
        )
    )
    closed = list(
        Rectification.objects.filter(
            closed_at__gte=start, closed_at__lt=end, status=Rectification.Status.CLOSED
        ).values_list("case_id", "department_id", "closed_at", "due_date")
    )
    places = _case_places([r[0] for r in opened] + [r[0] for r in closed])
    for case_id, department in opened:
        place = places.get(case_id)
        acc.add(
            department, ref.district(place[1] if place else None, department), {"rectifications_opened": 1}
        )
    for case_id, department, closed_at, due in closed:
        place = places.get(case_id)
        on_time = closed_at.astimezone(calendar.SHANGHAI).date() <= due
        acc.add(
            department,
            ref.district(place[1] if place else None, department),
            {"rectifications_closed": 1, "rectifications_closed_on_time": int(on_time)},
        )


def _warnings(acc: Accumulator, ref: Reference, start, end):
    warnings = list(
        Warning.objects.filter(raised_at__gte=start, raised_at__lt=end).values_list(
            "subject_type", "subject_id", "case_id", "department_id", "level"
        )
    )
    places = _case_places(w[2] for w in warnings)
    ticket_ids = [w[1] for w in warnings if w[0] == Warning.SubjectType.TICKET]
    ticket_districts = dict(Ticket.objects.filter(pk__in=ticket_ids).values_list("pk", "district_id"))
    for subject_type, subject_id, case_id, department, level in warnings:
        if subject_type == Warning.SubjectType.TICKET:
            district = ref.district(ticket_districts.get(subject_id), department)
        else:
            place = places.get(case_id)
            district = ref.district(place[1] if place else None, department)
        acc.add(department, district, {f"warnings_{level}": 1})


def _tickets(acc: Accumulator, ref: Reference, start, end):
    # A ticket taken counts for its district only: its department is not known until a dispatcher routes it,
    # maybe days later, and a row must not change after its day. Replies, reopenings and mergings count for
    # the department their step names; the call-back for the department of the closed ticket.
    created = (
        Ticket.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("district_id")
        .annotate(n=Count("pk"), first=Count("pk", filter=Q(status=Ticket.Status.ANSWERED)))
        .order_by()
    )
    for row in created:
        acc.add(None, row["district_id"], {"tickets": row["n"], "tickets_first_contact": row["first"]})
    closed = (
        Ticket.objects.filter(closed_at__gte=start, closed_at__lt=end, satisfaction__isnull=False)
        .values("department_id", "district_id")
        .annotate(n=Count("pk"), total=Sum("satisfaction"))
        .order_by()
    )
    for row in closed:
        acc.add(
            row["department_id"],
            ref.district(row["district_id"], row["department_id"]),
            {"tickets_closed": row["n"], "satisfaction_sum": row["total"], "satisfaction_count": row["n"]},
        )
    steps = TicketStep.objects.filter(at__gte=start, at__lt=end, kind__in=("replied", "reopened", "merged"))
    for kind, at, step_department, department, district, due in steps.values_list(
        "kind", "at", "department_id", "ticket__department_id", "ticket__district_id", "ticket__due_date"
    ).iterator(chunk_size=5000):
        department = step_department or department
        district = ref.district(district, department)
        if kind == "replied":
            on_time = due is None or at.astimezone(calendar.SHANGHAI).date() <= due
            acc.add(department, district, {"tickets_replied": 1, "tickets_replied_on_time": int(on_time)})
        elif kind == "reopened":
            acc.add(department, district, {"tickets_reopened": 1})
        else:
            acc.add(department, district, {"tickets_merged": 1})


def _offers(acc: Accumulator, start, end):
    made = Offer.objects.filter(created_at__gte=start, created_at__lt=end).values_list(
        "rule__code", "status", "created_at", "life_event__occurred_on"
    )
    for rule, status, created_at, occurred_on in made.iterator(chunk_size=5000):
        row = acc.proactive[rule]
        row["offers"] += 1
        if status == Offer.Status.NOTIFIED:
            row["offers_notified"] += 1
        elif status == Offer.Status.GRANTED:
            row["offers_granted"] += 1
        else:
            row["offers_offered"] += 1  # offered, and later accepted, declined or expired
        if occurred_on is not None:
            row["lead_days_sum"] += max(
                0, (created_at.astimezone(calendar.SHANGHAI).date() - occurred_on).days
            )
            row["lead_count"] += 1
    decided = Offer.objects.filter(
        decided_at__gte=start,
        decided_at__lt=end,
        status__in=(Offer.Status.ACCEPTED, Offer.Status.DECLINED),
    ).values_list("rule__code", "status")
    for rule, status in decided:
        acc.proactive[rule][f"offers_{status}"] += 1


# --- writing ---------------------------------------------------------------------------------------------


def _nonzero(counters: dict) -> bool:
    return any(counters.values())


@transaction.atomic
def day_compute(day: dt.date, *, reference: Reference | None = None) -> dict:
    """Replace the day rows of ``day`` with what the raw records say; returns how many rows were written."""
    sums.clear()  # this process's slabs (a rolled-back rewrite must not stay cached either)
    ref = reference or Reference()
    start, end = day_window(day)
    acc = Accumulator()
    _cases_submitted(acc, ref, start, end)
    _cases_closed(acc, ref, start, end)
    _ratings(acc, ref, start, end)
    _rectifications(acc, ref, start, end)
    _warnings(acc, ref, start, end)
    _tickets(acc, ref, start, end)
    _offers(acc, start, end)
    Stat.objects.filter(grain=Grain.DAY, period=day).delete()
    ServiceStat.objects.filter(grain=Grain.DAY, period=day).delete()
    ProactiveStat.objects.filter(grain=Grain.DAY, period=day).delete()
    stats = [
        Stat(grain=Grain.DAY, period=day, department_id=dep, district_id=dis, **counters)
        for (dep, dis), counters in acc.stat.items()
        if _nonzero(counters)
    ]
    services = [
        ServiceStat(
            grain=Grain.DAY, period=day, service_kind=kind, service_code=code, department_id=dep, **counters
        )
        for (kind, code, dep), counters in acc.service.items()
        if _nonzero(counters)
    ]
    offers = [
        ProactiveStat(grain=Grain.DAY, period=day, rule_code=rule, **counters)
        for rule, counters in acc.proactive.items()
        if _nonzero(counters)
    ]
    Stat.objects.bulk_create(stats, batch_size=500)
    ServiceStat.objects.bulk_create(services, batch_size=500)
    ProactiveStat.objects.bulk_create(offers, batch_size=500)
    return {"stat": len(stats), "service": len(services), "proactive": len(offers)}


def _rollup(model, keys, counters, month):
    first, after = month, next_month(month)
    sums.clear()
    model.objects.filter(grain=Grain.MONTH, period=month).delete()
    rows = (
        model.objects.filter(grain=Grain.DAY, period__gte=first, period__lt=after)
        .values(*keys)
        .annotate(**{name: Sum(name) for name in counters})
        .order_by()
    )
    model.objects.bulk_create([model(grain=Grain.MONTH, period=month, **row) for row in rows], batch_size=500)


@transaction.atomic
def month_rollup(month: dt.date) -> None:
    """Replace the month rows of ``month`` (its first day) with the sums of its day rows."""
    month = month_start(month)
    _rollup(Stat, ("department_id", "district_id"), STAT_COUNTERS, month)
    _rollup(ServiceStat, ("service_kind", "service_code", "department_id"), CASE_COUNTERS, month)
    _rollup(ProactiveStat, ("rule_code",), PROACTIVE_COUNTERS, month)


SOURCES = (
    (Case, "submitted_at"),
    (Case, "closed_at"),
    (Rating, "created_at"),
    (Rectification, "created_at"),
    (Rectification, "closed_at"),
    (Warning, "raised_at"),
    (Ticket, "created_at"),
    (Ticket, "closed_at"),
    (TicketStep, "at"),
    (Offer, "created_at"),
    (Offer, "decided_at"),
)


def active_days(start: dt.date, end: dt.date) -> set[dt.date]:
    """The days from ``start`` to ``end`` on which any record the indicators count happened (one query a source)."""
    first, _ = day_window(start)
    _, after = day_window(end)
    days = set()
    for model, name in SOURCES:
        days.update(
            model.objects.filter(**{f"{name}__gte": first, f"{name}__lt": after})
            .annotate(day=TruncDate(name, tzinfo=calendar.SHANGHAI))
            .values_list("day", flat=True)
            .distinct()
            .order_by()
        )
    return days


def days_recompute(start: dt.date, end: dt.date, *, progress=None) -> int:
    """Recompute every day from ``start`` to ``end`` (inclusive) and the months they touch; returns the days.

    Days without any record only lose their rows; one transaction a month, so a long history is written without
    a commit per day."""
    ref = Reference()
    active = active_days(start, end)
    day, count = start, 0
    while day <= end:
        month = month_start(day)
        last = min(end, next_month(month) - dt.timedelta(days=1))
        with transaction.atomic():
            quiet = []
            while day <= last:
                if day in active:
                    day_compute(day, reference=ref)
                else:
                    quiet.append(day)
                count += 1
                if progress is not None:
                    progress(1)
                day += dt.timedelta(days=1)
            for model in (Stat, ServiceStat, ProactiveStat):
                model.objects.filter(grain=Grain.DAY, period__in=quiet).delete()
            month_rollup(month)
    return count


def history_bounds() -> tuple[dt.date, dt.date] | None:
    """The first and last day on which any record the indicators count happened (None on an empty city)."""
    firsts, lasts = [], []
    for model, field in (
        (Case, "submitted_at"),
        (Case, "closed_at"),
        (Ticket, "created_at"),
        (Rating, "created_at"),
        (Warning, "raised_at"),
        (Offer, "created_at"),
    ):
        query = (
            model.objects.exclude(**{f"{field}__isnull": True}).order_by(field).values_list(field, flat=True)
        )
        first = query.first()
        last = query.reverse().first() if first is not None else None
        if first is not None:
            firsts.append(first.astimezone(calendar.SHANGHAI).date())
            lasts.append(last.astimezone(calendar.SHANGHAI).date())
    if not firsts:
        return None
    return min(firsts), max(max(lasts), calendar.today())


# --- the catalogue ---------------------------------------------------------------------------------------


GUIDE_FIELDS = ("legal_basis", "conditions", "procedure", "location", "phone")


def _steps_of(procedure: str) -> int:
    return len([line for line in (procedure or "").splitlines() if line.strip()])


def catalog_snapshot(day: dt.date) -> int:
    """Record each department's published catalogue on ``day`` and a new version of every service whose
    reform measures changed; returns the number of new versions."""
    materials = defaultdict(lambda: [0, 0])
    for item_id, satisfied_by in Material.objects.values_list("item_id", "satisfied_by"):
        materials[item_id][0] += 1
        materials[item_id][1] += int(satisfied_by in (SatisfiedBy.REGISTRY, SatisfiedBy.LICENCE))
    per_department = defaultdict(lambda: defaultdict(int))
    measures = {}
    items = ServiceItem.objects.filter(status=PublicationStatus.PUBLISHED).values(
        "pk",
        "code",
        "department_id",
        "online_depth",
        "handling_modes",
        "legal_limit_days",
        "promised_limit_days",
        "visits_required",
        "procedure",
        *GUIDE_FIELDS,
    )
    by_pk = {}
    for item in items:
        by_pk[item["pk"]] = item
        row = per_department[item["department_id"]]
        modes = set(item["handling_modes"] or [])
        asked, from_data = materials[item["pk"]]
        row["items_published"] += 1
        row["items_online_apply"] += int(item["online_depth"] >= OnlineDepth.APPLY)
        row["items_full_online"] += int(item["online_depth"] == OnlineDepth.FULL)
        row["items_multi_channel"] += int(HandlingMode.ONLINE in modes and len(modes) > 1)
        row["items_guide_complete"] += int(all(str(item[f]).strip() for f in GUIDE_FIELDS))
        row["materials"] += asked
        row["materials_from_data"] += from_data
        measures["item", item["code"]] = (
            item["legal_limit_days"],
            item["promised_limit_days"],
            item["visits_required"],
            asked,
            from_data,
            _steps_of(item["procedure"]),
            item["online_depth"],
        )
    members = defaultdict(list)
    for bundle_id, item_id in Bundle.items.through.objects.values_list("bundle_id", "item_id"):
        members[bundle_id].append(item_id)
    for bundle in Bundle.objects.filter(status=PublicationStatus.PUBLISHED).values(
        "pk", "code", "legal_limit_days", "promised_limit_days", "visits_required"
    ):
        parts = [by_pk[i] for i in members[bundle["pk"]] if i in by_pk]
        measures["bundle", bundle["code"]] = (
            bundle["legal_limit_days"],
            bundle["promised_limit_days"],
            bundle["visits_required"],
            sum(materials[p["pk"]][0] for p in parts),
            sum(materials[p["pk"]][1] for p in parts),
            sum(_steps_of(p["procedure"]) for p in parts),
            min((p["online_depth"] for p in parts), default=OnlineDepth.INFORMATION),
        )
    with transaction.atomic():
        CatalogSnapshot.objects.filter(day=day).delete()
        CatalogSnapshot.objects.bulk_create(
            [CatalogSnapshot(day=day, department_id=dep, **row) for dep, row in per_department.items()]
        )
        latest = {}
        for version in ServiceVersion.objects.order_by("service_code", "number"):
            latest[version.service_kind, version.service_code] = version
        new = []
        for (kind, code), values in measures.items():
            last = latest.get((kind, code))
            if last is not None and last.measures() == values:
                continue
            if last is not None and last.valid_from >= day:
                # One version a day: a second change on the day of the first corrects that version.
                for name, value in zip(ServiceVersion.MEASURES, values, strict=True):
                    setattr(last, name, value)
                last.save()
                continue
            new.append(
                ServiceVersion(
                    service_kind=kind,
                    service_code=code,
                    number=(last.number + 1) if last else 1,
                    valid_from=day,
                    **dict(zip(ServiceVersion.MEASURES, values, strict=True)),
                )
            )
        ServiceVersion.objects.bulk_create(new)
    return len(new)


def indicators_refresh(*, today: dt.date | None = None) -> dict:
    """The worker's job: yesterday's and today's rows, their months, and today's catalogue snapshot."""
    today = today or calendar.today()
    yesterday = today - dt.timedelta(days=1)
    ref = Reference()
    written = {"yesterday": day_compute(yesterday, reference=ref), "today": day_compute(today, reference=ref)}
    for month in {month_start(yesterday), month_start(today)}:
        month_rollup(month)
    written["versions"] = catalog_snapshot(today)
    return written
