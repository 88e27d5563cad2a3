"""Time-limit compliance by department, and who sees which department's supervision."""

import datetime as dt

from tongban.cases import services as cases
from tongban.core import calendar
from tongban.identity.selectors import actor_for
from tongban.supervision import selectors, services
from tongban.supervision.tests.fixtures import complete, open_task, submit

DAY = dt.timedelta(days=1)


def _rows(user, **kwargs):
    return {row["department"].code: row for row in selectors.compliance_for(user, **kwargs)}


def test_compliance_counts_steps_in_time_open_overdue_and_warned(parent, newborn, handlers, supervisor):
    case = submit(parent, newborn)
    cases.case_task_complete(
        actor=actor_for(handlers["health"]),
        task_id=open_task(case, "birth_certificate").pk,
        decision="approve",
    )
    household = open_task(case, "household_registration")

    today = _rows(supervisor)
    assert today["health"]["tasks_completed"] == 1
    assert today["health"]["tasks_on_time"] == 1 and today["health"]["tasks_on_time_pct"] == 100.0
    assert today["health"]["tasks_open"] == 0
    branch = today["public-security-310101"]
    assert (branch["tasks_open"], branch["tasks_open_overdue"], branch["tasks_completed"]) == (1, 0, 0)
    assert branch["tasks_on_time_pct"] is None

    services.deadlines_check(today=household.due_date)
    assert _rows(supervisor)["public-security-310101"]["tasks_yellow"] == 1
    late = household.due_date + DAY
    services.deadlines_check(today=late)
    row = _rows(supervisor, today=late)["public-security-310101"]
    assert (row["tasks_open_overdue"], row["tasks_yellow"], row["tasks_red"]) == (1, 0, 1)


def test_cases_completed_in_time_count_for_the_lead_department(completed_case, supervisor):
    rows = _rows(supervisor)
    assert rows["health"]["cases_completed"] == 1
    assert rows["health"]["cases_on_time_pct"] == 100.0
    assert rows["hrss"]["cases_completed"] == 0 and rows["hrss"]["tasks_completed"] == 1


def test_a_step_finished_after_its_due_date_is_not_in_time(parent, newborn, handlers, supervisor):
    case = submit(parent, newborn)
    task = open_task(case, "birth_certificate")
    task.__class__.objects.filter(pk=task.pk).update(due_date=calendar.today() - 2 * DAY)
    cases.case_task_complete(actor=actor_for(handlers["health"]), task_id=task.pk, decision="approve")
    row = _rows(supervisor)["health"]
    assert (row["tasks_completed"], row["tasks_on_time"], row["tasks_on_time_pct"]) == (1, 0, 0.0)


def test_completions_outside_the_period_are_left_out(completed_case, supervisor):
    later = calendar.today() + 40 * DAY
    assert "health" not in _rows(supervisor, today=later)  # nothing open, nothing completed in 30 days
    assert _rows(supervisor, today=later, days=60)["health"]["cases_completed"] == 1


def test_a_department_head_sees_only_their_department(parent, newborn, handlers, hrss_head, health_head):
    complete(submit(parent, newborn), handlers)
    assert set(_rows(hrss_head)) == {"hrss"}
    assert set(_rows(health_head)) == {"health"}


def test_a_municipal_head_also_sees_the_district_branches(parent, newborn, handlers, ps_head):
    complete(submit(parent, newborn), handlers)
    assert set(_rows(ps_head)) == {"public-security-310101"}


def test_staff_without_supervision_rights_see_nothing(completed_case, handlers, parent):
    assert selectors.compliance_for(handlers["health"]) == []
    assert selectors.compliance_for(parent) == []
    assert not selectors.warning_list(handlers["health"]).exists()
    assert not selectors.rectification_list(parent).exists()


def test_warnings_are_filtered_by_department_for_heads(parent, newborn, handlers, supervisor, hrss_head):
    case = submit(parent, newborn)
    services.deadlines_check(today=case.due_date + DAY)
    assert selectors.warning_list(supervisor).count() == 2  # the birth-certificate step and the case
    assert selectors.warning_list(supervisor, level="yellow").count() == 0
    assert not selectors.warning_list(hrss_head).exists()
