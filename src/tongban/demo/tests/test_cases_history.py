"""The synthetic case history (``tongban seed --cases``): consistent cases, timelines, tasks and audit entries.

One tiny city with 300 cases, seeded once for the module's class and rolled back at the end.
"""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Count

from tongban.cases.models import Case, CaseStep
from tongban.core.audit import audit_verify
from tongban.core.calendar import SHANGHAI
from tongban.core.models import AuditEntry
from tongban.demo import reference as ref
from tongban.demo.cases_history import (
    HistoryGenerator,
    _blocks_made,
    _history_tables,
    _secondary_indexes,
    case_history_count,
    cases_history_seed,
)
from tongban.identity.models import Organisation, Person, User
from tongban.workflow.models import ProcessInstance, Task

CASES = 300
UNTIL = dt.datetime(2026, 12, 5, 18, 0, tzinfo=SHANGHAI)


class RolledBack(Exception):
    pass


@pytest.fixture(scope="class")
def history(django_db_setup, django_db_blocker, demo_city_seeder):
    with django_db_blocker.unblock():
        try:
            with transaction.atomic():
                demo_city_seeder(people=300, organisations=30, seed=7, batch_size=64)
                before = set(Case.objects.values_list("pk", flat=True))
                with connection.cursor() as cursor:
                    indexes = _secondary_indexes(cursor, _history_tables())
                # As a large load does it: the secondary indexes dropped, then made again.
                result = cases_history_seed(
                    cases=CASES, seed=7, until=UNTIL, batch_size=64, defer_indexes=True
                )
                yield result, Case.objects.exclude(pk__in=before), indexes
                raise RolledBack
        except RolledBack:
            pass


def _open(cases):
    return cases.exclude(status__in=Case.CLOSED_STATUSES)


@pytest.mark.django_db
class CaseHistoryTests:
    def test_the_asked_number_of_cases_is_written_with_a_realistic_mix(self, history):
        result, cases, _indexes = history
        assert result.cases == cases.count() == CASES
        assert case_history_count() == CASES
        statuses = dict(cases.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
        assert statuses.get("completed", 0) > CASES * 0.7
        assert set(statuses) - {"completed"}, "some cases are open, refused or withdrawn"
        assert cases.filter(bundle__isnull=False).exists() and cases.filter(item__isnull=False).exists()

    def test_every_open_case_has_an_open_task_and_every_closed_one_none(self, history):
        result, cases, _indexes = history
        open_tasks = Task.objects.filter(state__in=Task.OPEN_STATES)
        # The summary's count is the rows' (it once read the wrong column and said "0 open").
        assert result.open_tasks == open_tasks.filter(case_id__in=cases.values("pk")).count() > 0
        waiting_for_acceptance = cases.filter(status=Case.Status.SUBMITTED)
        for case in _open(cases).exclude(status=Case.Status.SUBMITTED):
            assert open_tasks.filter(case_id=case.pk).exists(), case.status
        assert not open_tasks.filter(
            case_id__in=cases.filter(status__in=Case.CLOSED_STATUSES).values("pk")
        ).exists()
        # Waiting for a clerk to accept: no process yet, so no task.
        assert not Task.objects.filter(case_id__in=waiting_for_acceptance.values("pk")).exists()

    def test_open_tasks_wait_in_the_inbox_of_the_step_department(self, history):
        _result, cases, _indexes = history
        standard = cases.filter(item__isnull=False).exclude(status__in=Case.CLOSED_STATUSES)
        for case in standard:
            for task in Task.objects.filter(case_id=case.pk, state__in=Task.OPEN_STATES):
                # The standard process's lanes are the service's own department.
                assert task.department_id == case.lead_department_id
                assert task.case_number == case.number

    def test_a_supplement_case_waits_for_the_applicant(self, history):
        _result, cases, _indexes = history
        for case in cases.filter(status=Case.Status.SUPPLEMENT):
            assert Task.objects.filter(case_id=case.pk, state=Task.State.WAITING).exists()
            assert ProcessInstance.objects.get(case_id=case.pk).status == ProcessInstance.Status.SUSPENDED

    def test_every_timeline_starts_with_the_submission_and_a_closed_one_ends_with_its_outcome(self, history):
        _result, cases, _indexes = history
        for case in cases:
            kinds = list(
                CaseStep.objects.filter(case=case).order_by("at", "id").values_list("kind", flat=True)
            )
            assert kinds[0] == "submitted"
            if case.status in Case.CLOSED_STATUSES:
                assert kinds[-1] == case.status
                assert case.closed_at is not None and case.closed_at >= case.submitted_at

    def test_the_audit_chain_verifies_and_every_case_has_its_entries(self, history):
        result, cases, _indexes = history
        report = audit_verify(workers=1)
        assert report.ok, report.problems
        case = cases.filter(status=Case.Status.COMPLETED).first()
        actions = list(
            AuditEntry.objects.filter(case_id=str(case.pk)).order_by("id").values_list("action", flat=True)
        )
        assert (
            actions[0] == "case.submitted"
            and actions[1] == "case.accepted"
            and actions[-1] == "case.completed"
        )
        assert result.audit_entries >= 2 * CASES

    def test_applicants_are_persons_and_organisations_of_the_city(self, history):
        _result, cases, _indexes = history
        for case in cases.select_related("applicant_person", "applicant_organisation"):
            applicant = case.applicant_person or case.applicant_organisation
            assert isinstance(applicant, Person | Organisation)
            assert case.applicant_name == applicant.name
        # A demo citizen's online cases are submitted by their account ("my cases" fills).
        demo_users = User.objects.filter(username__in=[row[0] for row in ref.DEMO_CITIZENS])
        for case in cases.filter(submitted_by__isnull=False):
            assert case.submitted_by in demo_users
            assert case.applicant_person.user_id == case.submitted_by_id

    def test_case_numbers_are_unique_and_read_as_the_submission_day(self, history):
        _result, cases, _indexes = history
        numbers = list(cases.values_list("number", "submitted_at"))
        assert len({n for n, _at in numbers}) == CASES
        for number, submitted in numbers:
            assert number[2:10] == f"{submitted.astimezone(SHANGHAI):%Y%m%d}"

    def test_the_same_seed_and_day_give_the_same_cases(self, history):
        first = HistoryGenerator(seed=99, until=UNTIL)
        second = HistoryGenerator(seed=99, until=UNTIL)
        assert [first.case() for _ in range(20)] == [second.case() for _ in range(20)]
        other = HistoryGenerator(seed=100, until=UNTIL)
        assert [c[0][1] for c in (other.case() for _ in range(5))] != [
            c[0][1] for c in (first.case() for _ in range(5))
        ]

    def test_keys_are_time_ordered_as_the_platform_makes_them_at_the_rows_own_time(self, history):
        """Cases, process instances and tasks get version-7 keys (core.models.keys) whose time is the row's own
        making: the case's submission, the instance's acceptance, the task's creation."""
        _result, cases, _indexes = history

        def millis(key):
            return key.int >> 80

        def epoch_millis(moment):
            return int(moment.timestamp() * 1000)

        for case in cases.order_by("number")[:50]:
            assert case.pk.version == 7 and millis(case.pk) == epoch_millis(case.created_at), case.number
            for task in Task.objects.filter(case_id=case.pk):
                assert task.pk.version == 7 and millis(task.pk) == epoch_millis(task.created_at)
            for instance in ProcessInstance.objects.filter(case_id=case.pk):
                assert instance.pk.version == 7 and millis(instance.pk) == epoch_millis(instance.created_at)

    def test_the_indexes_dropped_for_the_load_are_all_made_again(self, history):
        _result, _cases, before = history
        assert len(before) > 20  # the lists' indexes among them
        with connection.cursor() as cursor:
            after = _secondary_indexes(cursor, _history_tables())
        assert [name for name, _sql in after] == [name for name, _sql in before]
        if connection.vendor == "sqlite":  # PostgreSQL prints a made-again condition with other casts
            assert after == before

    def test_worker_processes_make_the_same_rows_as_one_process(self, history):
        generator = HistoryGenerator(seed=5, until=UNTIL)
        cases = 2_300  # three blocks, the last one short
        with _blocks_made(generator, cases, 0) as blocks:
            alone = list(blocks)
        with _blocks_made(generator, cases, 2) as blocks:
            forked = list(blocks)
        assert [len(b[0]) for b in forked] == [1_000, 1_000, 300]
        assert forked == alone

    def test_a_step_of_the_synthetic_history_cannot_be_worked_and_says_why(self, history, client):
        """Its process has no engine state (the history is for lists and figures): approving one was a 500 in the
        demo; the services refuse it as a conflict, the task page says why and offers no action."""
        from tongban.cases import services as cases
        from tongban.core.exceptions import Conflict
        from tongban.identity.models import Staff
        from tongban.identity.selectors import actor_for
        from tongban.identity.tests.fixtures import login_with_second_factor

        _result, cases_made, _indexes = history
        found = None
        for task in Task.objects.filter(case_id__in=cases_made.values("pk"), state=Task.State.READY):
            staff = Staff.objects.filter(
                department_id=task.department_id, active=True, roles__code__in=[task.role, "dept_head"]
            ).first()
            if staff is not None:
                found = task, staff.user
                break
        assert found is not None, "no open synthetic step that a seeded staff member may work"
        task, user = found
        with pytest.raises(Conflict) as caught:
            cases.case_task_complete(actor=actor_for(user), task_id=task.pk, decision="approve")
        assert caught.value.code == "synthetic_history"
        task.refresh_from_db()
        assert task.state == Task.State.READY
        login_with_second_factor(client, user)
        client.cookies["django_language"] = "en"
        page = client.get(f"/workbench/tasks/{task.pk}/").content.decode()
        assert "synthetic case history" in page and 'id="approve-opinion"' not in page
        response = client.post(f"/workbench/tasks/{task.pk}/approve/", {"opinion": "同意"})
        assert response.status_code == 409


@pytest.mark.django_db
def test_a_history_needs_the_demo_city():
    with pytest.raises(ValueError, match="seed the demo city first"):
        cases_history_seed(cases=10, seed=1, until=UNTIL)


@pytest.mark.django_db
def test_seed_refuses_a_negative_number_of_cases():
    with pytest.raises(CommandError, match="--cases"):
        call_command("seed", "--cases", "-1", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_a_bulk_load_leaves_the_wal_even_after_a_checkpoint_opened_a_second_connection():
    """`tongban demo` seeds the city, then the history in the same process: the city's commits had opened the
    process's checkpoint connection, and SQLite refused the history's switch away from the WAL ("database is
    locked") while it was open. The switch closes it first, and the journal comes back after the load."""
    from tongban.demo.cases_history import _sqlite_bulk_mode

    if connection.vendor != "sqlite":
        pytest.skip("needs SQLite: the journal mode is SQLite's")
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        (before,) = cursor.fetchone()
    if before != "wal":
        pytest.skip("needs SQLite: a database in WAL mode")
    connection._checkpoint()  # what every 64th commit of a process does
    assert connection._checkpointer is not None
    with _sqlite_bulk_mode(), connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone() == ("delete",)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone() == ("wal",)
