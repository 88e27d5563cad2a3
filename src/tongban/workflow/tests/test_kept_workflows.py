"""Workflows kept between a case's steps (``engine.keep``/``engine.take``): the same outcome as rebuilding them."""

import pytest

from tongban.cases import services as cases
from tongban.identity.selectors import actor_for
from tongban.workflow import engine, services
from tongban.workflow.models import ProcessInstance, Task
from tongban.workflow.tests.fixtures import newborn_files, newborn_form


def _drive(parent, newborn, handlers, commit, *, forget: bool):
    """Submit a newborn case and approve its steps in turn; the ready steps after each, and the engine loads."""
    loads = []
    real_load = engine.load

    def counting_load(state, spec):
        loads.append(1)
        return real_load(state, spec)

    engine.kept_clear()
    steps = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "load", counting_load)
        with commit(execute=True):
            case = cases.case_submit(
                actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
            )
        while True:
            ready = list(Task.objects.filter(case_id=case.pk, state="ready").order_by("bpmn_id"))
            steps.append([t.bpmn_id for t in ready])
            if not ready:
                break
            task = ready[0]
            handler = next(h for h in handlers.values() if services.can_work(actor_for(h), task))
            if forget:
                engine.kept_clear()
            with commit(execute=True):
                case = cases.case_task_complete(actor=actor_for(handler), task_id=task.pk, decision="approve")
    return case, steps, len(loads)


def test_a_kept_workflow_moves_the_case_as_one_rebuilt_from_the_database(
    parent, newborn, handlers, django_capture_on_commit_callbacks
):
    kept_case, kept_steps, kept_loads = _drive(
        parent, newborn, handlers, django_capture_on_commit_callbacks, forget=False
    )
    rebuilt_case, rebuilt_steps, rebuilt_loads = _drive(
        parent, newborn, handlers, django_capture_on_commit_callbacks, forget=True
    )
    assert kept_steps == rebuilt_steps and len(kept_steps) > 2
    assert kept_loads == 0  # every step found the workflow its predecessor committed
    assert rebuilt_loads == len(rebuilt_steps) - 1
    for case in (kept_case, rebuilt_case):
        instance = ProcessInstance.objects.get(case_id=case.pk)
        assert instance.status == ProcessInstance.Status.COMPLETED
    finished = str(ProcessInstance.objects.get(case_id=kept_case.pk).pk)
    assert not [key for key in engine._kept if key[0] == finished]  # a completed process is not kept


def test_a_step_that_fails_leaves_no_kept_workflow_behind(
    parent, newborn, handlers, django_capture_on_commit_callbacks, monkeypatch
):
    engine.kept_clear()
    with django_capture_on_commit_callbacks(execute=True):
        case = cases.case_submit(
            actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
        )
    task = Task.objects.get(case_id=case.pk, state="ready")
    instance = ProcessInstance.objects.get(case_id=case.pk)
    health = actor_for(handlers["health"])

    def failing(*args, **kwargs):
        raise RuntimeError("the timeline is full")

    monkeypatch.setattr(cases.lifecycle, "transition_apply", failing)
    with pytest.raises(RuntimeError):
        cases.case_task_complete(actor=health, task_id=task.pk, decision="approve")
    # The failed step took the kept workflow (and ran it); nothing of it is kept, the database is unchanged.
    assert engine.take(instance.pk, instance.revision, services._spec(instance.definition)) is None
    instance.refresh_from_db()
    assert instance.revision == 0
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        cases.case_task_complete(actor=health, task_id=task.pk, decision="approve")
    task.refresh_from_db()
    assert task.state == "completed"
    assert Task.objects.filter(case_id=case.pk, state="ready").exclude(bpmn_id=task.bpmn_id).exists()
