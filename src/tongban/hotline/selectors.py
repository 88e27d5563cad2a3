"""Reads of the hotline, filtered by who asks."""

import datetime as dt
import re
import uuid

from django.db.models import Count, F, Q

from tongban.core.i18n import in_language
from tongban.core.ids import DISTRICTS
from tongban.identity.permissions import has_permission
from tongban.identity.selectors import department_scope_ids, roles_for, staff_for

from .models import FaqEntry, Ticket

_CITY = frozenset({"hotline_operator", "dispatcher", "supervisor", "platform_admin"})


def tickets_visible_to(user):
    """Operators, dispatchers and supervisors see every ticket; a department its own (and branches for a head)."""
    if user.is_superuser or roles_for(user) & _CITY:
        return Ticket.objects.all()
    staff = staff_for(user)
    if staff is None or not has_permission(user, "ticket.view", department=staff.department_id):
        return Ticket.objects.none()
    return Ticket.objects.filter(department_id__in=department_scope_ids(staff, read_only=True))


def ticket_get_for_user(user, number: str):
    return (
        tickets_visible_to(user)
        .select_related("department", "district", "duplicate_of", "merged_into")
        .filter(number=number)
        .first()
    )


def tickets_of_citizen(user):
    """The tickets a resident sent or was the caller of, newest first."""
    from tongban.identity.selectors import person_for

    person = person_for(user)
    if person is None:
        return Ticket.objects.none()
    return Ticket.objects.filter(caller=person).order_by("-created_at")


def dispatch_queue():
    return Ticket.objects.filter(status__in=[Ticket.Status.DISPATCHING, Ticket.Status.REOPENED]).order_by(
        "created_at"
    )


def department_tickets(user):
    staff = staff_for(user)
    if staff is None:
        return Ticket.objects.none()
    return (
        Ticket.objects.filter(department_id=staff.department_id, status__in=Ticket.OPEN)
        .select_related("district")
        # Supervised tickets (督办) first, then by due date.
        .order_by(F("supervised_at").asc(nulls_last=True), "due_date", "created_at")
    )


def callbacks_due():
    return (
        Ticket.objects.filter(status=Ticket.Status.REPLIED)
        .select_related("department")
        .order_by("updated_at")
    )


DUPLICATE_DAYS = 30
# Without a topic filter (issue 12: duplicates whatever topic each ticket got) more tickets name the same place:
# the newest 60 of them are compared (as plain rows).
DUPLICATE_SCAN = 60
NO_PLACE_SCAN = 50  # without a named place only the newest are compared (and the bar is higher)
# The open statuses as the literal condition of the partial index hotline_ticket_open_place (Ticket.Meta.indexes).
OPEN_TICKETS_SQL = '"hotline_ticket"."status" IN ({})'.format(", ".join(f"'{s}'" for s in Ticket.OPEN))
# The share of the shorter text's character bigrams found in the other, above which two tickets at the same
# place and on the same topic are proposed as duplicates; without a named place on both, the bar is higher.
SAME_PLACE_OVERLAP = 0.3
NO_PLACE_OVERLAP = 0.6
# At the same named place, two texts naming the same object of a department's responsibilities (烧烤, 油烟 ...)
# need less wording in common: two callers describe the same barbecue smoke in their own words.
SAME_PLACE_SAME_OBJECT_OVERLAP = 0.15
_PLACE = re.compile(r"[\u4e00-\u9fff\w]{2,5}?(?:路|街|弄|巷|小区|公寓|新村|花园|大厦|广场|公园|市场|苑|村)")
_PLACE_NOISE = re.compile(
    "|".join(name for name, _en in DISTRICTS.values())
    + r"|[\u4e00-\u9fff]{2,3}(?:街道|镇)|附近|门口|对面|旁边|楼下|那个|这个|地址是|我住在|住在"
)


def _bigrams(text: str) -> set:
    text = "".join(ch for ch in (text or "") if ch.isalnum())
    return {text[i : i + 2] for i in range(len(text) - 1)} or ({text} if text else set())


def text_overlap(a: str, b: str) -> float:
    """The share of the shorter text's character bigrams that the other holds (0..1): cheap, language-neutral,
    and kind to the same complaint told shorter or longer."""
    left, right = _bigrams(a), _bigrams(b)
    if not left or not right:
        return 0.0
    return len(left & right) / min(len(left), len(right))


def places(text: str) -> set[str]:
    """Named places in a text (roads, lanes, compounds, parks, markets), district and street names removed."""
    return set(_PLACE.findall(_PLACE_NOISE.sub(" ", text or "")))


def same_place(a: set, b: set) -> bool | None:
    """Whether two sets of named places share one (None when either names none)."""
    if not a or not b:
        return None
    return any(x in y or y in x for x in a for y in b)


def duplicate_score(text: str, address: str, other: Ticket, *, _mine=None, _place=...) -> float:
    """How likely ``other`` is the same problem at the same place (0 when the places differ)."""
    here, mine = _mine if _mine is not None else (places(f"{address} {text}"), _bigrams(text))
    theirs = _bigrams(other.text)
    overlap = len(mine & theirs) / min(len(mine), len(theirs)) if mine and theirs else 0.0
    if overlap < SAME_PLACE_SAME_OBJECT_OVERLAP:
        return 0.0  # too little in common whatever the place: the place is not even looked for
    # ``_place``: already known by the caller (the database picked ``other`` by one of this text's places).
    place = same_place(here, places(f"{other.address} {other.text}")) if _place is ... else _place
    if place is False:
        return 0.0
    bar = SAME_PLACE_OVERLAP if place else NO_PLACE_OVERLAP
    if place and SAME_PLACE_SAME_OBJECT_OVERLAP <= overlap < bar and _shared_objects(text, other.text):
        # The same named place and the same thing complained about (烧烤, 油烟, 窨井盖 ...), told in other words.
        bar = SAME_PLACE_SAME_OBJECT_OVERLAP
    return round(overlap, 3) if overlap >= bar else 0.0


def _shared_objects(a: str, b: str) -> set:
    from .knowledge import objects_in

    return objects_in(a) & objects_in(b)


def duplicate_candidates(
    *,
    text: str,
    district_id=None,
    street_id=None,
    address: str = "",
    topic: str = "",
    department: str = "",
    exclude=None,
    now=None,
    limit: int = 5,
) -> list[tuple[Ticket, float]]:
    """Open tickets of the last 30 days about the same problem at the same place, best first, with a score.

    Same place: the same district (and street when both have one) and, when both name a place, a shared one;
    same problem: overlapping content (``duplicate_score``), whatever topic or department the classifier gave
    each (two callers describing the same barbecue smoke may get different topics). ``topic`` and
    ``department`` are accepted for the callers' convenience and no longer filter. Among the newest
    ``DUPLICATE_SCAN`` tickets that name the same place (one indexed query), the texts are compared.
    """
    from django.db import connection
    from django.utils import timezone

    from tongban.core.db import fast

    if district_id is None:
        return []
    since = (now or timezone.now()) - dt.timedelta(days=DUPLICATE_DAYS)
    here = places(f"{address} {text}")
    named = sorted(here)
    limit_scan = DUPLICATE_SCAN if here else NO_PLACE_SCAN

    def queryset():
        # The open statuses as literal constants, the condition of the partial index hotline_ticket_open_place (a
        # bound parameter would keep SQLite from using it: it would walk the district's history and sort it).
        query = Ticket.objects.extra(where=[OPEN_TICKETS_SQL]).filter(  # noqa: S610 - constants only
            district_id=district_id, created_at__gte=since
        )
        if street_id is not None:
            query = query.filter(Q(street_id=street_id) | Q(street__isnull=True))
        if exclude is not None:
            query = query.exclude(pk=exclude)
        if named:
            # Only tickets that name one of the same places can be about the same place: the database picks them
            # out of the district's index range, so the comparisons below stay few however full the city is.
            either = Q()
            for place in named:
                either |= Q(text__contains=place) | Q(address__contains=place)
            query = query.filter(either)
        return query.order_by("-created_at").values_list(*_DUPLICATE_FIELDS)[:limit_scan]

    # The statement is compiled once per shape (core.db.fast), its parameters bound here in the ORM's order.
    params = [fast.prep(Ticket, "created_at", since), fast.prep(Ticket, "district_id", district_id)]
    if street_id is not None:
        params.append(fast.prep(Ticket, "street_id", street_id))
    if exclude is not None:
        params.append(fast.prep(Ticket, "id", exclude))
    for place in named:
        pattern = f"%{connection.ops.prep_for_like_query(place)}%"
        params += [pattern, pattern]
    key = ("hotline.duplicates", street_id is not None, exclude is not None, len(named), limit_scan)
    scored = []
    mine = (here, _bigrams(text))
    # Scored from plain rows (no model instances for the many that are not duplicates).
    for row in fast.compiled_rows(key, queryset, params):
        # The query kept only tickets naming one of this text's places (so: the same place), or, when this text
        # names none, compares without a place (the higher bar): either way no place regex per ticket.
        score = duplicate_score(
            text, address, _Text(row[_TEXT], row[_ADDRESS]), _mine=mine, _place=True if here else None
        )
        if score:
            scored.append((row, score))
    scored.sort(key=lambda pair: -pair[1])
    return [(Ticket.from_db("default", _DUPLICATE_FIELDS, row), score) for row, score in scored[:limit]]


# What a proposed duplicate is read with (the callers show its number, text, place, status and age), in the
# model's column order, as ``Model.from_db`` takes a subset of the fields.
_DUPLICATE_FIELDS = tuple(
    field.attname
    for field in Ticket._meta.concrete_fields
    if field.attname
    in {"id", "number", "text", "address", "status", "created_at", "district_id", "department_id"}
)
_TEXT, _ADDRESS = _DUPLICATE_FIELDS.index("text"), _DUPLICATE_FIELDS.index("address")


class _Text:
    __slots__ = ("address", "text")

    def __init__(self, text, address):
        self.text, self.address = text, address


def similar_tickets(
    *, text: str, district_code: str = "", topic: str = "", department: str = "", limit: int = 5
):
    """For the console as the operator types: open tickets that the new one would duplicate."""
    from tongban.identity.models import AdminUnit

    district = AdminUnit.objects.filter(code=district_code).values_list("pk", flat=True).first()
    return [
        ticket
        for ticket, _score in duplicate_candidates(
            text=text, district_id=district, topic=topic, department=department, limit=limit
        )
    ]


def faq_search(text: str, limit: int = 3) -> list[FaqEntry]:
    """Active FAQ entries matching ``text`` (jieba tokens over question, keywords and answer), best first.

    An entry holding every token of the query ranks first; when none does, those holding any token, by how many
    they hold (a caller's sentence rarely uses every word of the question). Same on SQLite and PostgreSQL.
    """
    from django.db.models import Case, IntegerField, Value, When

    from tongban.catalog.text import query_tokens

    tokens = query_tokens((text or "").replace("\x00", "")[:200])[:12]
    if not tokens:
        return []
    score = sum(
        (
            Case(When(search_text__contains=t, then=Value(1)), default=Value(0), output_field=IntegerField())
            for t in tokens
        ),
        Value(0),
    )
    question_bonus = sum(
        (
            Case(When(question__contains=t, then=Value(1)), default=Value(0), output_field=IntegerField())
            for t in tokens
        ),
        Value(0),
    )
    condition = Q()
    for token in tokens:
        condition |= Q(search_text__contains=token)
    hits = (
        FaqEntry.objects.filter(condition, active=True)
        .annotate(tb_matched=score, tb_question=question_bonus)
        .order_by("-tb_matched", "-tb_question", "question")[:limit]
    )
    # At least half the query's tokens (and two when it has several): one shared word is not an answer.
    needed = max(1, min(2, len(tokens)), (len(tokens) + 1) // 2)
    return [hit for hit in hits if hit.tb_matched >= needed]


def knowledge_for(text: str, limit: int = 3, *, departments=None) -> list[dict]:
    """What may answer a consultation at first contact: FAQ entries of the knowledge base, then the catalogue's
    service guides (both by jieba full-text search).

    With ``departments`` (the routing's likely departments for ``text``), only entries and guides of those
    departments are offered: a guide that shares a word with the call but belongs to another department is not
    about its subject, and no suggestion is better than an irrelevant one (an FAQ entry without a department
    stays)."""
    from tongban.catalog.selectors import catalog_search

    if len((text or "").strip()) < 2:
        return []
    wanted = set(departments) if departments is not None else None
    found = [
        {
            "kind": "faq",
            "code": str(entry.pk),
            "name": in_language(entry, "question"),
            "answer": in_language(entry, "answer"),
            "url": f"/services/items/{entry.service_code}/" if entry.service_code else "",
            "promised_limit_days": None,
        }
        for entry in faq_search(text, limit=limit)
        if wanted is None or not entry.department or _base_department(entry.department) in wanted
    ]
    found += [
        {
            "kind": hit.kind,
            "code": hit.code,
            "name": hit.object.name_zh,
            "answer": "",
            "url": f"/services/{'bundles' if hit.kind == 'bundle' else 'items'}/{hit.code}/",
            "promised_limit_days": hit.object.promised_limit_days,
        }
        for hit in catalog_search(text, limit=limit)
        if wanted is None or _hit_department(hit) in wanted
    ]
    return found


def _base_department(code: str) -> str:
    """A department code without its district branch: ``urban-management-310101`` → ``urban-management``."""
    head, _sep, tail = (code or "").rpartition("-")
    return head if tail.isdigit() else code or ""


def _hit_department(hit) -> str:
    department = getattr(hit.object, "department", None) or getattr(hit.object, "lead_department", None)
    return _base_department(getattr(department, "code", "") or "")


def likely_departments(prediction, floor: float = 0.1) -> set[str]:
    """The departments of a routing prediction worth offering guides of: the first, and the others of its top
    three with at least ``floor`` probability."""
    if prediction is None:
        return set()
    return {prediction.department} | {code for code, p in (prediction.top3 or []) if p >= floor}


def faq_list(*, query: str = "", include_inactive: bool = True):
    entries = FaqEntry.objects.all() if include_inactive else FaqEntry.objects.filter(active=True)
    if query:
        entries = entries.filter(Q(question__icontains=query) | Q(keywords__icontains=query))
    return entries.annotate(uses=Count("tickets")).order_by("question")


def supervised_tickets(user):
    """Open tickets under supervision (督办) that ``user`` may see, oldest supervision first."""
    return (
        tickets_visible_to(user)
        .filter(supervised_at__isnull=False, status__in=Ticket.OPEN)
        .select_related("department")
        .order_by("supervised_at")
    )


def extension_requests(user):
    """Extensions waiting for a supervisor's decision, among the tickets ``user`` may see."""
    return (
        tickets_visible_to(user)
        .filter(extension=Ticket.Extension.REQUESTED, status__in=Ticket.OPEN)
        .select_related("department")
        .order_by("updated_at")
    )


def first_contact_rate(*, since=None) -> dict:
    """Consultations answered at first contact, out of all consultations (since a day, Shanghai time, if given);
    one query, on the intake-time index when ``since`` is given."""
    from tongban.core import calendar

    query = Ticket.objects.filter(ticket_type=Ticket.Type.CONSULT)
    if since is not None:
        query = query.filter(
            created_at__gte=dt.datetime.combine(since, dt.time.min, tzinfo=calendar.SHANGHAI)
        )
    counts = query.aggregate(total=Count("pk"), answered=Count("pk", filter=Q(status=Ticket.Status.ANSWERED)))
    total, answered = counts["total"], counts["answered"]
    return {
        "consultations": total,
        "answered": answered,
        "rate": round(answered / total, 3) if total else None,
    }


def tickets_near_due(*, horizon):
    """Open tickets (dispatched or in hand) whose limit or supervision (督办) falls by ``horizon``, with the
    dates supervision's deadline job judges them by: ``(ticket, clock, due, warning_date)``.

    A supervision brings the limit forward: the ticket is then warned on its last day and red after it.
    """
    import datetime as dt

    from tongban.core.sla import SLAClock

    candidates = (
        Ticket.objects.filter(
            Q(due_date__lte=horizon) | Q(supervision_due__lte=horizon),
            status__in=[Ticket.Status.DISPATCHED, Ticket.Status.IN_HAND],
        )
        .exclude(warning="red")
        .only("pk", "number", "status", "clock", "due_date", "supervision_due", "warning", "department_id")
        .order_by("pk")
    )
    for ticket in candidates.iterator(chunk_size=500):
        if not ticket.clock:
            continue
        clock = SLAClock.from_dict(ticket.clock)
        due, warn_on = clock.due_date(), None
        if ticket.supervision_due is not None and (due is None or ticket.supervision_due < due):
            due = warn_on = ticket.supervision_due
        yield ticket, ticket.clock, due, warn_on if isinstance(warn_on, dt.date) else None


def ticket_numbers(ticket_ids) -> dict[str, str]:
    """The numbers of the tickets with these ids (``str(id)`` → number), for pages that name a ticket by its id."""
    valid = []
    for value in {str(i) for i in ticket_ids if i}:
        try:
            valid.append(uuid.UUID(value))
        except ValueError:
            continue
    if not valid:
        return {}
    return {str(pk): number for pk, number in Ticket.objects.filter(pk__in=valid).values_list("pk", "number")}


def ticket_departments(ticket_ids) -> dict:
    """The department each ticket is dispatched to (None before dispatch), by ticket id (a string)."""
    return {
        str(pk): department_id
        for pk, department_id in Ticket.objects.filter(pk__in=list(ticket_ids)).values_list(
            "pk", "department_id"
        )
    }
