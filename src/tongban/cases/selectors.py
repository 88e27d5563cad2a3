"""Reads of the cases app. Every query that lists cases filters by who is asking.

A citizen sees the cases they applied for (or that were submitted on their behalf), an enterprise agent the
cases of their organisations; staff the cases their department leads, accepted, or has a step in; city-wide
supervisors every case.
"""

import heapq
import uuid
from functools import partial

from django.core.exceptions import ValidationError
from django.db.models import Q

from tongban.catalog.models import Bundle
from tongban.core.db import fast
from tongban.core.keyset import Keyset
from tongban.core.refcache import reference_cached
from tongban.identity.permissions import has_permission
from tongban.identity.selectors import (
    department_scope_ids,
    staff_for,
    staff_roles_for,
)
from tongban.workflow.models import Task
from tongban.workflow.selectors import case_has_task_in, process_keys_with_lanes_for

from .models import Case, CaseStep, SupplementRequest


def _reference_models():  # the models whose saves forget list_references
    from tongban.catalog.models import Bundle, ServiceItem
    from tongban.identity.models import Department

    return (ServiceItem, Bundle, Department)


_CITY_ROLES = frozenset({"supervisor", "platform_admin"})
# The order of every case list: newest first, the primary key breaking ties (a keyset: see core.pagination).
CASE_KEYSET = Keyset(fields=("created_at", "id"), descending=True)
_LIST_RELATED = ("item", "bundle", "lead_department")
# What a list row shows (cases.api.CaseSummarySerializer): loading only these skips the JSON columns (form
# data, clock, result), whose decoding was most of a page's cost.
CASE_LIST_FIELDS = (
    "id",
    "created_at",
    "number",
    "title",
    "status",
    "channel",
    "applicant_name",
    "submitted_at",
    "accepted_at",
    "closed_at",
    "promised_limit_days",
    "due_date",
    "warning",
    "item__code",
    "bundle__code",
    "lead_department__code",
    "lead_department__name_zh",
    "lead_department__name_en",
)

# The same columns without the joins (cases.api.case_rows names the services from ``list_references``).
CASE_ROW_FIELDS = (
    *(name for name in CASE_LIST_FIELDS if "__" not in name),
    "item",
    "bundle",
    "lead_department",
)


@reference_cached(*_reference_models())
def list_references() -> dict:
    """Codes and names of the services and departments a list row names, by primary key, kept per process
    (core.refcache): a list reads the case table alone, without joins, and names them from here. A join made
    SQLite's planner start from the departments and sort every open case for a page of the supervision list."""
    from tongban.catalog.models import Bundle, ServiceItem
    from tongban.identity.models import Department

    return {
        "item": dict(ServiceItem.objects.values_list("pk", "code")),
        "bundle": dict(Bundle.objects.values_list("pk", "code")),
        "department": {
            pk: (code, name_zh, name_en)
            for pk, code, name_zh, name_en in Department.objects.values_list(
                "pk", "code", "name_zh", "name_en"
            )
        },
    }


def _applicant_links(user) -> tuple[list, list]:
    """The persons and organisations ``user`` stands for as an applicant: ``(person ids, organisation ids)``."""
    from django.db import connection

    from tongban.identity.models import Organisation, Person

    key = ("cases.applicant_links", connection.vendor)
    sql = fast._cache.get(key)
    if sql is None:  # both in one hand-written statement: asked on every page of "my cases"
        agents = Organisation.agents.through._meta
        sql = fast._cache[key] = (
            f"SELECT 1, id FROM {Person._meta.db_table} WHERE user_id = %s UNION ALL "  # noqa: S608
            f"SELECT 2, {agents.get_field('organisation').column} FROM {agents.db_table} "
            f"WHERE {agents.get_field('user').column} = %s"
        )
    persons, organisations = [], []
    for kind, pk in fast.fetchall(sql, [user.pk, user.pk]):
        if kind == 1:
            persons.append(fast.convert(Person, "id", pk))
        else:
            organisations.append(fast.convert(Organisation, "id", pk))
    return persons, organisations


def _applicant_q(user, links=None) -> Q:
    """The applicant's cases as conditions on the case's own columns (each one indexed), not on joins: the
    persons and organisations the user stands for are looked up first (``links``: as :func:`_applicant_links`)."""
    persons, organisations = links if links is not None else _applicant_links(user)
    query = Q(submitted_by_id=user.pk)
    if persons:
        query |= Q(applicant_person_id__in=persons)
    if organisations:
        query |= Q(applicant_organisation_id__in=organisations)
    return query


def case_list_for_applicant(user, *, status=None, links=None):
    """The cases of a citizen or enterprise agent, newest first (only those in ``status`` if given).

    One table, three indexed columns OR-ed (no join, no DISTINCT): the database unions three index lookups.
    """
    if not user.is_authenticated:
        return Case.objects.none()
    query = Case.objects.filter(_applicant_q(user, links))
    if status:
        query = _status_not_indexed(query, status)
    return query.select_related(*_LIST_RELATED).order_by(*CASE_KEYSET.order_by())


# A list row's columns as a page's named tuples hold them (``core.db.fast.records``; cases.api.case_rows).
CASE_RECORD_FIELDS = (
    *(name for name in CASE_LIST_FIELDS if "__" not in name),
    "item_id",
    "bundle_id",
    "lead_department_id",
)


class ApplicantCasePages:
    """:func:`case_list_for_applicant` a page at a time (``page(after, limit)``, see ``core.pagination``), its
    statement compiled by the ORM once per shape and its rows named tuples of ``CASE_RECORD_FIELDS``
    (``core.db.fast``): the QuerySet's building and compiling and its model instances were half of the
    request's CPU."""

    def __init__(self, user, *, status=None):
        self.user, self.status = user, status

    def page(self, after, limit):
        from django.db import connection

        user, status = self.user, self.status
        links = persons, organisations = _applicant_links(user)
        params = [fast.prep(Case, "submitted_by", user.pk)]
        params += [fast.prep(Case, "applicant_person", pk) for pk in persons]
        params += [fast.prep(Case, "applicant_organisation", pk) for pk in organisations]
        if status:
            params.append(fast.prep(Case, "status", status))
        where = None
        if after is not None:
            where, after_params = CASE_KEYSET.where_after(Case, after, connection)
            params += after_params
        key = ("cases.applicant", len(persons), len(organisations), bool(status), where, limit)

        def queryset():
            query = case_list_for_applicant(user, status=status, links=links).select_related(None)
            return CASE_KEYSET.after(query, after).values_list(*CASE_RECORD_FIELDS)[:limit]

        return fast.records(Case, CASE_RECORD_FIELDS, fast.compiled_rows(key, queryset, params))


def case_page_for_applicant(user, *, status=None):
    """A citizen's or enterprise agent's cases for keyset pages: an :class:`ApplicantCasePages`."""
    if not user.is_authenticated:
        return Case.objects.none()
    return ApplicantCasePages(user, status=status)


def _status_not_indexed(query, status):
    """Filter by status without letting the planner read the status index: an applicant's few cases come from
    the applicant indexes, and SQLite, told ``status = 'completed'``, would rather walk the (status, created_at)
    index through most of the table (250 ms at 100,000 cases). ``+status`` is SQLite's way to say so."""
    from django.db import connections

    if connections[query.db].vendor == "sqlite":
        return query.extra(where=['+"cases_case"."status" = %s'], params=[status])
    return query.filter(status=status)


def _staff_scope(user):
    """Who may see which cases: ``("all", None)`` for city-wide roles, ``("accepting", {id})`` for a clerk
    who may only accept, ``("departments", ids)`` for department staff, or ``(None, None)``."""
    if not user.is_authenticated:
        return None, None
    if user.is_superuser or staff_roles_for(user) & _CITY_ROLES:  # city-wide roles are staff roles
        return "all", None
    staff = staff_for(user)
    if staff is None or not has_permission(user, "case.view", department=staff.department_id):
        if staff is not None and has_permission(user, "case.accept"):
            return "accepting", frozenset({staff.department_id})
        return None, None
    return "departments", department_scope_ids(staff, read_only=True)


def _is_number(search: str) -> bool:
    upper = search.strip().upper()
    return upper.startswith("TB") and upper[2:].isdigit()


def _title_words(search) -> str:
    """The search as words of a title ("" for none, or a case number)."""
    search = (search or "").strip()
    # Digits may be part of a case number (searched as before, a filter while reading in list order).
    return "" if not search or _is_number(search) or search.isdigit() else search


def _filtered(query, *, status=None, search=None):
    if status:
        query = query.filter(status=status)
    search = (search or "").strip()
    if search:
        upper = search.upper()
        if _is_number(search) and len(upper) >= 12:
            # A case number or a long beginning of one (TB + the day + digits): few cases, a range on the
            # unique number index.
            query = query.filter(number__gte=upper, number__lt=upper + "~")
        elif _is_number(search):
            # A short beginning (a year, a month) matches many cases: filtered while reading in list order.
            query = query.filter(number__startswith=upper)
        else:
            # Part of a title (a service name), or digits of a number: filtered while reading in list order.
            query = query.filter(Q(title__icontains=search) | Q(number__icontains=search))
    return query


def case_list_for_staff(user, *, status=None, search=None):
    """The cases a staff member may see: led, accepted, or worked by their department (all for supervisors).

    A QuerySet for pages and single-case checks; the API lists through :func:`case_page_for_staff`, which
    answers the same question a page at a time from index ranges.
    """
    kind, ids = _staff_scope(user)
    if kind is None:
        return Case.objects.none()
    if kind == "all":
        query = Case.objects.all()
    elif kind == "accepting":
        query = Case.objects.filter(accepting_department_id__in=ids)
    else:
        query = Case.objects.filter(
            Q(lead_department_id__in=ids) | Q(accepting_department_id__in=ids) | case_has_task_in(ids)
        )
    return (
        _filtered(query, status=status, search=search)
        .select_related(*_LIST_RELATED)
        .order_by(*CASE_KEYSET.order_by())
    )


@reference_cached(*_reference_models())
def _services_by_process() -> dict:
    """Every service item and bundle as ``(pk, department id, process key, lower-case Chinese name)``, in code
    order, kept per process (core.refcache): the staff case list picks its sources from them on every page."""
    from tongban.catalog.models import Bundle, ServiceItem

    return {
        "item": [
            (pk, department, key, name.lower())
            for pk, department, key, name in ServiceItem.objects.order_by("code").values_list(
                "pk", "department_id", "process_key", "name_zh"
            )
        ],
        "bundle": [
            (pk, department, key, name.lower())
            for pk, department, key, name in Bundle.objects.order_by("code").values_list(
                "pk", "lead_department_id", "process_key", "name_zh"
            )
        ],
    }


def _departments_leading_or_accepting(ids) -> list[tuple]:
    """``(pk, code, leads any case, accepts any case)`` of the departments ``ids``, in pk order: one hand-written
    statement of two index probes a department (the ORM's Exists annotations cost more to build than to run)."""

    from tongban.core.db import fast
    from tongban.identity.models import Department

    ids = sorted(ids)
    if not ids:
        return []
    table, case_table = Department._meta.db_table, Case._meta.db_table
    # A first row in index order, not EXISTS: PostgreSQL plans an EXISTS as a sequential scan that stops at the
    # first match (it expects thousands), which for a department without cases reads the whole table (6 s a
    # request for a municipal head's 17 departments at 200,000 cases); ORDER BY the index's columns with LIMIT 1
    # is an index probe on both databases.
    rows = fast.fetchall(
        f"SELECT d.id, d.code, "  # noqa: S608 - table and column names only
        f"(SELECT 1 FROM {case_table} WHERE lead_department_id = d.id "
        f"ORDER BY lead_department_id, created_at LIMIT 1) IS NOT NULL, "
        f"(SELECT 1 FROM {case_table} WHERE accepting_department_id = d.id "
        f"ORDER BY accepting_department_id, created_at LIMIT 1) IS NOT NULL "
        f"FROM {table} d WHERE d.id IN ({', '.join(['%s'] * len(ids))}) ORDER BY d.id",
        [fast.prep(Department, "id", pk) for pk in ids],
    )
    return [
        (fast.convert(Department, "id", pk), code, bool(leads), bool(accepts))
        for pk, code, leads, accepts in rows
    ]


def _source(query, search, **condition):
    """``query.filter(**condition)`` (one column equal to a key), except on SQLite for a search by a case number:
    then written ``+column = key`` so that SQLite reads the few cases of the number's range from the unique number
    index instead of walking the department's whole index range in list order, checking each number (50 ms of CPU a
    search at 100,000 cases, growing with the table)."""
    from django.db import connections

    ((column, key),) = condition.items()
    search = (search or "").strip()
    if connections[query.db].vendor != "sqlite" or not (_is_number(search) and len(search) >= 12):
        return query.filter(**condition)
    from tongban.core.db import fast

    field = Case._meta.get_field(column)
    return query.extra(  # noqa: S610 - a column name of the model, the key a parameter
        where=[f'+"{Case._meta.db_table}"."{field.column}" = %s'], params=[fast.prep(Case, column, key)]
    )


def _search_params(search) -> tuple[str | None, list]:
    """How :func:`_filtered` filters by ``search`` (None, "range", "prefix" or "text") and the parameters the ORM
    binds for it, in its order."""
    from django.db import connection

    search = (search or "").strip()
    if not search:
        return None, []
    upper = search.upper()
    if _is_number(search) and len(upper) >= 12:
        return "range", [upper, upper + "~"]
    like = connection.ops.prep_for_like_query
    if _is_number(search):
        return "prefix", [f"{like(upper)}%"]
    return "text", [f"%{like(search)}%", f"%{like(search)}%"]


class StaffCasePages:
    """The staff case list, a page at a time, as a merge of index-ordered queries (no OR across departments,
    no sub-query per row of the whole table, no COUNT).

    A department sees the cases it leads, the cases accepted at its windows, and the cases of services whose
    process gives it a step (a bundle's lane) where it has a task. Each is one query per department in scope,
    newest first from its own index ((lead_department, created_at, id), (accepting_department, created_at, id),
    (bundle|item, created_at, id)), cut at the page size; the pages are merged and de-duplicated in Python.

    Without ``related`` (the API), each source's statement is the one the ORM compiles for it, made once per shape
    and process, its parameters bound by hand, and its rows named tuples of ``CASE_RECORD_FIELDS``
    (``core.db.fast.compiled_rows``): building and compiling a QuerySet per source was most of the request's CPU.
    """

    def __init__(self, *, kind, ids, status=None, search=None, related=True):
        self.kind, self.ids, self.status, self.search = kind, ids, status, search
        self.related = related  # False: no joins, the rows name their services from ``list_references``

    def _base(self, search):
        base = _filtered(Case.objects.all(), status=self.status, search=search)
        if self.related:
            return base.select_related(*_LIST_RELATED).only(*CASE_LIST_FIELDS)
        return base.only(*CASE_ROW_FIELDS)

    def _sources(self):
        return [make() for _shape, _params, make in self._specs()]

    def _specs(self):
        """Each source as ``(shape, parameters, make)``: what changes its statement's text, the parameters the ORM
        binds for it (in its order, before the keyset's), and a function making its QuerySet."""
        search = self.search
        mode, search_params = _search_params(search)
        status_params = [fast.prep(Case, "status", self.status)] if self.status else []
        base_shape, base_params = (bool(self.status), mode), status_params + search_params
        if self.kind == "all":
            return [(("all", base_shape), base_params, lambda: self._base(search))]
        if self.kind == "accepting":
            return [
                (
                    ("source", "accepting_department_id", base_shape),
                    [*base_params, fast.prep(Case, "accepting_department_id", pk)],
                    partial(self._one, search, "accepting_department_id", pk),
                )
                for pk in sorted(self.ids)
            ]
        # One query tells which departments in scope lead or accept any case at all (an index probe each):
        # a municipal head's scope holds a branch in every district, most of which lead and accept nothing.
        words = _title_words(search).lower()
        # A source of the services whose name holds the words needs no title filter besides (a case's title is
        # its service's name): PostgreSQL estimated ``UPPER(title) LIKE '%出生%'`` at a row or two where every case
        # of the bundle matched, and read them all by a bitmap and sorted them (0.2–0.45 s a page at 200,000).
        named_search = None if words else search
        named_shape = (bool(self.status), None) if words else base_shape
        named_params = status_params if words else base_params
        services = _services_by_process()
        specs, codes = [], []
        for pk, code, leads, accepts in _departments_leading_or_accepting(self.ids):
            codes.append(code)
            if leads and words:
                # A case's title is its service's name: only the department's services whose name can match
                # (a word none of them has is no case at all, not a walk through every case it leads).
                items = [i for i, dept, _key, name in services["item"] if dept == pk and words in name]
                bundles = [b for b, dept, _key, name in services["bundle"] if dept == pk and words in name]
                if items or bundles:
                    specs.append(
                        (
                            ("named", len(items), len(bundles), named_shape),
                            [
                                *named_params,
                                fast.prep(Case, "lead_department_id", pk),
                                *(fast.prep(Case, "item_id", i) for i in items),
                                *(fast.prep(Case, "bundle_id", b) for b in bundles),
                            ],
                            partial(self._named, pk, items, bundles),
                        )
                    )
            elif leads:
                specs.append(
                    (
                        ("source", "lead_department_id", base_shape),
                        [*base_params, fast.prep(Case, "lead_department_id", pk)],
                        partial(self._one, search, "lead_department_id", pk),
                    )
                )
            if accepts:
                specs.append(
                    (
                        ("source", "accepting_department_id", base_shape),
                        [*base_params, fast.prep(Case, "accepting_department_id", pk)],
                        partial(self._one, search, "accepting_department_id", pk),
                    )
                )
        keys = process_keys_with_lanes_for(codes)
        if keys:
            ids = sorted(self.ids)
            # The Exists sub-query binds its constant (``SELECT %s AS "a"``, 1) before the departments.
            id_params = [1, *(fast.prep(Task, "department", pk) for pk in ids)]
            # A case's title is its service's name: a service whose name cannot match has no case to show.
            for kind, field in (("bundle", "bundle_id"), ("item", "item_id")):
                specs += [
                    (
                        ("worked", field, len(ids), named_shape),
                        [*named_params, *id_params, fast.prep(Case, field, pk)],
                        partial(self._worked, named_search, ids, field, pk),
                    )
                    for pk, _dept, key, name in services[kind]
                    if key in keys and (not words or words in name)
                ]
        return specs

    def _one(self, search, column, pk):
        return _source(self._base(search), search, **{column: pk})

    def _named(self, pk, items, bundles):
        return (
            self._base(None)
            .filter(lead_department_id=pk)
            .filter(Q(item_id__in=items) | Q(bundle_id__in=bundles))
        )

    def _worked(self, search, ids, field, pk):
        return _source(self._base(search).filter(case_has_task_in(ids)), self.search, **{field: pk})

    def page(self, after, limit):
        if self.related:
            pages = [list(CASE_KEYSET.after(source, after)[:limit]) for source in self._sources()]
        else:
            pages = [self._compiled_page(spec, after, limit) for spec in self._specs()]
        if len(pages) == 1:
            return pages[0]
        rows, seen = [], set()
        for case in heapq.merge(*pages, key=lambda c: (c.created_at, c.pk.hex), reverse=True):
            if case.pk not in seen:
                seen.add(case.pk)
                rows.append(case)
                if len(rows) == limit:
                    break
        return rows

    @staticmethod
    def _compiled_page(spec, after, limit):
        from django.db import connection

        shape, params, make = spec
        where = None
        if after is not None:
            where, after_params = CASE_KEYSET.where_after(Case, after, connection)
            params = [*params, *after_params]

        def queryset():
            return CASE_KEYSET.after(make(), after).values_list(*CASE_RECORD_FIELDS)[:limit]

        return fast.records(
            Case,
            CASE_RECORD_FIELDS,
            fast.compiled_rows(("cases.staff", shape, where, limit), queryset, params),
        )


def case_page_for_staff(user, *, status=None, search=None, related=True) -> StaffCasePages | None:
    """The staff case list for keyset pages (``page(after, limit)``), or None for who may see no case.

    ``related=False``: the rows without their service and department loaded (``CASE_ROW_FIELDS``)."""
    kind, ids = _staff_scope(user)
    if kind is None:
        return None
    return StaffCasePages(kind=kind, ids=ids, status=status, search=search, related=related)


def case_visible_to(user, case: Case) -> bool:
    if not user.is_authenticated:
        return False
    if case.submitted_by_id == user.pk:
        return True
    if case.applicant_person_id and case.applicant_person.user_id == user.pk:
        return True
    if case.applicant_organisation_id and case.applicant_organisation.agents.filter(pk=user.pk).exists():
        return True
    return case_list_for_staff(user).filter(pk=case.pk).exists()


def case_get_for_user(user, number: str) -> Case | None:
    """The case with this number if ``user`` may see it, else None (the caller answers 404)."""
    case = (
        Case.objects.select_related(
            "item",
            "bundle",
            "lead_department",
            "accepting_department",
            "jurisdiction_district",
            "applicant_person",
            "applicant_organisation",
        )
        .filter(number=number)
        .first()
    )
    if case is None or not case_visible_to(user, case):
        return None
    return case


def case_is_applicant(user, case: Case) -> bool:
    """Whether ``user`` is the applicant (or acts for the applicant organisation) or submitted the case."""
    if case.submitted_by_id == user.pk:
        return True
    if case.applicant_person_id and case.applicant_person.user_id == user.pk:
        return True
    return bool(
        case.applicant_organisation_id and case.applicant_organisation.agents.filter(pk=user.pk).exists()
    )


def case_timeline(case: Case):
    return CaseStep.objects.filter(case=case).select_related("department").order_by("at", "id")


def case_deemed_accepted(case: Case, kinds=None) -> bool:
    """Whether the case was accepted by law (视为受理) rather than by a unit: from ``kinds`` (the kinds of its
    timeline lines, when the page has read them already) or one indexed read."""
    from .lifecycle import DEEMED_ACCEPTED

    if kinds is not None:
        return DEEMED_ACCEPTED in kinds
    return CaseStep.objects.filter(case_id=case.pk, kind=DEEMED_ACCEPTED).exists()


def case_materials(case: Case, *, include_superseded=False):
    query = case.materials.all()
    if not include_superseded:
        query = query.filter(superseded=False)
    return query.order_by("item_code", "code", "created_at")


def case_open_supplement(case: Case):
    return case.supplements.filter(answered_at__isnull=True).order_by("-created_at").first()


def case_awaiting_acceptance(user):
    """Submitted cases waiting for manual acceptance that a clerk may accept."""
    if not has_permission(user, "case.accept"):
        return Case.objects.none()
    return (
        Case.objects.filter(status=Case.Status.SUBMITTED)
        .select_related("item", "bundle")
        .order_by("submitted_at")
    )


def case_reference(number: str, *, applicant=None) -> dict | None:
    """What another app may know of a case by its number, without personal data: the number, the service item or
    bundle code and the lead department's code (the hotline links a ticket about a case); None if unknown.

    With ``applicant`` (a user) only that user's own cases are found, so a citizen cannot learn from the answer
    whether someone else's case number exists or what it is for: not theirs and unknown look the same."""
    number = (number or "").replace("\x00", "").strip()[:32]
    if not number:
        return None
    cases = Case.objects.filter(number=number)
    if applicant is not None:
        if not getattr(applicant, "is_authenticated", False):
            return None
        cases = cases.filter(_applicant_q(applicant))
    row = cases.values("number", "item__code", "bundle__code", "lead_department__code").first()
    if row is None:
        return None
    return {
        "number": row["number"],
        "service_code": row["item__code"] or row["bundle__code"] or "",
        "lead_department": row["lead_department__code"],
    }


# --- for the applicant's notifications (messaging reads a case by id from its event handlers) -----------------


def case_for_notification(case_id) -> Case | None:
    """The case with its applicant and service, for a system reader that tells the applicant what happened
    (no user: the event handler acts for the platform); None for an unknown or malformed id."""
    try:
        case_id = fast.prep(Case, "id", case_id)
    except (ValueError, TypeError, ValidationError, AttributeError):
        return None
    # One hand-written SELECT (``core.db.fast``): the outbox's subscribers call this for every move of every case,
    # and compiling the ORM's five-table select list cost more than running it.
    from tongban.catalog.models import ServiceItem
    from tongban.identity.models import Organisation, Person

    parts = (
        (fast.columns(Case, "c"), None),
        (fast.columns(ServiceItem, "i"), "item"),
        (fast.columns(Bundle, "b"), "bundle"),
        (fast.columns(Person, "p"), "applicant_person"),
        (fast.columns(Organisation, "o"), "applicant_organisation"),
    )
    row = fast.fetchone(
        f"SELECT {', '.join(cols.sql for cols, _name in parts)} FROM cases_case c "  # noqa: S608
        f"LEFT OUTER JOIN {ServiceItem._meta.db_table} i ON i.id = c.item_id "
        f"LEFT OUTER JOIN {Bundle._meta.db_table} b ON b.id = c.bundle_id "
        f"LEFT OUTER JOIN {Person._meta.db_table} p ON p.id = c.applicant_person_id "
        f"LEFT OUTER JOIN {Organisation._meta.db_table} o ON o.id = c.applicant_organisation_id "
        "WHERE c.id = %s",
        [case_id],
    )
    if row is None:
        return None
    return fast.build_joined(parts, row)


def case_supplement_get(supplement_id):
    """One supplement request by id (the complete list asked of the applicant), or None."""
    try:
        return SupplementRequest.objects.filter(pk=supplement_id).first()
    except (ValueError, TypeError, ValidationError):
        return None


def case_numbers(case_ids) -> dict[str, str]:
    """The numbers of the cases with these ids (``str(id)`` → number), for pages that name a case by its id."""
    ids = {str(i) for i in case_ids if i}
    if not ids:
        return {}
    valid = []
    for value in ids:
        try:
            valid.append(uuid.UUID(value))
        except ValueError:
            continue
    return {str(pk): number for pk, number in Case.objects.filter(pk__in=valid).values_list("pk", "number")}


def case_list_for_departments(department_ids, *, item_codes=(), status=None):
    """The cases led, accepted or worked (a task) by one of ``department_ids``, limited to the service items with
    these codes if any are given (a bundle's case counts as a case of each of its items): what an API client of
    those departments may read."""
    ids = list(department_ids)
    query = Case.objects.filter(
        Q(lead_department_id__in=ids) | Q(accepting_department_id__in=ids) | case_has_task_in(ids)
    )
    if item_codes:
        codes = list(item_codes)
        query = query.filter(Q(item__code__in=codes) | Q(bundle__items__code__in=codes)).distinct()
    return _filtered(query, status=status).select_related(*_LIST_RELATED).order_by(*CASE_KEYSET.order_by())


def case_get_by_number(number: str) -> Case | None:
    """The case with this number, whoever asks (the caller checks what the asker may see: ``case_scope``)."""
    return (
        Case.objects.select_related("item", "bundle", "lead_department", "accepting_department")
        .filter(number=number)
        .first()
    )


def case_scope(case_ids) -> dict:
    """For each case id (a string): ``(department ids, service item codes)``: the departments that lead, accepted
    or have a task in the case, and the code of its item, or of its bundle and the bundle's items. What an outside
    system's limits are checked against."""
    cases = {
        str(row["pk"]): row
        for row in Case.objects.filter(pk__in=list(case_ids)).values(
            "pk", "lead_department_id", "accepting_department_id", "item__code", "bundle_id", "bundle__code"
        )
    }
    tasks: dict[str, set] = {}
    for case_id, department_id in Task.objects.filter(case_id__in=list(cases)).values_list(
        "case_id", "department_id"
    ):
        tasks.setdefault(str(case_id), set()).add(department_id)
    bundle_items: dict = {}
    bundle_ids = {row["bundle_id"] for row in cases.values() if row["bundle_id"]}
    if bundle_ids:
        for bundle_id, code in Bundle.items.through.objects.filter(bundle_id__in=bundle_ids).values_list(
            "bundle_id", "item__code"
        ):
            bundle_items.setdefault(bundle_id, set()).add(code)
    scope = {}
    for case_id, row in cases.items():
        departments = {row["lead_department_id"], *tasks.get(case_id, ())}
        if row["accepting_department_id"]:
            departments.add(row["accepting_department_id"])
        if row["item__code"]:
            codes = {row["item__code"]}
        else:
            codes = {row["bundle__code"], *bundle_items.get(row["bundle_id"], ())}
        scope[case_id] = (frozenset(departments), frozenset(codes))
    return scope
