"""The newborn bundle from submission to result, through the same services that pages and API use."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tongban.cases import selectors, services
from tongban.cases.models import Case, CaseMaterial
from tongban.core.exceptions import Conflict
from tongban.core.models import AuditEntry
from tongban.identity.selectors import actor_for
from tongban.workflow.models import ProcessInstance, Task
from tongban.workflow.tests.fixtures import newborn_files, newborn_form, pdf_upload


def _submit(parent, newborn, **kwargs):
    return services.case_submit(
        actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files(), **kwargs
    )


def _open(case, step):
    return Task.objects.get(case_id=case.pk, bpmn_id=step, state__in=Task.OPEN_STATES)


def test_online_submission_is_accepted_and_routed_to_health(parent, newborn, handlers):
    case = _submit(parent, newborn)
    case.refresh_from_db()
    assert case.status == Case.Status.ACCEPTED
    assert case.number.startswith("TB")
    assert case.due_date is not None
    task = _open(case, "birth_certificate")
    assert task.department.code == "health"
    assert case.materials.get().origin == CaseMaterial.Origin.UPLOAD
    kinds = list(selectors.case_timeline(case).values_list("kind", flat=True))
    assert kinds == ["submitted", "accepted"]
    assert AuditEntry.objects.filter(case_id=str(case.pk), action="case.accepted").exists()


def test_the_whole_bundle_runs_with_parallel_steps_to_a_result_package(parent, newborn, handlers):
    case = _submit(parent, newborn)
    services.case_task_complete(
        actor=actor_for(handlers["health"]), task_id=_open(case, "birth_certificate").pk, decision="approve"
    )
    household = _open(case, "household_registration")
    assert household.department.code == "public-security-310101"  # the applicant's district, 全市通办
    services.case_task_complete(
        actor=actor_for(handlers["public-security"]), task_id=household.pk, decision="approve"
    )
    insurance, card = _open(case, "medical_insurance"), _open(case, "social_security_card")
    services.case_task_complete(actor=actor_for(handlers["hrss"]), task_id=card.pk, decision="approve")
    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS
    services.case_task_complete(
        actor=actor_for(handlers["medical-insurance"]), task_id=insurance.pk, decision="approve"
    )
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    assert [r["item"] for r in case.result] == [
        link.item.code for link in newborn.bundle_items.order_by("position")
    ]
    assert case.steps == 4
    assert set(case.departments_involved) == {"health", "public-security-310101", "medical-insurance", "hrss"}
    assert case.working_days is not None and case.natural_days is not None
    assert ProcessInstance.objects.get(case_id=case.pk).status == ProcessInstance.Status.COMPLETED


def test_a_retried_submission_returns_the_same_case(parent, newborn, handlers):
    first = _submit(parent, newborn, idempotency_key="abc-123")
    second = _submit(parent, newborn, idempotency_key="abc-123")
    assert first.pk == second.pk
    assert Case.objects.count() == 1


def test_a_bad_form_and_a_missing_material_are_reported_together_and_nothing_is_written(
    parent, newborn, handlers
):
    with pytest.raises(ValidationError) as caught:
        services.case_submit(
            actor=actor_for(parent),
            service=newborn,
            form_data=newborn_form(mother_resident_id="123", baby_name=""),
            files={},
        )
    errors = caught.value.message_dict
    assert "mother_resident_id" in errors
    assert "baby_name" in errors
    assert "materials.parents-marriage-certificate" in errors
    assert Case.objects.count() == 0
    assert Task.objects.count() == 0


def test_a_handler_of_another_department_cannot_complete_the_task(parent, newborn, handlers):
    case = _submit(parent, newborn)
    task = _open(case, "birth_certificate")
    with pytest.raises(PermissionDenied):
        services.case_task_complete(actor=actor_for(handlers["hrss"]), task_id=task.pk, decision="approve")
    task.refresh_from_db()
    assert task.state == Task.State.READY
    assert AuditEntry.objects.filter(action="permission.denied").exists()


def test_two_people_completing_the_same_task_one_wins(parent, newborn, handlers):
    case = _submit(parent, newborn)
    task = _open(case, "birth_certificate")
    services.case_task_complete(
        actor=actor_for(handlers["health"]), task_id=task.pk, decision="approve", revision=task.revision
    )
    with pytest.raises(Conflict):
        services.case_task_complete(
            actor=actor_for(handlers["health"]), task_id=task.pk, decision="approve", revision=task.revision
        )
    assert Task.objects.filter(case_id=case.pk, bpmn_id="household_registration").count() == 1


def test_supplement_pauses_the_case_and_the_resubmission_resumes_it(parent, newborn, handlers):
    case = _submit(parent, newborn)
    services.case_task_complete(
        actor=actor_for(handlers["health"]), task_id=_open(case, "birth_certificate").pk, decision="approve"
    )
    household = _open(case, "household_registration")
    with pytest.raises(ValidationError):
        services.case_supplement_request(actor=actor_for(handlers["public-security"]), task_id=household.pk)
    services.case_supplement_request(
        actor=actor_for(handlers["public-security"]),
        task_id=household.pk,
        materials=[{"code": "parents-marriage-certificate", "reason": "照片不清晰"}],
        fields=[{"field": "baby_name", "reason": "与出生医学证明不一致"}],
    )
    case.refresh_from_db()
    household.refresh_from_db()
    assert case.status == Case.Status.SUPPLEMENT
    assert case.due_date is None
    assert household.state == Task.State.WAITING
    with pytest.raises(Conflict):
        services.case_task_complete(
            actor=actor_for(handlers["public-security"]), task_id=household.pk, decision="approve"
        )
    with pytest.raises(ValidationError) as caught:
        services.case_resubmit(actor=actor_for(parent), case=case, form_data={}, files={})
    assert set(caught.value.message_dict) == {"materials.parents-marriage-certificate", "baby_name"}
    services.case_resubmit(
        actor=actor_for(parent),
        case=case,
        form_data={"baby_name": "李晓明"},
        files={"parents-marriage-certificate": pdf_upload("better.pdf")},
    )
    case.refresh_from_db()
    household.refresh_from_db()
    assert case.status == Case.Status.RESUBMITTED
    assert case.form_data["baby_name"] == "李晓明"
    assert case.due_date is not None
    assert household.state == Task.State.READY
    assert case.materials.filter(superseded=True).count() == 1
    # The timeline names the department the case waits for again, not "·step" alone.
    awaiting = case.timeline.order_by("-at", "-id").values_list("awaiting", flat=True).first()
    assert awaiting == f"{household.department.name_zh}·{household.name}"
    services.case_task_complete(
        actor=actor_for(handlers["public-security"]), task_id=household.pk, decision="approve"
    )
    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS


def test_refusal_needs_a_reason_and_a_legal_basis_and_closes_the_case(parent, newborn, handlers):
    case = _submit(parent, newborn)
    task = _open(case, "birth_certificate")
    with pytest.raises(ValidationError) as caught:
        services.case_task_complete(
            actor=actor_for(handlers["health"]), task_id=task.pk, decision="reject", opinion="不符合"
        )
    assert "basis" in caught.value.message_dict
    services.case_task_complete(
        actor=actor_for(handlers["health"]),
        task_id=task.pk,
        decision="reject",
        opinion="非本市出生",
        basis="《母婴保健法》第二十三条",
    )
    case.refresh_from_db()
    assert case.status == Case.Status.REJECTED
    assert case.rejection_basis
    assert not Task.objects.filter(case_id=case.pk, state__in=Task.OPEN_STATES).exists()


def test_return_to_previous_step_reopens_it(parent, newborn, handlers):
    case = _submit(parent, newborn)
    services.case_task_complete(
        actor=actor_for(handlers["health"]), task_id=_open(case, "birth_certificate").pk, decision="approve"
    )
    household = _open(case, "household_registration")
    services.case_task_return(
        actor=actor_for(handlers["public-security"]), task_id=household.pk, opinion="出生医学证明编号有误"
    )
    again = _open(case, "birth_certificate")
    assert again.department.code == "health"
    assert not Task.objects.filter(
        case_id=case.pk, bpmn_id="household_registration", state__in=Task.OPEN_STATES
    ).exists()


def test_withdrawal_cancels_the_open_tasks(parent, newborn, handlers):
    case = _submit(parent, newborn)
    services.case_withdraw(actor=actor_for(parent), case=case, reason="已在线下办理")
    case.refresh_from_db()
    assert case.status == Case.Status.WITHDRAWN
    assert not Task.objects.filter(case_id=case.pk, state__in=Task.OPEN_STATES).exists()
    with pytest.raises(Conflict):
        services.case_withdraw(actor=actor_for(parent), case=case, reason="again")


def test_another_citizen_cannot_see_or_withdraw_the_case(parent, newborn, handlers, citizen):
    case = _submit(parent, newborn)
    assert selectors.case_get_for_user(citizen, case.number) is None
    with pytest.raises(PermissionDenied):
        services.case_withdraw(actor=actor_for(citizen), case=case, reason="x")


def test_claiming_or_asking_a_supplement_from_a_stale_page_is_a_conflict(parent, newborn, handlers):
    case = _submit(parent, newborn)
    task = _open(case, "birth_certificate")
    services.case_task_claim(actor=actor_for(handlers["health"]), task_id=task.pk, revision=task.revision)
    with pytest.raises(Conflict):
        services.case_task_claim(actor=actor_for(handlers["health"]), task_id=task.pk, revision=task.revision)
    with pytest.raises(Conflict):
        services.case_supplement_request(
            actor=actor_for(handlers["health"]),
            task_id=task.pk,
            fields=[{"field": "baby_name", "reason": "x"}],
            revision=task.revision,
        )
    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS
