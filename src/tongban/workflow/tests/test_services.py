"""Process versions, task warnings and the rules of who works a task."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tongban.cases import services as cases
from tongban.core.audit import SYSTEM
from tongban.core.models import AuditEntry
from tongban.identity.selectors import actor_for
from tongban.workflow import services
from tongban.workflow.models import ProcessInstance, Task
from tongban.workflow.services import PROCESS_DIR
from tongban.workflow.tests.fixtures import newborn_files, newborn_form

NEWBORN = (PROCESS_DIR / "newborn.bpmn").read_text()


def test_storing_the_same_file_again_makes_no_new_version(newborn):
    first, created = services.definition_store(actor=SYSTEM, key="newborn", xml=NEWBORN)
    assert not created  # the fixture loaded it already
    changed = NEWBORN.replace("签发出生医学证明", "签发出生医学证明（新版）")
    second, created = services.definition_store(actor=SYSTEM, key="newborn", xml=changed)
    assert created
    assert second.version == first.version + 1
    assert AuditEntry.objects.filter(action="process.definition_stored", subject_id=str(second.pk)).exists()


@pytest.mark.parametrize("key", ["new born", "newborn/2", "x" * 65])
def test_a_process_key_must_be_a_slug_that_fits_its_column(newborn, key):
    with pytest.raises(ValidationError) as caught:
        services.definition_store(actor=SYSTEM, key=key, xml=NEWBORN)
    assert "key" in caught.value.message_dict


def test_a_running_case_keeps_the_version_it_started_with(parent, newborn, handlers):
    case = cases.case_submit(
        actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
    )
    v1 = ProcessInstance.objects.get(case_id=case.pk).definition
    changed = NEWBORN.replace('name="出生户口登记"', 'name="出生登记（新流程）"')
    v2, _created = services.definition_store(actor=SYSTEM, key="newborn", xml=changed)
    task = Task.objects.get(case_id=case.pk, state="ready")
    cases.case_task_complete(actor=actor_for(handlers["health"]), task_id=task.pk, decision="approve")
    nxt = Task.objects.get(case_id=case.pk, state="ready")
    assert nxt.name == "出生户口登记"  # still version 1
    assert ProcessInstance.objects.get(case_id=case.pk).definition == v1 != v2
    later = cases.case_submit(
        actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
    )
    assert ProcessInstance.objects.get(case_id=later.pk).definition == v2


def test_a_staff_member_without_the_lane_role_cannot_work_the_task(parent, newborn, handlers):
    from tongban.identity import services as identity
    from tongban.identity.selectors import department_get

    case = cases.case_submit(
        actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
    )
    task = Task.objects.get(case_id=case.pk, state="ready")
    user = identity.user_create(actor=SYSTEM, username="approver.health", password=None, check_password=False)
    identity.staff_create(
        actor=SYSTEM, user=user, department=department_get("health"), roles=["window_clerk"]
    )
    assert not services.can_work(actor_for(user), task)
    assert services.can_work(actor_for(handlers["health"]), task)


def test_only_someone_who_may_work_a_task_puts_it_back_in_the_inbox(parent, newborn, handlers):
    case = cases.case_submit(
        actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
    )
    task = Task.objects.get(case_id=case.pk, state="ready")
    handler = actor_for(handlers["health"])
    cases.case_task_claim(actor=handler, task_id=task.pk)
    task.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.task_release(actor=actor_for(handlers["public-security"]), task=task)
    services.task_release(actor=handler, task=task)
    task.refresh_from_db()
    assert (task.state, task.assignee_id) == (Task.State.READY, None)
    released = AuditEntry.objects.get(action="task.released", subject_id=str(task.pk))
    assert released.actor_label == handlers["health"].get_username()


def test_warnings_rise_once_and_never_fall(parent, newborn, handlers):
    case = cases.case_submit(
        actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
    )
    task = Task.objects.get(case_id=case.pk, state="ready")
    assert services.task_warning_set(task=task, level="yellow")
    assert not services.task_warning_set(task=task, level="yellow")
    assert services.task_warning_set(task=task, level="red")
    assert not services.task_warning_set(task=task, level="yellow")
    task.refresh_from_db()
    assert task.warning == "red"
    assert AuditEntry.objects.filter(action__startswith="task.warning_", subject_id=str(task.pk)).count() == 2


def test_an_unknown_process_key_refuses_the_case_and_writes_nothing(parent, newborn, handlers):
    from django.core.exceptions import ValidationError

    from tongban.cases.models import Case

    newborn.process_key = "no-such-process"
    with pytest.raises(ValidationError):
        cases.case_submit(
            actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
        )
    assert Case.objects.count() == 0
