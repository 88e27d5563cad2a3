"""The deadline job (yellow warnings, red cards) and rectifications, through the services."""

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from tongban.cases import services as cases
from tongban.cases.models import Case
from tongban.cases.receipts import _accepting_unit
from tongban.core import calendar
from tongban.core.audit import SYSTEM
from tongban.core.exceptions import Conflict
from tongban.core.models import AuditEntry, OutboxEvent
from tongban.identity.selectors import actor_for
from tongban.supervision import services
from tongban.supervision.models import Rectification, Warning
from tongban.supervision.tasks import deadlines
from tongban.supervision.tests.fixtures import open_task, submit
from tongban.workflow.models import Task

DAY = dt.timedelta(days=1)


def test_a_task_gets_a_yellow_warning_on_its_last_working_day_and_not_before(parent, newborn, handlers):
    case = submit(parent, newborn)
    task = open_task(case, "birth_certificate")
    before = services.deadlines_check(today=task.due_date - DAY)
    assert before["tasks_yellow"] == 0
    assert not Warning.objects.exists()

    counts = services.deadlines_check(today=task.due_date)

    assert counts["tasks_yellow"] == 1 and counts["tasks_red"] == 0
    assert counts["cases_yellow"] == 0  # the case has 5 working days, the step 1
    task.refresh_from_db()
    assert task.warning == "yellow"
    warning = Warning.objects.get()
    assert (warning.subject_type, warning.subject_id, warning.level) == ("task", task.pk, "yellow")
    assert warning.department.code == "health"
    assert warning.case_number == case.number and warning.task_name == task.name
    assert AuditEntry.objects.filter(action="task.warning_yellow", subject_id=str(task.pk)).count() == 1
    assert OutboxEvent.objects.filter(name="task.warning", subject_id=str(task.pk)).count() == 1


def test_a_task_gets_a_red_card_the_day_after_its_due_date(parent, newborn, handlers):
    case = submit(parent, newborn)
    task = open_task(case, "birth_certificate")
    services.deadlines_check(today=task.due_date)

    counts = services.deadlines_check(today=task.due_date + DAY)

    assert counts["tasks_red"] == 1
    task.refresh_from_db()
    assert task.warning == "red"
    assert set(Warning.objects.filter(subject_id=task.pk).values_list("level", flat=True)) == {
        "yellow",
        "red",
    }
    assert AuditEntry.objects.filter(action="task.warning_red", subject_id=str(task.pk)).count() == 1


def test_a_step_found_late_gets_only_the_red_card(parent, newborn, handlers):
    case = submit(parent, newborn)
    task = open_task(case, "birth_certificate")
    services.deadlines_check(today=task.due_date + 3 * DAY)
    assert list(Warning.objects.filter(subject_id=task.pk).values_list("level", flat=True)) == ["red"]


def test_a_second_run_raises_nothing_new(parent, newborn, handlers):
    case = submit(parent, newborn)
    day = case.due_date + DAY
    first = services.deadlines_check(today=day)
    warnings, entries = Warning.objects.count(), AuditEntry.objects.count()
    assert first["tasks_red"] == 1 and first["cases_red"] == 1

    second = services.deadlines_check(today=day)

    assert second["tasks_red"] == second["tasks_yellow"] == second["cases_red"] == second["cases_yellow"] == 0
    assert Warning.objects.count() == warnings
    assert AuditEntry.objects.count() == entries


def test_a_case_gets_a_yellow_warning_then_a_red_card_each_audited_and_announced(parent, newborn, handlers):
    case = submit(parent, newborn)
    counts = services.deadlines_check(today=case.due_date)
    assert counts["cases_yellow"] == 1
    case.refresh_from_db()
    assert case.warning == "yellow"
    assert AuditEntry.objects.filter(action="case.warning_yellow", case_id=str(case.pk)).count() == 1

    counts = services.deadlines_check(today=case.due_date + DAY)

    assert counts["cases_red"] == 1
    case.refresh_from_db()
    assert case.warning == "red"
    assert case.status == Case.Status.ACCEPTED  # nothing else of the case changed
    assert AuditEntry.objects.filter(action="case.warning_red", case_id=str(case.pk)).count() == 1
    levels = OutboxEvent.objects.filter(name="case.warning").values_list("payload__level", flat=True)
    assert sorted(levels) == ["red", "yellow"]
    case_warnings = Warning.objects.filter(subject_type="case", subject_id=case.pk)
    assert {w.level for w in case_warnings} == {"yellow", "red"}
    assert {w.department.code for w in case_warnings} == {"health"}


def test_the_warning_policy_can_warn_before_the_last_day(parent, newborn, handlers):
    case = submit(parent, newborn)
    accepted = calendar.as_local_date(case.accepted_at)
    third = calendar.add_working_days(accepted, 3)  # share 0.6 of 5 days: the third counted day
    assert services.deadlines_check(today=third - DAY, policy="share:0.6")["cases_yellow"] == 0
    assert services.deadlines_check(today=third, policy="share:0.6")["cases_yellow"] == 1


def test_paused_tasks_and_cases_waiting_for_a_supplement_get_no_warning(parent, newborn, handlers):
    case = submit(parent, newborn)
    cases.case_task_complete(
        actor=actor_for(handlers["health"]),
        task_id=open_task(case, "birth_certificate").pk,
        decision="approve",
    )
    household = open_task(case, "household_registration")
    cases.case_supplement_request(
        actor=actor_for(handlers["public-security"]),
        task_id=household.pk,
        materials=[{"code": "parents-marriage-certificate", "reason": "照片不清晰"}],
    )

    counts = services.deadlines_check(today=calendar.today() + 60 * DAY)

    assert counts == {
        "tasks_checked": 0,
        "tasks_yellow": 0,
        "tasks_red": 0,
        "cases_checked": 0,
        "cases_yellow": 0,
        "cases_red": 0,
        "acceptances_checked": 0,
        "acceptances_yellow": 0,
        "acceptances_red": 0,
        "acceptances_deemed": 0,
        "tickets_checked": 0,
        "tickets_yellow": 0,
        "tickets_red": 0,
    }
    household.refresh_from_db()
    assert household.state == Task.State.WAITING and household.warning == ""
    assert not Warning.objects.exists()


def test_closed_cases_and_completed_steps_are_not_warned(completed_case):
    counts = services.deadlines_check(today=calendar.today() + 60 * DAY)
    assert counts["tasks_checked"] == counts["cases_checked"] == 0
    assert not Warning.objects.exists()


def test_the_job_reads_in_chunks(parent, newborn, handlers, monkeypatch):
    monkeypatch.setattr(services, "CHUNK_SIZE", 1)
    first, second = submit(parent, newborn), submit(parent, newborn)
    day = max(first.due_date, second.due_date) + DAY
    counts = services.deadlines_check(today=day)
    assert counts["tasks_checked"] == 2 and counts["tasks_red"] == 2
    assert counts["cases_checked"] == 2 and counts["cases_red"] == 2


def test_the_deadlines_command_prints_the_counts(parent, newborn, handlers):
    case = submit(parent, newborn)
    out = StringIO()
    with translation.override("en"):
        call_command("deadlines", today=(case.due_date + DAY).isoformat(), stdout=out)
    text = out.getvalue()
    assert "Tasks: 1 looked at, 0 yellow warnings and 1 red cards raised." in text
    assert "Cases: 1 looked at, 0 yellow warnings and 1 red cards raised." in text
    assert Warning.objects.filter(level="red").count() == 2
    with pytest.raises(CommandError):
        call_command("deadlines", today="someday", stdout=StringIO())


def test_the_periodic_task_runs_every_quarter_hour_and_raises_what_is_due(parent, newborn, handlers):
    schedule = deadlines.task_class().validate_datetime
    assert schedule(dt.datetime(2027, 3, 1, 10, 15))
    assert not schedule(dt.datetime(2027, 3, 1, 10, 7))
    case = submit(parent, newborn)
    Task.objects.filter(case_id=case.pk).update(due_date=calendar.today() - DAY)  # the step ran out yesterday
    deadlines.call_local()
    assert Warning.objects.get().level == "red"


# --- rectifications -------------------------------------------------------------------------------------


def test_a_rectification_is_due_in_five_working_days_for_the_lead_department(completed_case):
    rectification = services.rectification_open(actor=SYSTEM, case=completed_case, reason="等了很久")
    assert rectification.department.code == "health"
    assert rectification.due_date == calendar.add_working_days(calendar.today(), 5)
    assert rectification.status == Rectification.Status.OPEN
    assert AuditEntry.objects.filter(action="rectification.opened", subject_id=str(rectification.pk)).exists()
    assert OutboxEvent.objects.filter(name="rectification.opened").exists()


def test_only_a_supervisor_closes_a_rectification(completed_case, supervisor, health_head):
    rectification = services.rectification_open(actor=SYSTEM, case=completed_case, reason="态度差")
    with pytest.raises(PermissionDenied):
        services.rectification_close(
            actor=actor_for(health_head), rectification=rectification, resolution="已整改"
        )
    assert AuditEntry.objects.filter(action="permission.denied", subject_id="supervision.warn").exists()
    with pytest.raises(ValidationError) as caught:
        services.rectification_close(actor=actor_for(supervisor), rectification=rectification, resolution=" ")
    assert "resolution" in caught.value.message_dict

    services.rectification_close(
        actor=actor_for(supervisor), rectification=rectification, resolution="已约谈，已整改"
    )

    rectification.refresh_from_db()
    assert rectification.status == Rectification.Status.CLOSED
    assert rectification.closed_by == "s.supervisor" and rectification.closed_at is not None
    assert AuditEntry.objects.filter(action="rectification.closed", subject_id=str(rectification.pk)).exists()
    with pytest.raises(Conflict):
        services.rectification_close(
            actor=actor_for(supervisor), rectification=rectification, resolution="again"
        )


def test_the_responsible_head_responds_and_another_department_cannot(completed_case, health_head, hrss_head):
    rectification = services.rectification_open(actor=SYSTEM, case=completed_case, reason="等了很久")
    with pytest.raises(PermissionDenied):
        services.rectification_respond(
            actor=actor_for(hrss_head), rectification=rectification, response="不是我们"
        )
    services.rectification_respond(
        actor=actor_for(health_head), rectification=rectification, response="已加派人手"
    )
    rectification.refresh_from_db()
    assert rectification.response == "已加派人手" and rectification.responded_by == "head.health"
    assert rectification.status == Rectification.Status.OPEN
    assert AuditEntry.objects.filter(action="rectification.responded").count() == 1


def test_a_run_that_raises_nothing_reads_one_query_a_chunk(
    parent, newborn, handlers, django_assert_num_queries
):
    first, second = submit(parent, newborn), submit(parent, newborn)
    task = open_task(first, "birth_certificate")
    day = max(task.due_date, open_task(second, "birth_certificate").due_date)
    assert services.deadlines_check(today=day)["tasks_yellow"] == 2
    with django_assert_num_queries(4):  # the chunks of tasks, cases, cases awaiting acceptance and tickets
        counts = services.deadlines_check(today=day)
    assert counts["tasks_checked"] == 2 and counts["tasks_yellow"] == 0


# --- the acceptance period (受理期限) ------------------------------------------------------------------------


@pytest.fixture
def waiting_case(parent, newborn, handlers):
    """An online application for an item that staff accept by hand, still waiting for acceptance."""
    from tongban.catalog import services as catalog
    from tongban.catalog.selectors import item_get

    item = item_get("310100-hrss-ss-card")
    catalog.item_update(actor=SYSTEM, item=item, acceptance="manual")
    case = cases.case_submit(actor=actor_for(parent), service=item, form_data={"baby_name": "李小明"})
    case.refresh_from_db()
    assert case.status == Case.Status.SUBMITTED
    return case


def test_a_case_not_accepted_in_time_gets_acceptance_cards_of_its_own(waiting_case):
    """Five working days from submission to accept or refuse (《行政许可法》第三十二条): yellow on the last of them,
    red after; each once, audited and announced, the red one on the timeline; the case itself is left as it was."""
    case = waiting_case
    due = case.acceptance_due_on
    assert services.deadlines_check(today=due - DAY)["acceptances_yellow"] == 0

    counts = services.deadlines_check(today=due)

    assert counts["acceptances_checked"] == 1 and counts["acceptances_yellow"] == 1
    warning = Warning.objects.get(subject_type="accept", subject_id=case.pk)
    assert warning.level == "yellow" and warning.due_date == due and warning.case_number == case.number
    assert warning.department_id == case.lead_department_id
    assert (
        AuditEntry.objects.filter(action="case.acceptance_warning_yellow", case_id=str(case.pk)).count() == 1
    )

    counts = services.deadlines_check(today=due + DAY)

    assert counts["acceptances_red"] == 1 and counts["acceptances_deemed"] == 1
    case.refresh_from_db()
    assert case.warning == ""  # the handling limit's card is untouched
    later = services.deadlines_check(today=due + 3 * DAY)
    assert later["acceptances_red"] == 0 and later["acceptances_deemed"] == 0  # once
    assert AuditEntry.objects.filter(action="case.acceptance_warning_red", case_id=str(case.pk)).count() == 1
    levels = OutboxEvent.objects.filter(name="case.acceptance_warning").values_list(
        "payload__level", flat=True
    )
    assert sorted(levels) == ["red", "yellow"]
    assert case.timeline.filter(kind="acceptance_overdue").count() == 1
    assert {w.level for w in Warning.objects.filter(subject_type="accept")} == {"yellow", "red"}


def test_a_case_left_waiting_past_its_acceptance_period_is_deemed_accepted_from_its_receipt(waiting_case):
    """视为受理 (《行政许可法》第三十二条): neither accepted nor refused within five working days, the case counts
    as accepted from the day it arrived. The deadline job cards the late office and accepts the case by law: its
    time limit runs from the submission, its process starts, the timeline and the audit trail say why."""
    case = waiting_case
    due = case.acceptance_due_on
    assert services.deadlines_check(today=due)["acceptances_deemed"] == 0  # its last day: still the office's

    counts = services.deadlines_check(today=due + DAY)

    assert counts["acceptances_red"] == 1 and counts["acceptances_deemed"] == 1
    case.refresh_from_db()
    assert case.status == Case.Status.ACCEPTED
    assert case.accepted_at == case.submitted_at
    received = calendar.as_local_date(case.submitted_at)
    assert case.due_date == calendar.add_working_days(received, case.promised_limit_days)
    assert Task.objects.filter(case_id=case.pk, state__in=Task.OPEN_STATES).exists()
    line = case.timeline.get(kind="deemed_accepted")
    assert line.actor == "system" and line.params["msgid"].startswith("Deemed accepted from its receipt")
    assert line.params["args"] == {"date": case.due_date.isoformat()}
    assert case.timeline.filter(kind="acceptance_overdue").count() == 1
    entry = AuditEntry.objects.get(action="case.deemed_accepted", case_id=str(case.pk))
    assert entry.actor_kind == "system" and entry.details_data["due"] == case.due_date.isoformat()
    event = OutboxEvent.objects.get(name="case.accepted", subject_id=str(case.pk))
    assert event.payload["action"] == "deem_accept" and event.payload["accepted_on"] == received.isoformat()


def test_only_the_platform_deems_a_case_accepted_and_only_past_its_period(waiting_case, clerk):
    with pytest.raises(PermissionDenied):
        cases.case_deem_accepted(actor=actor_for(clerk), case=waiting_case)
    due = waiting_case.acceptance_due_on
    assert cases.case_deem_accepted(actor=SYSTEM, case=waiting_case, today=due) is None  # not yet
    cases.case_accept(actor=actor_for(clerk), case=waiting_case)
    assert cases.case_deem_accepted(actor=SYSTEM, case=waiting_case, today=due + 5 * DAY) is None  # accepted
    assert not AuditEntry.objects.filter(action="case.deemed_accepted").exists()


def test_a_case_that_cannot_be_deemed_accepted_keeps_its_red_card_and_the_job_goes_on(
    waiting_case, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("the process cannot start")

    monkeypatch.setattr(cases, "case_deem_accepted", broken)
    counts = services.deadlines_check(today=waiting_case.acceptance_due_on + DAY)
    assert counts["acceptances_red"] == 1 and counts["acceptances_deemed"] == 0
    waiting_case.refresh_from_db()
    assert waiting_case.status == Case.Status.SUBMITTED
    assert Warning.objects.filter(subject_type="accept", level="red").count() == 1


def test_a_case_deemed_accepted_still_gets_its_handling_cards(waiting_case):
    """The acceptance cards are apart from the handling limit's: a late acceptance does not swallow them."""
    case = waiting_case
    late = case.acceptance_due_on + DAY
    assert services.deadlines_check(today=late)["acceptances_red"] == 1
    case.refresh_from_db()

    counts = services.deadlines_check(today=case.due_date + DAY)

    assert counts["cases_red"] == 1
    assert counts["acceptances_checked"] == 0  # accepted: no longer read
    case.refresh_from_db()
    assert case.warning == "red"
    assert set(Warning.objects.filter(subject_id=case.pk).values_list("subject_type", "level")) == {
        ("accept", "red"),
        ("case", "red"),
    }


def test_a_case_accepted_or_refused_in_time_gets_no_acceptance_card(waiting_case, clerk):
    cases.case_accept(actor=actor_for(clerk), case=waiting_case)
    counts = services.deadlines_check(today=waiting_case.acceptance_due_on + 10 * DAY)
    assert counts["acceptances_checked"] == 0 and not Warning.objects.filter(subject_type="accept").exists()


def test_the_acceptance_card_is_refused_for_a_case_accepted_meanwhile(waiting_case, clerk):
    """The job read the case waiting; a clerk accepted it before the card was written: no card, nothing written."""
    stale = Case.objects.get(pk=waiting_case.pk)
    cases.case_accept(actor=actor_for(clerk), case=waiting_case)
    entries = AuditEntry.objects.count()
    assert not services.acceptance_warning_raise(case=stale, level="red")
    assert (
        AuditEntry.objects.count() == entries and not Warning.objects.filter(subject_type="accept").exists()
    )


def test_the_warnings_page_names_the_acceptance(client, waiting_case, supervisor):
    from django.urls import reverse

    from tongban.identity.tests.fixtures import login_with_second_factor

    services.deadlines_check(today=waiting_case.acceptance_due_on + DAY)
    login_with_second_factor(client, supervisor)
    client.cookies["django_language"] = "zh-hans"
    response = client.get(reverse("supervision:warnings"))
    assert response.status_code == 200, response
    html = response.content.decode()
    assert waiting_case.number in html and "受理（未按期受理）" in html
    assert 'id="warning-subject"' in html
    # Narrowed to acceptances it still shows the card; narrowed to steps it does not.
    accept = client.get(reverse("supervision:warnings"), {"subject": "accept"}).content.decode()
    steps = client.get(reverse("supervision:warnings"), {"subject": "task"}).content.decode()
    assert waiting_case.number in accept and waiting_case.number not in steps
    assert '<option value="accept" selected>' in accept


def test_a_subject_without_a_clock_is_warned_on_its_due_date_without_a_log_line(caplog):
    """The synthetic case history records no clock: its cases are warned on their due date, and the job does not
    log a "malformed clock" line for each of them at every run (a malformed one is still logged)."""
    due = dt.date(2026, 12, 10)
    with caplog.at_level("WARNING", logger="tongban.supervision.services"):
        assert (
            services.level_due(clock={}, due_date=due, current="", today=due - DAY, policy="last-day") == ""
        )
        assert (
            services.level_due(clock={}, due_date=due, current="", today=due, policy="last-day") == "yellow"
        )
        assert (
            services.level_due(clock={}, due_date=due, current="", today=due + DAY, policy="last-day")
            == "red"
        )
    assert not caplog.records
    with caplog.at_level("WARNING", logger="tongban.supervision.services"):
        assert (
            services.level_due(clock={"v": 99}, due_date=due, current="", today=due, policy="last-day")
            == "yellow"
        )
    assert "malformed SLA clock" in caplog.text


def _accepting_unit_shown(client, url, marker) -> str:
    """The page's "accepting unit" entry: from ``marker`` (its label or id) to the end of its ``<dd>``."""
    page = client.get(url).content.decode()
    start = page.index(marker)
    return page[start : page.index("</dd>", start)]


def test_the_applicants_case_page_says_who_accepted_the_case(client, waiting_case, parent):
    """Waiting: no accepting unit yet (not "online"); deemed accepted: the law, not a unit."""
    client.force_login(parent)
    client.cookies["django_language"] = "zh-hans"
    url = reverse("cases:detail", args=[waiting_case.number])

    waiting = _accepting_unit_shown(client, url, "受理单位")
    assert "网上受理" not in waiting and "—" in waiting
    services.deadlines_check(today=waiting_case.acceptance_due_on + DAY)
    deemed = _accepting_unit_shown(client, url, "受理单位")
    assert "依法视为受理" in deemed and "网上受理" not in deemed
    case = Case.objects.select_related("lead_department").get(pk=waiting_case.pk)
    assert _accepting_unit(case) == f"依法视为受理（{case.lead_department.name_zh}）"  # the receipt's line


def test_the_staff_case_panel_says_the_law_accepted_the_case(client, waiting_case, supervisor):
    from tongban.identity.tests.fixtures import login_with_second_factor

    login_with_second_factor(client, supervisor)
    client.cookies["django_language"] = "zh-hans"
    url = reverse("workbench:case", args=[waiting_case.number])

    assert "依法视为受理" not in _accepting_unit_shown(client, url, 'id="case-accepting"')
    services.deadlines_check(today=waiting_case.acceptance_due_on + DAY)
    assert "依法视为受理" in _accepting_unit_shown(client, url, 'id="case-accepting"')
