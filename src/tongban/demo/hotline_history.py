"""A month of past 12345 tickets for the demo city, so that the analytics have something to show.

``history_seed()`` writes ``per_day`` tickets a day (fewer at weekends, half of it today) with texts of the
routing corpus, their topic and department (the department's branch in the ticket's district), the district
named in the text when it names one. About 40 % are consultations, most of them answered at first contact
(some topics much less: they show as "unclear" blind spots); the rest mostly closed, those of the last days
partly still open, some of them late (red card), supervised or waiting for an extension. Today one topic jumps
in one district (``SPIKE_TOPIC`` in ``SPIKE_DISTRICT``), so that ``analytics.spikes_detect()`` raises an alert.

Imported history is marked: numbers start with ``12345H`` and each ticket has a single timeline step
``imported``; it emits no events and starts no clock (the deadline job leaves it alone). One audit entry records
the import. Deterministic for the same arguments and seed (times of today's tickets are kept before now), and
idempotent: nothing happens when history is there already. Bulk inserts: a month of 300 a day takes about two seconds.
"""

from __future__ import annotations

import datetime as dt
import random
from contextlib import contextmanager

from django.db import transaction
from django.utils import timezone

from tongban.core import calendar
from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.core.ids import DISTRICTS
from tongban.hotline.corpus import corpus_load
from tongban.hotline.models import FaqEntry, Ticket, TicketStep
from tongban.identity.geography import ROADS
from tongban.identity.models import AdminUnit, Department
from tongban.identity.reference import branch_code

HISTORY_PREFIX = "12345H"
SPIKE_TOPIC = "water-supply"
SPIKE_DISTRICT = "310115"  # 浦东新区
TYPES = (
    (Ticket.Type.CONSULT, 40),
    (Ticket.Type.COMPLAINT, 30),
    (Ticket.Type.HELP, 12),
    (Ticket.Type.REPORT, 10),
    (Ticket.Type.SUGGESTION, 8),
)
CHANNELS = (
    (Ticket.Channel.PHONE, 70),
    (Ticket.Channel.WEB, 12),
    (Ticket.Channel.APP, 10),
    (Ticket.Channel.MINI_PROGRAM, 8),
)
# Share of consultations answered at first contact: these topics are hard to answer on the phone.
FIRST_CONTACT = {"purchase-qualification": 0.3, "insurance-service": 0.35, "social-security": 0.4}
LIMITS = {Ticket.Type.CONSULT: 1, Ticket.Type.SUGGESTION: 1}  # working days; 5 for the others
SATISFACTION = ((5, 50), (4, 30), (3, 12), (2, 5), (1, 3))
ANSWER = "（历史导入）已按知识库和办事指南当场答复。"
REPLY = "（历史导入）已到现场核实并处理，处理结果已告知来电人。"


def _pick(rng: random.Random, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def _district_of(text: str) -> str | None:
    """The district a text names (its name, else one of its roads), or None."""
    for code, (name, _english) in DISTRICTS.items():
        if name in text:
            return code
    for code, roads in ROADS.items():
        if any(road in text for road in roads):
            return code
    return None


def _moment(rng: random.Random, start: dt.datetime, now: dt.datetime) -> dt.datetime:
    """A time of the day starting at ``start``, mostly between 7:00 and 22:00, never after ``now`` (two draws
    whatever the answer, so that the rest of the history does not depend on the hour it is seeded)."""
    at, share = start + dt.timedelta(seconds=rng.uniform(7 * 3600, 22 * 3600)), rng.random()
    return at if at <= now else start + (now - start) * share


def _service_items() -> dict[str, list[str]]:
    """Published service item codes by municipal department code (for consultations pointed to a guide)."""
    from tongban.catalog.selectors import item_list

    items: dict[str, list[str]] = {}
    for code, department, parent in item_list().values_list(
        "code", "department__code", "department__parent__code"
    ):
        items.setdefault(parent or department, []).append(code)
    return items


def _faqs() -> dict[str, list]:
    entries: dict[str, list] = {}
    for pk, department in FaqEntry.objects.filter(active=True).values_list("pk", "department").order_by("pk"):
        entries.setdefault(department, []).append(pk)
    return entries


@contextmanager
def _past_timestamps():
    """Let ``bulk_create`` keep the history's ``created_at`` and ``updated_at`` (``auto_now_add``/``auto_now``
    would stamp them now). Ten times faster than a ``bulk_update`` after the insert; the demo seed runs alone
    in its process, and the services pass their timestamps explicitly anyway."""
    fields = [Ticket._meta.get_field(name) for name in ("created_at", "updated_at")]
    saved = [(field.auto_now, field.auto_now_add) for field in fields]
    for field in fields:
        field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, (auto_now, auto_now_add) in zip(fields, saved, strict=True):
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


def history_seeded() -> bool:
    return Ticket.objects.filter(number__startswith=HISTORY_PREFIX).exists()


def history_seed(
    *,
    days: int = 30,
    per_day: int = 300,
    today: dt.date | None = None,
    seed: int = 12345,
    actor: Actor = SYSTEM,
) -> int:
    """Write ``days`` days of past tickets and today's, with a spike today; the number written (0 when the
    history is there already)."""
    if history_seeded():
        return 0
    today = today or calendar.today()
    now = timezone.now()
    rng = random.Random(seed)
    rows = corpus_load()
    places = [_district_of(row["text"]) for row in rows]
    departments = dict(Department.objects.values_list("code", "pk"))
    districts = dict(AdminUnit.objects.filter(level=AdminUnit.Level.DISTRICT).values_list("code", "pk"))
    district_codes = sorted(districts)
    items, faqs = _service_items(), _faqs()
    first_contact = {
        topic: FIRST_CONTACT.get(topic, round(0.6 + 0.35 * rng.random(), 2))
        for topic in sorted({row["topic"] for row in rows})
    }
    due_dates: dict = {}

    def due(day, limit):
        if (day, limit) not in due_dates:
            due_dates[day, limit] = calendar.add_working_days(day, limit)
        return due_dates[day, limit]

    def make(index: int, at: dt.datetime, number: str, *, district: str | None = None, **override):
        row = rows[index]
        district = district or places[index] or rng.choice(district_codes)
        municipal = row["department"]
        ticket_type = override.get("ticket_type") or _pick(rng, TYPES)
        ticket = Ticket(
            number=number,
            channel=_pick(rng, CHANNELS),
            ticket_type=ticket_type,
            text=row["text"],
            topic=row["topic"],
            district_id=districts.get(district),
            suggested_department=municipal,
        )
        age = (today - at.astimezone(calendar.SHANGHAI).date()).days
        if ticket_type == Ticket.Type.CONSULT and rng.random() < first_contact[row["topic"]]:
            ticket.status, ticket.answer, ticket.closed_at = Ticket.Status.ANSWERED, ANSWER, at
            if faqs.get(municipal) and rng.random() < 0.5:
                ticket.faq_id = rng.choice(faqs[municipal])
            elif items.get(municipal) and rng.random() < 0.5:
                ticket.service_code = rng.choice(items[municipal])
            return ticket, at
        ticket.department_id = departments.get(branch_code(municipal, district)) or departments.get(municipal)
        ticket.suggestion_confidence = round(rng.uniform(0.6, 0.99), 4)
        ticket.limit_days = LIMITS.get(ticket_type, 5)
        ticket.due_date = due(at.astimezone(calendar.SHANGHAI).date(), ticket.limit_days)
        still_open = (
            override.get("open") or (age <= 2 and rng.random() < 0.6) or (age <= 8 and rng.random() < 0.05)
        )
        if still_open:
            ticket.status = rng.choice((Ticket.Status.DISPATCHED, Ticket.Status.IN_HAND))
            if ticket.due_date < today:
                ticket.warning = "red"
                if rng.random() < 0.3:
                    ticket.supervised_at = at + (now - at) / 2
                    ticket.supervision_note = "（历史导入）督办：请尽快办结。"
            elif ticket.due_date == today:
                ticket.warning = "yellow"
            if ticket_type == Ticket.Type.COMPLAINT and rng.random() < 0.08:
                ticket.extension = Ticket.Extension.REQUESTED
                ticket.extension_reason = "（历史导入）涉及多个部门，需要延期。"
            return ticket, at
        ticket.reply = REPLY
        if age <= 4 and rng.random() < 0.15:
            ticket.status = Ticket.Status.REPLIED
            return ticket, min(at + dt.timedelta(hours=rng.uniform(2, 48)), now)
        ticket.status = Ticket.Status.CLOSED
        ticket.closed_at = min(at + dt.timedelta(hours=rng.uniform(2, 96)), now)
        ticket.satisfaction = _pick(rng, SATISFACTION)
        return ticket, ticket.closed_at

    tickets: list[tuple[Ticket, dt.datetime, dt.datetime]] = []
    spike_rows = [
        i for i, row in enumerate(rows) if row["topic"] == SPIKE_TOPIC and places[i] in (None, SPIKE_DISTRICT)
    ]
    for offset in range(days, -1, -1):
        day = today - dt.timedelta(days=offset)
        start = dt.datetime.combine(day, dt.time.min, tzinfo=calendar.SHANGHAI)
        if start >= now:
            continue
        count = per_day // 2 if offset == 0 else (per_day if day.weekday() < 5 else per_day * 7 // 10)
        spike = max(12, per_day // 10) if offset == 0 and spike_rows else 0

        for seq in range(count + spike):
            number = f"{HISTORY_PREFIX}{day:%y%m%d}{seq:06d}"
            at = _moment(rng, start, now)
            if seq < count:
                ticket, updated = make(rng.randrange(len(rows)), at, number)
            else:
                ticket, updated = make(
                    rng.choice(spike_rows),
                    at,
                    number,
                    district=SPIKE_DISTRICT,
                    ticket_type=rng.choice((Ticket.Type.HELP, Ticket.Type.COMPLAINT)),
                    open=True,
                )
            tickets.append((ticket, at, updated))

    with transaction.atomic():
        objects = []
        for ticket, at, updated in tickets:
            ticket.created_at, ticket.updated_at = at, max(updated, at)
            objects.append(ticket)
        with _past_timestamps():
            Ticket.objects.bulk_create(objects, batch_size=1000)
        TicketStep.objects.bulk_create(
            [
                TicketStep(
                    ticket=ticket,
                    at=at,
                    kind="imported",
                    actor="demo history",
                    department_id=ticket.department_id,
                    note=ticket.get_channel_display(),
                )
                for ticket, at, _updated in tickets
            ],
            batch_size=1000,
        )
        audit_record(
            actor=actor,
            action="hotline.history_seed",
            subject_type="ticket",
            details={"tickets": len(objects), "days": days, "per_day": per_day, "seed": seed},
        )
    return len(objects)
