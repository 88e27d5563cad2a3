"""The 12345 hotline's analytics: hotspots (热点), spikes (突发风险) and blind spots (知识盲区).

Reads count in the database (grouped ``Count`` over a ``created_at`` window, days in Asia/Shanghai through
``TruncDate``), never row by row in Python, so they hold at city scale (about 25,000 tickets a day); the same on
SQLite and PostgreSQL. ``spikes_detect`` is the one write: it records a ``SpikeAlert`` with its audit entry and
its ``hotline.spike`` event in one transaction.

Who sees what: a city-wide role holding ``supervision.view`` (a supervisor) counts every ticket; a department
head counts the tickets of their department (and, for a municipal head, of its district branches) — pass
``departments=analytics_scope(user)``. Blind spots are about the knowledge base, not about a department's
work, and are counted city-wide (a consultation answered at first contact has no department at all).

Definitions and numbers: ``docs/hotline-analytics.md``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections import defaultdict

from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongban.core import calendar
from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.core.events import event_emit
from tongban.identity.models import AdminUnit, Department
from tongban.identity.permissions import permission_scope

from .corpus import topic_label
from .models import SpikeAlert, Ticket

HOTSPOT_DAYS = 30
SERIES_TOPICS = 5  # topics drawn over time
# Spikes: today's count of a topic in a district against the previous 28 days (zeros included).
BASELINE_DAYS = 28
MIN_COUNT = 5
SIGMAS = 3.0
MIN_RATIO = 2.0
SPIKE_RECENT_DAYS = 7
# Blind spots: topics with at least this many consultations in the period ...
MIN_CONSULTATIONS = 20
# ... answered at first contact less often than this share ("unclear") ...
UNCLEAR_SHARE = 0.5
# ... or for whose typical questions (this many recent consultations) the knowledge base finds an answer for
# fewer than half, while operators answered fewer than half of those they answered with an FAQ entry or a
# guide ("missing": what operators use is there, even if a caller's words do not find it).
SAMPLES = 3
USED_SHARE = 0.5
REASONS = {
    "missing": gettext_lazy(
        "No FAQ entry or service guide answers its typical questions, and operators rarely answer it with one."
    ),
    "unclear": gettext_lazy("Fewer than half are answered at first contact: the answer may be unclear."),
}
KNOWLEDGE_CACHE_SECONDS = 6 * 3600
# Words of a guide's name that say nothing about what it is for (the catalogue search falls back to any shared
# token, so a guide counts only when its name shares a word other than these with the question).
GENERIC_WORDS = frozenset(
    {
        "上海",
        "上海市",
        "一件",
        "一件事",
        "办理",
        "申请",
        "申领",
        "申报",
        "登记",
        "许可",
        "核发",
        "证明",
        "设立",
        "变更",
        "注册",
        "备案",
        "服务",
        "管理",
        "事项",
        "办事",
        "指南",
    }
)


# --- scope and window ----------------------------------------------------------------------------------------


def analytics_scope(user, perm: str = "supervision.view") -> frozenset | None:
    """The ids of the departments whose tickets ``user`` may count with ``perm``: None for the whole city (the
    rule of ``identity.permissions.permission_scope``, which supervision's pages use too)."""
    return permission_scope(user, perm)


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=calendar.SHANGHAI)


def _window(today: dt.date, days: int) -> tuple[dt.datetime, dt.datetime]:
    """From the start of the first of ``days`` days ending with ``today`` to the end of ``today`` (Shanghai)."""
    return _start_of(today - dt.timedelta(days=days - 1)), _start_of(today + dt.timedelta(days=1))


def _tickets(departments=None):
    query = Ticket.objects.all()
    if departments is not None:
        query = query.filter(department_id__in=list(departments))
    return query


def _day():
    return TruncDate("created_at", tzinfo=calendar.SHANGHAI)


# --- now: open tickets, warnings, supervision, extensions ------------------------------------------------------


def ticket_watch(*, departments=None) -> dict:
    """Open tickets now and, among them, yellow warnings, red cards, supervised ones (督办) and extension
    requests waiting for a decision: one grouped query."""
    return (
        _tickets(departments)
        .filter(status__in=Ticket.OPEN)
        .aggregate(
            open=Count("pk"),
            yellow=Count("pk", filter=Q(warning="yellow")),
            red=Count("pk", filter=Q(warning="red")),
            supervised=Count("pk", filter=Q(supervised_at__isnull=False)),
            extensions=Count("pk", filter=Q(extension=Ticket.Extension.REQUESTED)),
        )
    )


def tickets_needing_attention(*, departments=None, limit: int = 10) -> list[Ticket]:
    """Open tickets with a red card, under supervision or waiting for an extension: red first, then the
    longest overdue."""
    query = (
        _tickets(departments)
        .filter(status__in=Ticket.OPEN)
        .filter(Q(warning="red") | Q(supervised_at__isnull=False) | Q(extension=Ticket.Extension.REQUESTED))
        .select_related("department", "district")
        .order_by(
            Case(When(warning="red", then=Value(0)), default=Value(1), output_field=IntegerField()),
            F("due_date").asc(nulls_last=True),
            "created_at",
        )
    )
    tickets = list(query[:limit])
    for ticket in tickets:
        ticket.topic_label = topic_label(ticket.topic)
    return tickets


# --- hotspots ------------------------------------------------------------------------------------------------


def hotspots(*, days: int = HOTSPOT_DAYS, today: dt.date | None = None, departments=None) -> dict:
    """Tickets of the last ``days`` days (today included) by topic, by department, by district, and a per-day
    series of the ``SERIES_TOPICS`` busiest topics.

    City-wide, a district branch counts to its municipal department; for a department scope (``departments``)
    each department of the scope has its own row. Tickets without a topic, department or district have a row
    of their own (code ``None`` or ``""``). Two grouped queries over the window, whatever its size.
    """
    today = today or calendar.today()
    start, end = _window(today, days)
    window = _tickets(departments).filter(created_at__gte=start, created_at__lt=end)
    owner = (
        F("department_id") if departments is not None else Coalesce("department__parent_id", "department_id")
    )
    grouped = (
        window.annotate(owner=owner)
        .values("topic", "owner", "district_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_topic: dict = defaultdict(int)
    by_department: dict = defaultdict(int)
    by_district: dict = defaultdict(int)
    total = 0
    for row in grouped:
        by_topic[row["topic"]] += row["n"]
        by_department[row["owner"]] += row["n"]
        by_district[row["district_id"]] += row["n"]
        total += row["n"]

    names = Department.objects.in_bulk([pk for pk in by_department if pk is not None])
    places = AdminUnit.objects.in_bulk([pk for pk in by_district if pk is not None])
    topics = [
        {"topic": code, "label": topic_label(code) or _("Not classified"), "count": n}
        for code, n in _ranked(by_topic)
    ]
    department_rows = [
        {
            "department": names[pk].code if pk is not None else None,
            "name": names[pk].name if pk is not None else _("No department (answered or waiting)"),
            "count": n,
        }
        for pk, n in _ranked(by_department)
    ]
    district_rows = [
        {
            "district": places[pk].code if pk is not None else None,
            "name": _place_name(places[pk]) if pk is not None else _("District not given"),
            "count": n,
        }
        for pk, n in _ranked(by_district)
    ]
    top = [row["topic"] for row in topics if row["topic"]][:SERIES_TOPICS]
    return {
        "today": today,
        "days": days,
        "since": start.date(),
        "total": total,
        "topics": topics,
        "departments": department_rows,
        "districts": district_rows,
        "series": _series(window, top, start.date(), days),
    }


def _ranked(counts: dict) -> list[tuple]:
    return sorted(counts.items(), key=lambda item: (-item[1], str(item[0] or "~")))


def _place_name(unit: AdminUnit) -> str:
    from django.utils.translation import get_language

    return unit.name_en if (get_language() or "").startswith("en") and unit.name_en else unit.name


def _series(window, topics: list[str], first: dt.date, days: int) -> dict:
    """Tickets a day of each topic of ``topics``, zeros filled in: ``{"days": [...], "topics": [...]}``."""
    day_list = [first + dt.timedelta(days=i) for i in range(days)]
    counts = {topic: [0] * days for topic in topics}
    if topics:
        rows = (
            window.filter(topic__in=topics)
            .annotate(day=_day())
            .values("topic", "day")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in rows:
            index = (row["day"] - first).days
            if 0 <= index < days:
                counts[row["topic"]][index] += row["n"]
    return {
        "days": day_list,
        "topics": [
            {
                "topic": topic,
                "label": topic_label(topic),
                "counts": counts[topic],
                "total": sum(counts[topic]),
            }
            for topic in topics
        ],
    }


# --- spikes --------------------------------------------------------------------------------------------------


def spike_threshold(mean: float, std: float) -> float:
    """The count from which a day is a spike: at least ``MIN_COUNT``, ``SIGMAS`` standard deviations above
    the mean, and ``MIN_RATIO`` times the mean."""
    return max(MIN_COUNT, mean + SIGMAS * std, MIN_RATIO * mean)


def _baseline(today: dt.date, pairs: set[tuple[str, object]]) -> dict:
    """(topic, district id) → (mean, std) of the daily counts of the ``BASELINE_DAYS`` days before ``today``,
    days without a ticket counted as zero."""
    start, end = _start_of(today - dt.timedelta(days=BASELINE_DAYS)), _start_of(today)
    rows = (
        Ticket.objects.filter(
            created_at__gte=start,
            created_at__lt=end,
            topic__in={topic for topic, _district in pairs},
            district_id__in={district for _topic, district in pairs},
        )
        .annotate(day=_day())
        .values("topic", "district_id", "day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    sums: dict = defaultdict(lambda: [0, 0])
    for row in rows:
        key = (row["topic"], row["district_id"])
        if key in pairs:
            sums[key][0] += row["n"]
            sums[key][1] += row["n"] * row["n"]
    result = {}
    for key in pairs:
        total, squares = sums.get(key, (0, 0))
        mean = total / BASELINE_DAYS
        result[key] = (mean, math.sqrt(max(squares / BASELINE_DAYS - mean * mean, 0.0)))
    return result


def spikes_detect(*, today: dt.date | None = None, actor: Actor = SYSTEM) -> list[SpikeAlert]:
    """Raise a spike alert for each topic in a district whose tickets today exceed its usual level.

    Today's count of a (topic, district) is compared with the mean and standard deviation of its daily
    counts over the previous 28 days (zeros included): a spike when ``count >= max(5, mean + 3·std)`` and
    ``count >= 2·mean``. Each spike is recorded once (unique topic, district and day), audited
    (``hotline.spike``) and announced (event ``hotline.spike``) in the same transaction. Idempotent: a rerun
    returns only the alerts it newly raised. Two grouped queries however many tickets.
    """
    today = today or calendar.today()
    start, end = _window(today, 1)
    candidates = {
        (row["topic"], row["district_id"]): row["n"]
        for row in Ticket.objects.filter(created_at__gte=start, created_at__lt=end, district__isnull=False)
        .exclude(topic="")
        .values("topic", "district_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=MIN_COUNT)
        .order_by()
    }
    if not candidates:
        return []
    baseline = _baseline(today, set(candidates))
    spikes = []
    for key, count in sorted(candidates.items(), key=lambda item: (-item[1], item[0][0], str(item[0][1]))):
        mean, std = baseline[key]
        if count >= spike_threshold(mean, std):
            spikes.append((key, count, mean, std))
    if not spikes:
        return []
    districts = AdminUnit.objects.in_bulk([district for (_topic, district), *_rest in spikes])
    now = timezone.now()
    created = []
    with transaction.atomic():
        for (topic, district_id), count, mean, std in spikes:
            alert, new = SpikeAlert.objects.get_or_create(
                topic=topic,
                district_id=district_id,
                day=today,
                defaults={"count": count, "baseline": round(mean, 2), "raised_at": now},
            )
            if not new:
                continue
            district = districts[district_id]
            details = {
                "topic": topic,
                "district": district.code,
                "day": today.isoformat(),
                "count": count,
                "mean": round(mean, 2),
                "std": round(std, 2),
                "threshold": round(spike_threshold(mean, std), 2),
            }
            audit_record(
                actor=actor,
                action="hotline.spike",
                subject_type="spike_alert",
                subject_id=str(alert.pk),
                details=details,
            )
            event_emit(
                "hotline.spike",
                {"alert": alert.pk, **details},
                subject_type="spike_alert",
                subject_id=alert.pk,
            )
            alert.district = district
            created.append(alert)
    return created


def spikes_recent(
    days: int = SPIKE_RECENT_DAYS, *, today: dt.date | None = None, departments=None
) -> list[SpikeAlert]:
    """Spike alerts of the last ``days`` days, newest and biggest first, each with its ``topic_label``.

    For a department scope, only the spikes to which a ticket of those departments belongs.
    """
    today = today or calendar.today()
    first = today - dt.timedelta(days=days - 1)
    alerts = list(
        SpikeAlert.objects.filter(day__gte=first, day__lte=today)
        .select_related("district")
        .order_by("-day", "-count", "topic")
    )
    if departments is not None and alerts:
        start, end = _window(today, days)
        theirs = {
            (row["topic"], row["district_id"], row["day"])
            for row in _tickets(departments)
            .filter(
                created_at__gte=start,
                created_at__lt=end,
                topic__in={a.topic for a in alerts},
                district_id__in={a.district_id for a in alerts},
            )
            .annotate(day=_day())
            .values("topic", "district_id", "day")
            .distinct()
            .order_by()
        }
        alerts = [a for a in alerts if (a.topic, a.district_id, a.day) in theirs]
    for alert in alerts:
        alert.topic_label = topic_label(alert.topic)
        alert.district_name = _place_name(alert.district)
    return alerts


# --- blind spots ---------------------------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    from tongban.catalog.text import tokenize

    return {word for word in tokenize(text) if len(word) >= 2}


def _relevant(hit: dict, words: set[str]) -> bool:
    """Whether a knowledge-base hit answers a question: an FAQ entry (its search already asks for half the
    question's words), or a service guide whose name shares a word other than a generic one with it."""
    if hit.get("kind") == "faq":
        return True
    return bool((_words(hit.get("name") or "") - GENERIC_WORDS) & words)


def knowledge_found(text: str) -> list[dict]:
    """The FAQ entries and service guides that answer ``text`` (``selectors.knowledge_for``, its loose matches
    dropped), as ``{"kind", "code", "name", "url"}``. Cached per text for a few hours: the search costs tens
    of milliseconds and a topic's samples stay the same through the day."""
    key = "hotline:knowledge:" + hashlib.sha256(text.encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        from .selectors import knowledge_for

        words = _words(text)
        found = [
            {"kind": hit["kind"], "code": hit["code"], "name": hit["name"], "url": hit.get("url") or ""}
            for hit in knowledge_for(text)
            if _relevant(hit, words)
        ]
        cache.set(key, found, KNOWLEDGE_CACHE_SECONDS)
    return found


def _samples(consultations, topic: str, today_start: dt.datetime, count: int) -> list[str]:
    """The typical questions of a topic: its latest consultations before today (stable through the day, so
    the knowledge search is cached), or today's when there are none yet."""
    of_topic = consultations.filter(topic=topic).order_by("-created_at", "pk").values_list("text", flat=True)
    texts = list(of_topic.filter(created_at__lt=today_start)[:count])
    return texts or list(of_topic[:count])


def blind_spots(
    *,
    days: int = HOTSPOT_DAYS,
    min_consultations: int = MIN_CONSULTATIONS,
    today: dt.date | None = None,
    samples: int = SAMPLES,
) -> list[dict]:
    """Topics on which citizens ask a lot and the hotline cannot answer well, for the service designers.

    Per topic with at least ``min_consultations`` consultations in the last ``days`` days: how many, how many
    answered at first contact (status ``answered``), answered with an FAQ entry, pointed to a service guide.
    A topic is listed when the knowledge base finds no FAQ entry or guide for most of its typical questions
    and operators rarely answer it with one (reason ``missing``), or when fewer than half are answered at
    first contact (reason ``unclear``); both may hold. Most consultations first. One grouped query, then one small query and a cached search per topic.
    """
    today = today or calendar.today()
    start, end = _window(today, days)
    consultations = Ticket.objects.filter(
        ticket_type=Ticket.Type.CONSULT, created_at__gte=start, created_at__lt=end
    ).exclude(topic="")
    rows = (
        consultations.values("topic")
        .annotate(
            consultations=Count("pk"),
            answered=Count("pk", filter=Q(status=Ticket.Status.ANSWERED)),
            with_faq=Count("pk", filter=Q(faq__isnull=False)),
            with_guide=Count("pk", filter=~Q(service_code="")),
            with_knowledge=Count("pk", filter=Q(faq__isnull=False) | ~Q(service_code="")),
        )
        .filter(consultations__gte=max(min_consultations, 1))
        .order_by("-consultations", "topic")
    )
    today_start = _start_of(today)
    result = []
    for row in rows:
        texts = _samples(consultations, row["topic"], today_start, samples)
        answers = [knowledge_found(text) for text in texts]
        found = sum(1 for hits in answers if hits)
        share = row["answered"] / row["consultations"]
        used = row["with_knowledge"] / row["answered"] if row["answered"] else 0.0
        reasons = []
        if found * 2 < len(texts) and used < USED_SHARE:
            reasons.append("missing")
        if share < UNCLEAR_SHARE:
            reasons.append("unclear")
        if not reasons:
            continue
        guides = {}
        for hits in answers:
            for hit in hits:
                guides.setdefault((hit["kind"], hit["code"]), hit)
        result.append(
            {
                **row,
                "label": topic_label(row["topic"]),
                "answered_pct": round(100 * share, 1),
                "samples": len(texts),
                "samples_answered": found,
                "found": list(guides.values())[:3],
                "reasons": reasons,
                "explanations": [str(REASONS[reason]) for reason in reasons],
            }
        )
    return result
