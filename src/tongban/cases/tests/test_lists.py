"""The lists through the API at scale: keyset pages, page sizes, who sees what, and the shape of their queries.

A tiny demo city with a synthetic case history (``seed --cases``) seeded once for the class, rolled back after.
"""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.db.models import Count, Q
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tongban.cases.models import Case
from tongban.cases.selectors import case_list_for_applicant
from tongban.core.calendar import SHANGHAI
from tongban.core.db import fast
from tongban.demo.cases_history import cases_history_seed
from tongban.identity.models import Department, User
from tongban.identity.selectors import department_scope_ids, staff_for
from tongban.identity.tests.factories import login_verified
from tongban.supervision.selectors import case_watch_list, case_watch_page
from tongban.workflow.models import Task
from tongban.workflow.selectors import inbox_for

UNTIL = dt.datetime(2026, 12, 5, 18, 0, tzinfo=SHANGHAI)
CASES = "/api/v1/cases/"
TASKS = "/api/v1/tasks/"
WATCHED = "/api/v1/supervised-cases/"


class RolledBack(Exception):
    pass


@pytest.fixture(scope="class")
def city(django_db_setup, django_db_blocker, demo_city_seeder, replayer):
    """The city and its case history once for each class (rolled back at its end); written for real the first time
    in the run, replayed after (``demo/tests/test_cases_history.py`` tests the history's writing)."""

    def history():
        cases_history_seed(cases=400, seed=11, until=UNTIL, batch_size=100)

    with django_db_blocker.unblock():
        try:
            with transaction.atomic():
                demo_city_seeder(people=200, organisations=20, seed=11, batch_size=64)
                replayer.run(("cases_history_seed", 400, 11, UNTIL, 100), history)
                yield
                raise RolledBack
        except RolledBack:
            pass


def _client(username):
    user = User.objects.get(username=username)
    client = Client()
    if staff_for(user) is not None:
        login_verified(client, user)
    else:
        client.force_login(user)
    return client


def _all_pages(client, url, params=None, *, page_size=7):
    """Every row of a list, following ``next``; also how many pages it took."""
    rows, pages = [], 0
    response = client.get(url, {**(params or {}), "page_size": page_size})
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"next", "results"}  # no total count
        rows += body["results"]
        pages += 1
        if not body["next"]:
            return rows, pages
        response = client.get(body["next"])


def _visible_to_staff(username):
    """What the staff case list must hold: led, accepted or worked (a task) by a department in scope."""
    staff = staff_for(User.objects.get(username=username))
    ids = department_scope_ids(staff, read_only=True)
    worked = Task.objects.filter(department_id__in=ids).values("case_id")
    return Case.objects.filter(
        Q(lead_department_id__in=ids) | Q(accepting_department_id__in=ids) | Q(pk__in=worked)
    )


def _busiest_citizen(**case_filters):
    """The citizen with the most cases (of ``case_filters``) in the seeded history: the subject of the list tests
    (which citizen gets how many cases depends on the history's random draws)."""
    row = (
        Case.objects.filter(applicant_person__user__isnull=False, **case_filters)
        .values("applicant_person__user__username")
        .annotate(n=Count("id"))
        .order_by("-n", "applicant_person__user__username")
        .first()
    )
    assert row, "the history gives some citizen with an account a case"
    return row["applicant_person__user__username"]


def _busiest_handler():
    """A handler of the department with the most open handler tasks, and that department."""
    row = (
        Task.objects.filter(
            state__in=Task.OPEN_STATES, role="dept_handler", department__staff__roles="dept_handler"
        )
        .values("department")
        .annotate(n=Count("id", distinct=True))
        .order_by("-n", "department")
        .first()
    )
    assert row, "the history leaves some handler tasks open"
    department = Department.objects.get(pk=row["department"])
    staff = department.staff.filter(roles="dept_handler").order_by("user__username").first()
    return staff.user.username, department


@pytest.mark.django_db
class ListApiTests:
    def test_a_citizen_sees_exactly_their_own_cases_newest_first(self, city):
        username = _busiest_citizen()
        rows, pages = _all_pages(_client(username), CASES, page_size=1)
        user = User.objects.get(username=username)
        mine = Case.objects.filter(Q(applicant_person__user=user) | Q(submitted_by=user))
        assert mine.count() > 1 and pages > 1
        assert [r["number"] for r in rows] == list(
            mine.order_by("-created_at", "-id").values_list("number", flat=True)
        )

    def test_a_citizen_filters_their_own_cases_by_status(self, city):
        username = _busiest_citizen(status="completed")
        user = User.objects.get(username=username)
        mine = Case.objects.filter(Q(applicant_person__user=user) | Q(submitted_by=user), status="completed")
        rows, _pages = _all_pages(_client(username), CASES, {"status": "completed"}, page_size=2)
        assert mine.exists()
        assert [r["number"] for r in rows] == list(
            mine.order_by("-created_at", "-id").values_list("number", flat=True)
        )

    def test_another_citizen_sees_none_of_them(self, city):
        mine = {r["number"] for r in _all_pages(_client("li.ming"), CASES)[0]}
        theirs = {r["number"] for r in _all_pages(_client("chen.jing"), CASES)[0]}
        assert mine and theirs and not mine & theirs

    @pytest.mark.parametrize("username", ["handler.mi", "handler.ps.huangpu", "head.ps", "handler.tax"])
    def test_staff_see_exactly_the_cases_of_their_department_scope(self, city, username):
        rows, _pages = _all_pages(_client(username), CASES, page_size=9)
        expected = list(
            _visible_to_staff(username).order_by("-created_at", "-id").values_list("number", flat=True)
        )
        assert expected, "the history gives every one of these departments some cases"
        assert [r["number"] for r in rows] == expected

    def test_a_department_sees_the_bundle_cases_it_works_but_not_the_others(self, city):
        numbers = {r["number"] for r in _all_pages(_client("handler.mi"), CASES, page_size=50)[0]}
        mi = Department.objects.get(code="medical-insurance")
        worked = set(
            Task.objects.filter(
                department=mi, case_id__in=Case.objects.filter(bundle__isnull=False).values("pk")
            ).values_list("case_number", flat=True)
        )
        assert worked and worked <= numbers
        estate = set(
            Case.objects.filter(bundle__code="real-estate-transfer").values_list("number", flat=True)
        )
        assert estate and not estate & numbers

    def test_a_supervisor_sees_every_case(self, city):
        rows, _pages = _all_pages(_client("supervisor"), CASES, page_size=100)
        assert len(rows) == Case.objects.count()

    def test_search_by_number_and_by_service_name(self, city):
        client = _client("head.ps")
        case = _visible_to_staff("head.ps").order_by("created_at").first()
        found = client.get(CASES, {"q": case.number}).json()["results"]
        assert [r["number"] for r in found] == [case.number]
        word = case.title[:2]
        rows, _pages = _all_pages(client, CASES, {"q": word}, page_size=50)
        assert rows and all(word in r["title"] for r in rows)
        expected = _visible_to_staff("head.ps").filter(title__icontains=word).count()
        assert len(rows) == expected

    def test_a_word_search_reads_the_named_services_cases_without_a_title_filter(self, city):
        # The sources restricted to the services whose name holds the words carry no title LIKE besides: on
        # PostgreSQL the LIKE's estimate (a row or two) turned an index range into a bitmap scan and a sort of every
        # case of the bundle. The answers stay those of the title search (test_search_by_number_and_by_service_name).
        from tongban.cases.selectors import case_page_for_staff

        for username in ("handler.mi", "head.ps"):
            pages = case_page_for_staff(User.objects.get(username=username), search="出生")
            sources = [str(source.query).partition(" WHERE ")[2] for source in pages._sources()]
            named = [
                sql
                for sql in sources
                if any(
                    f'"cases_case"."{c}" {op}' in sql for c in ("bundle_id", "item_id") for op in ("=", "IN")
                )
            ]
            assert named, sources
            assert not [sql for sql in named if "LIKE" in sql], named

    def test_status_filter_on_the_staff_list(self, city):
        rows, _pages = _all_pages(_client("handler.ps"), CASES, {"status": "completed"}, page_size=50)
        assert rows and {r["status"] for r in rows} == {"completed"}
        assert len(rows) == _visible_to_staff("handler.ps").filter(status="completed").count()

    def test_page_size_is_honoured_and_bounded(self, city):
        client = _client("supervisor")
        assert len(client.get(CASES, {"page_size": 3}).json()["results"]) == 3
        assert len(client.get(CASES).json()["results"]) == 20
        assert len(client.get(CASES, {"page_size": 100}).json()["results"]) == 100
        for bad in ("0", "101", "many"):
            response = client.get(CASES, {"page_size": bad})
            assert response.status_code == 400
            assert "page_size" in response.json()["errors"]

    def test_a_forged_cursor_is_a_400_not_a_500(self, city):
        client = _client("li.ming")
        for cursor in ("garbage", "WyJ4IiwieSJd", "WzEsMiwzXQ"):
            response = client.get(CASES, {"cursor": cursor})
            assert response.status_code == 400, cursor
            assert "cursor" in response.json()["errors"]

    def test_pages_of_any_size_give_the_same_list(self, city):
        client = _client("head.ps")
        small = [r["number"] for r in _all_pages(client, CASES, page_size=4)[0]]
        large = [r["number"] for r in _all_pages(client, CASES, page_size=100)[0]]
        assert small == large and len(set(small)) == len(small)

    @pytest.mark.parametrize(
        ("username", "url"),
        [("head.ps", CASES), ("li.ming", CASES), ("handler.ps", TASKS), ("supervisor", WATCHED)],
    )
    def test_a_list_counts_nothing_and_its_queries_do_not_grow_with_the_page(self, city, username, url):
        client = _client(username)
        client.get(url)  # warm the session and caches
        with CaptureQueriesContext(connection) as small:
            assert client.get(url, {"page_size": 2}).status_code == 200
        with CaptureQueriesContext(connection) as large:
            assert client.get(url, {"page_size": 60}).status_code == 200
        assert len(small) == len(large)
        assert not [q["sql"] for q in large if "COUNT(" in q["sql"].upper()]
        assert not [q["sql"] for q in large if "DISTINCT" in q["sql"].upper()]

    def test_the_inbox_is_the_open_tasks_of_my_department_and_role_soonest_due_first(self, city):
        username, department = _busiest_handler()
        rows, _pages = _all_pages(_client(username), TASKS, page_size=5)
        expected = Task.objects.filter(
            department=department, state__in=Task.OPEN_STATES, role="dept_handler"
        ).order_by("due_date", "created_at", "id")
        assert rows and [r["id"] for r in rows] == [str(pk) for pk in expected.values_list("pk", flat=True)]

    def test_a_department_head_sees_every_open_task_of_the_department(self, city):
        rows, _pages = _all_pages(_client("head.ps"), TASKS, page_size=50)
        ps = Department.objects.get(code="public-security")
        assert len(rows) == Task.objects.filter(department=ps, state__in=Task.OPEN_STATES).count()

    def test_the_supervision_list_holds_the_open_cases_in_the_watchers_scope(self, city):
        everything, _pages = _all_pages(_client("supervisor"), WATCHED, page_size=25)
        open_cases = Case.objects.exclude(status__in=[*Case.CLOSED_STATUSES, Case.Status.DRAFT])
        assert [r["number"] for r in everything] == list(
            open_cases.order_by("due_date", "id").values_list("number", flat=True)
        )
        red, _pages = _all_pages(_client("supervisor"), WATCHED, {"warning": "red"})
        assert red and {r["warning"] for r in red} == {"red"}
        mine, _pages = _all_pages(_client("head.health"), WATCHED)
        health = Department.objects.get(code="health")
        assert mine and {r["lead_department"] for r in mine} == {"health"}
        assert len(mine) == open_cases.filter(lead_department=health).count()

    def test_the_supervision_list_names_services_and_departments_without_a_join(self, city):
        client = _client("supervisor")
        client.get(WATCHED)  # warm the session and the reference table
        with CaptureQueriesContext(connection) as queries:
            rows = client.get(WATCHED, {"page_size": 50}).json()["results"]
        case_queries = [q["sql"] for q in queries if '"cases_case"' in q["sql"]]
        assert len(case_queries) == 1 and " JOIN " not in case_queries[0]
        expected = {
            case.number: case
            for case in Case.objects.filter(number__in=[r["number"] for r in rows]).select_related(
                "item", "bundle", "lead_department"
            )
        }
        assert rows and len(expected) == len(rows)
        for row in rows:
            case = expected[row["number"]]
            assert row["service_code"] == case.service.code
            assert row["lead_department"] == case.lead_department.code
            assert row["lead_department_name"] == case.lead_department.name_zh

    def test_the_supervision_rows_are_what_the_serializer_gives(self, city):
        from tongban.supervision.api import WatchedCaseSerializer, watched_case_rows

        supervisor = User.objects.get(username="supervisor")
        cases = list(case_watch_list(supervisor))
        assert {c.status for c in cases} >= {"accepted", "in_progress"} and {c.warning for c in cases} > {""}
        assert watched_case_rows(cases) == WatchedCaseSerializer(cases, many=True).data
        # The API's rows: the page's named tuples (core.db.fast.records), the same cases in the same order.
        records = case_watch_page(supervisor).page(None, len(cases) + 1)
        assert [r.number for r in records] == [c.number for c in cases]
        assert watched_case_rows(records) == WatchedCaseSerializer(cases, many=True).data

    def test_the_case_rows_are_what_the_serializer_gives(self, city):
        from tongban.cases.api import CaseSummarySerializer, case_rows
        from tongban.cases.selectors import CASE_RECORD_FIELDS, CASE_ROW_FIELDS

        numbers = {
            status: Case.objects.filter(status=status).values_list("number", flat=True).first()
            for status in ("completed", "accepted", "in_progress", "submitted", "rejected")
        }
        numbers = [n for n in numbers.values() if n] + list(
            Case.objects.filter(bundle__isnull=False).values_list("number", flat=True)[:3]
        )
        rows = list(Case.objects.filter(number__in=numbers).only(*CASE_ROW_FIELDS).order_by("number"))
        full = list(
            Case.objects.filter(number__in=numbers).select_related("item", "bundle").order_by("number")
        )
        assert len(rows) >= 5 and {c.bundle_id is None for c in rows} == {True, False}
        assert any(c.closed_at for c in rows) and any(c.due_date for c in rows)
        assert case_rows(rows) == CaseSummarySerializer(full, many=True).data
        # The API's rows: named tuples of the page's values (core.db.fast.records).
        records = fast.records(
            Case,
            CASE_RECORD_FIELDS,
            Case.objects.filter(number__in=numbers).order_by("number").values_list(*CASE_RECORD_FIELDS),
        )
        assert case_rows(records) == CaseSummarySerializer(full, many=True).data

    def test_the_inbox_rows_are_what_the_serializer_gives(self, city):
        from tongban.workflow.api import TaskSerializer, task_rows
        from tongban.workflow.selectors import INBOX_RECORD_FIELDS

        handler = User.objects.get(username="handler.ps")
        Task.objects.filter(pk__in=Task.objects.filter(state="ready").values("pk")[:3]).update(
            state="claimed", assignee=handler, claimed_at=UNTIL, opinion="看过", warning="yellow"
        )
        query = Task.objects.filter(
            Q(state__in=("claimed", "completed", "waiting")) | Q(due_date__isnull=True)
        ).order_by("state", "id")[:60]
        tasks = list(query.select_related("department", "assignee"))
        assert {t.state for t in tasks} >= {"claimed", "completed"} and any(t.assignee_id for t in tasks)
        # The API's rows: named tuples of the page's values (core.db.fast.records).
        records = fast.records(Task, INBOX_RECORD_FIELDS, query.values_list(*INBOX_RECORD_FIELDS))
        assert task_rows(records) == TaskSerializer(tasks, many=True).data

    def test_citizens_and_handlers_may_not_read_the_supervision_list(self, city):
        assert _client("li.ming").get(WATCHED).status_code == 403
        assert _client("handler.ps").get(WATCHED).status_code == 403


@pytest.mark.django_db
class ListQueryPlanTests:
    """On SQLite, each list is one range of an index made for it (no sort of the whole set)."""

    def _plan(self, queryset):
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return " | ".join(str(row[-1]) for row in cursor.fetchall())

    @pytest.fixture(autouse=True)
    def _sqlite_only(self):
        if connection.vendor != "sqlite":
            pytest.skip("needs SQLite: query plans are checked on SQLite")

    def test_the_inbox_reads_the_open_inbox_index_in_order(self, city):
        plan = self._plan(inbox_for(User.objects.get(username="handler.ps"))[:21])
        assert "workflow_task_open_inbox" in plan and "TEMP B-TREE" not in plan

    def test_the_supervision_list_reads_an_open_cases_index_in_order(self, city):
        # The supervisor's page: the first entries of one partial index, read from the index alone (no join:
        # with one, SQLite's planner started from the departments and sorted every open case).
        supervisor = User.objects.get(username="supervisor")
        for query in (case_watch_list(supervisor), case_watch_list(supervisor, warning="red")):
            plan = self._plan(query[:21])
            assert "COVERING INDEX cases_case_open_due_cover" in plan, plan
            assert "TEMP B-TREE" not in plan and " JOIN" not in str(query[:21].query)
        # A department head's scope (the department and its branches): one of the two partial indexes (by
        # department at scale, where it sorts the scope's entries; in order in this small city), still without
        # reading the table.
        plan = self._plan(case_watch_list(User.objects.get(username="head.health"))[:21])
        assert "COVERING INDEX cases_case_open_" in plan, plan

    def test_a_department_head_s_supervision_page_names_the_index_by_department_to_sqlite(self, city):
        # At a million cases SQLite's planner, from sampled statistics, took the status index for a head's scope
        # and sorted its open cases (37-48 ms a page against 0.2 ms): the page's statement names the index.
        from django.test.utils import CaptureQueriesContext

        from tongban.supervision.selectors import case_watch_page

        def page_sql(username, **options):
            with CaptureQueriesContext(connection) as queries:
                rows = case_watch_page(User.objects.get(username=username), **options).page(None, 21)
            return queries.captured_queries[-1]["sql"], rows

        for options in ({}, {"warning": "yellow"}):
            sql, rows = page_sql("head.health", **options)
            assert 'FROM "cases_case" INDEXED BY "cases_case_open_lead_cover" ' in sql, sql
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
                plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
            assert "COVERING INDEX cases_case_open_lead_cover" in plan, plan
            expected = list(case_watch_list(User.objects.get(username="head.health"), **options)[:21])
            assert [row.pk for row in rows] == [case.pk for case in expected]
        sql, _rows = page_sql("supervisor")
        assert "INDEXED BY" not in sql  # every open case: the index by due date, in order

    def test_the_next_page_of_warned_cases_is_a_range_of_the_open_cases_index(self, city):
        # The second page (after a case with a due date): a row-value range of the partial index, not the open
        # cases of the status index sorted (180 ms of SQL at a million cases for the supervisor).
        from tongban.supervision.selectors import WATCH_KEYSET

        query = case_watch_list(User.objects.get(username="supervisor"), warning="yellow")
        cursor = ["2026-12-02", "00000000-0000-0000-0000-000000000000"]
        plan = self._plan(WATCH_KEYSET.after(query, cursor)[:21])
        assert "cases_case_open_due_cover ((due_date,id)>(?,?))" in plan, plan
        assert "TEMP B-TREE" not in plan, plan

    def test_a_bundle_department_probes_each_case_s_tasks_by_the_case_and_department_index(self, city):
        # The probe (has this case a task of the department?) answers from the index alone, not from the case's
        # task rows: a district department with a lane on a few per cent of a bundle's cases walks some forty
        # cases a row shown (9.6 → 6.8 ms of CPU a page at 200,000 cases).
        from tongban.cases.selectors import CASE_KEYSET, case_page_for_staff

        pages = case_page_for_staff(User.objects.get(username="handler.mi"))
        plans = [self._plan(CASE_KEYSET.after(source, None)[:21]) for source in pages._sources()]
        worked = [plan for plan in plans if "SUBQUERY" in plan]
        assert worked and all("COVERING INDEX workflow_task_case_dept" in plan for plan in worked), worked
        assert not [plan for plan in plans if "TEMP B-TREE" in plan]

    def test_my_cases_reads_indexes_only(self, city):
        plan = self._plan(case_list_for_applicant(User.objects.get(username="li.ming"))[:21])
        assert "SCAN cases_case " not in plan + " "
        plan = self._plan(
            case_list_for_applicant(User.objects.get(username="li.ming"), status="completed")[:21]
        )
        assert "cases_case_status" not in plan and "SCAN cases_case " not in plan + " "

    def test_a_staff_search_by_number_reads_the_number_index(self, city):
        from tongban.cases.selectors import CASE_KEYSET, case_page_for_staff

        number = (
            _visible_to_staff("handler.mi").filter(bundle__isnull=False).values_list("number", flat=True)[0]
        )
        for username, search in (("handler.mi", number), ("handler.ps", number[:12]), ("head.ps", number)):
            pages = case_page_for_staff(User.objects.get(username=username), search=search)
            plans = [self._plan(CASE_KEYSET.after(source, None)[:21]) for source in pages._sources()]
            assert plans and all("(number>? AND number<?)" in plan for plan in plans), plans
        # The same answers as the department's cases filtered by that number.
        client = _client("handler.mi")
        rows, _pages = _all_pages(client, CASES, {"q": number})
        assert [r["number"] for r in rows] == [number]

    def test_a_staff_list_filtered_by_status_reads_one_range_of_a_status_index_per_source(self, city):
        # A department's cases of one status, newest first: (department|service, status, created_at, id), not
        # the status's cases of the whole city in list order with the department checked on each.
        from tongban.cases.selectors import CASE_KEYSET, case_page_for_staff

        for username in ("handler.ps", "handler.mi", "head.ps"):
            pages = case_page_for_staff(User.objects.get(username=username), status="rejected")
            plans = [self._plan(CASE_KEYSET.after(source, None)[:21]) for source in pages._sources()]
            assert plans, username
            for plan in plans:
                assert "_status (" in plan and "cases_case_status_list" not in plan, plan
                assert "TEMP B-TREE" not in plan, plan


@pytest.mark.django_db
def test_on_postgresql_the_open_lists_indexes_sort_null_due_dates_first_as_the_lists_do():
    # The supervision list and the inbox order by due date NULLS FIRST; an index sorting NULLs last (PostgreSQL's
    # default) cannot give that order, and every page sorted the scope's open cases (332 ms at 200,000 cases).
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite sorts NULLs first in every index")
    names = ["cases_case_open_due_cover", "cases_case_open_lead_cover", "workflow_task_open_inbox"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)", [names])
        definitions = dict(cursor.fetchall())
    assert sorted(definitions) == sorted(names)
    for definition in definitions.values():
        assert "due_date NULLS FIRST" in definition, definition
        assert " WHERE " in definition, definition  # still the partial index of open rows


def test_a_keyset_page_after_a_due_date_is_a_row_value_range_bounded_on_postgresql():
    from tongban.supervision.selectors import WATCH_KEYSET

    query = Case.objects.filter(warning="yellow")
    sql, _params = WATCH_KEYSET.after(
        query, ["2026-12-02", "00000000-0000-0000-0000-000000000000"]
    ).query.sql_with_params()
    assert '("cases_case"."due_date", "cases_case"."id") > (%s, %s)' in sql
    bounded = '"cases_case"."due_date" >= %s' in sql
    assert bounded == (connection.vendor == "postgresql"), sql
