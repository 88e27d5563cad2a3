"""The case lifecycle: one table of transitions, applied by one function, and nothing else moves a case."""

import ast
import pathlib

import pytest

from tongban.cases import lifecycle, services
from tongban.cases.models import Case, CaseStep
from tongban.core.exceptions import Conflict
from tongban.core.models import AuditEntry, OutboxEvent
from tongban.identity.selectors import actor_for
from tongban.workflow.models import Task
from tongban.workflow.tests.fixtures import newborn_files, newborn_form

SRC = pathlib.Path(__file__).resolve().parents[2]


def _submit(parent, newborn):
    return services.case_submit(
        actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
    )


def test_the_table_moves_between_known_statuses_and_every_status_is_reachable():
    statuses = set(Case.Status.values)
    reached = {lifecycle.NEW}
    for transition in lifecycle.TRANSITIONS.values():
        assert transition.sources <= statuses | {lifecycle.NEW}, transition.action
        assert transition.target is None or transition.target in statuses, transition.action
        if transition.target:
            reached.add(transition.target)
        if transition.kind:
            assert transition.label, transition.action
    assert statuses - {Case.Status.DRAFT} <= reached
    assert statuses - {Case.Status.DRAFT} == Case.OPEN_STATUSES | Case.CLOSED_STATUSES
    assert not Case.OPEN_STATUSES & Case.CLOSED_STATUSES
    assert Case.WORKABLE_STATUSES < Case.OPEN_STATUSES


def test_a_closed_case_allows_nothing_but_declining_a_grant():
    assert lifecycle.allowed_actions(Case.Status.COMPLETED) == ["decline_grant"]
    assert lifecycle.allowed_actions(Case.Status.REJECTED) == []
    assert "withdraw" in lifecycle.allowed_actions(Case.Status.SUPPLEMENT)
    assert "approve_step" not in lifecycle.allowed_actions(Case.Status.SUPPLEMENT)


def test_a_transition_writes_the_change_its_timeline_line_audit_entry_and_event_together(
    parent, newborn, handlers
):
    case = _submit(parent, newborn)
    before = CaseStep.objects.filter(case=case).count()
    services.case_withdraw(actor=actor_for(parent), case=case, reason="不需要了")
    case.refresh_from_db()
    assert case.status == Case.Status.WITHDRAWN and case.closed_at is not None
    line = CaseStep.objects.filter(case=case).order_by("-at", "-id").first()
    assert line.kind == "withdrawn" and CaseStep.objects.filter(case=case).count() == before + 1
    assert AuditEntry.objects.filter(case_id=str(case.pk), action="case.withdrawn").count() == 1
    event = OutboxEvent.objects.get(name="case.withdrawn", subject_id=str(case.pk))
    assert event.payload["action"] == "withdraw" and event.payload["number"] == case.number


def test_a_move_the_table_does_not_allow_is_a_conflict_and_writes_nothing(parent, newborn, handlers):
    case = _submit(parent, newborn)
    services.case_withdraw(actor=actor_for(parent), case=case, reason="不需要了")
    lines = CaseStep.objects.filter(case=case).count()
    with pytest.raises(Conflict):
        lifecycle.transition_apply(case.pk, "approve_step", actor=actor_for(parent), now=case.closed_at)
    stale = Case.objects.get(pk=case.pk)
    stale.status = Case.Status.IN_PROGRESS  # what a writer that read before the withdrawal believes
    with pytest.raises(Conflict):
        lifecycle.transition_apply(stale, "complete", actor=actor_for(parent), now=case.closed_at)
    assert Case.objects.get(pk=case.pk).status == Case.Status.WITHDRAWN
    assert CaseStep.objects.filter(case=case).count() == lines


def test_a_step_asks_for_a_supplement_only_once(parent, newborn, handlers):
    case = _submit(parent, newborn)
    task = Task.objects.get(case_id=case.pk, bpmn_id="birth_certificate")
    health = actor_for(handlers["health"])
    services.case_supplement_request(
        actor=health,
        task_id=task.pk,
        materials=[{"code": "parents-marriage-certificate", "reason": "看不清"}],
    )
    files = newborn_files()
    services.case_resubmit(actor=actor_for(parent), case=case, files=files)
    with pytest.raises(Conflict) as raised:
        services.case_supplement_request(
            actor=health,
            task_id=task.pk,
            materials=[{"code": "parents-marriage-certificate", "reason": "又看不清"}],
        )
    assert raised.value.code == "supplement_already_requested"


def _case_updates(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE cases_case SET")]


def test_a_step_that_leaves_the_status_as_it_is_does_not_rewrite_it(parent, newborn, handlers):
    """On SQLite naming the status in the SET rewrites the lists' status indexes: a case already in progress is
    updated without it; the case that moves (accepted → in progress) or cannot (withdrawn) is still checked."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    case = _submit(parent, newborn)
    assert Case.objects.get(pk=case.pk).status == Case.Status.ACCEPTED
    actor = actor_for(handlers["health"])
    with CaptureQueriesContext(connection) as first:
        lifecycle.transition_apply(
            case.pk, "approve_step", actor=actor, now=case.created_at, changes={"steps": lifecycle.STEPS_DONE}
        )
    moved = Case.objects.get(pk=case.pk)
    assert moved.status == Case.Status.IN_PROGRESS and moved.steps == case.steps + 1
    assert any('"status" = ' in sql for sql in _case_updates(first))  # the move is written
    with CaptureQueriesContext(connection) as second:
        lifecycle.transition_apply(
            case.pk, "approve_step", actor=actor, now=case.created_at, changes={"steps": lifecycle.STEPS_DONE}
        )
    again = Case.objects.get(pk=case.pk)
    assert again.status == Case.Status.IN_PROGRESS and again.steps == case.steps + 2
    updates = _case_updates(second)
    if connection.vendor == "sqlite":
        assert len(updates) == 1 and '"status" = ' not in updates[0].split(" WHERE ")[0]
    else:
        assert len(updates) == 1  # PostgreSQL: one statement, the status in it (no index rewritten for it)
    services.case_withdraw(actor=actor_for(parent), case=case, reason="不需要了")
    withdrawn = Case.objects.get(pk=case.pk)
    with pytest.raises(Conflict):
        lifecycle.transition_apply(
            case.pk, "approve_step", actor=actor, now=case.created_at, changes={"steps": lifecycle.STEPS_DONE}
        )
    gone = Case.objects.get(pk=case.pk)
    assert (gone.status, gone.steps) == (Case.Status.WITHDRAWN, withdrawn.steps)


def test_a_step_that_read_the_case_writes_it_in_one_statement(parent, newborn, handlers):
    """A step whose effects read the case before the lock knows its status (the update requires the row as read):
    the first step sets the status at once, a later one leaves it out, without trying the other statement first;
    a case changed since it was read is ``Unchanged``, and nothing is written."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    case = _submit(parent, newborn)
    actor = actor_for(handlers["health"])

    def step_after(read):
        """One approved step, as a step whose effects read the case as ``read``; the case updates it sent."""
        with CaptureQueriesContext(connection) as queries:
            lifecycle.transition_apply(
                case.pk,
                "approve_step",
                actor=actor,
                now=timezone.now(),
                changes={"steps": lifecycle.STEPS_DONE},
                unchanged_since=read.updated_at,
                status_read=read.status,
            )
        return [sql.split(" WHERE ")[0] for sql in _case_updates(queries)]

    read = Case.objects.get(pk=case.pk)
    updates = step_after(read)
    assert len(updates) == 1 and '"status" = ' in updates[0]
    read = Case.objects.get(pk=case.pk)
    assert read.status == Case.Status.IN_PROGRESS
    updates = step_after(read)
    assert len(updates) == 1
    if connection.vendor == "sqlite":  # PostgreSQL updates no index for an unchanged value: the status stays
        assert '"status" = ' not in updates[0]
    now = Case.objects.get(pk=case.pk)
    assert (now.status, now.steps) == (Case.Status.IN_PROGRESS, case.steps + 2)
    with pytest.raises(lifecycle.Unchanged):  # read before the last step: stale
        step_after(read)
    assert Case.objects.get(pk=case.pk).steps == now.steps


def _writes_case_status(tree: ast.AST) -> list[int]:
    """Lines that assign ``<x>.status`` on a case or update a Case queryset's status."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "update":
            text = ast.unparse(node.func.value)
            if text.startswith("Case.objects") and any(k.arg in ("status", "warning") for k in node.keywords):
                found.append(node.lineno)
        if isinstance(node, ast.Assign):
            for target in node.targets:
                is_status = isinstance(target, ast.Attribute) and target.attr == "status"
                if is_status and isinstance(target.value, ast.Name) and target.value.id == "case":
                    found.append(node.lineno)
    return found


def test_no_code_but_the_lifecycle_writes_a_case_status_or_card():
    offenders = []
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC).as_posix()
        if "/tests/" in relative or "/migrations/" in relative or relative == "cases/lifecycle.py":
            continue
        lines = _writes_case_status(ast.parse(path.read_text(encoding="utf-8")))
        offenders += [f"{relative}:{line}" for line in lines]
    assert offenders == []
