"""Department inboxes and the task page: claim, approve, refuse, return, supplement; who may act; stale pages."""

import datetime

import pytest
from django.urls import reverse

from tongban.cases.models import Case, SupplementRequest
from tongban.core import calendar
from tongban.core.models import AuditEntry
from tongban.identity.selectors import actor_for
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.workflow.models import Task

from .fixtures import make_staff
from .helpers import open_task, submit_online

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english(client):
    client.cookies["django_language"] = "en"


@pytest.fixture
def case(parent, newborn, handlers):
    return submit_online(parent, newborn)


def _act(client, task, action, **data):
    data.setdefault("revision", task.revision)
    return client.post(reverse("workbench:task-act", args=[task.pk, action]), data)


def test_the_inbox_shows_only_my_departments_tasks(client, case, handlers):
    login_with_second_factor(client, handlers["health"])
    html = client.get(reverse("workbench:tasks")).content.decode()
    assert case.number in html
    assert "Issue the birth medical certificate" in html  # the step's English name (tongban:nameEn)
    client.cookies["django_language"] = "zh-hans"
    assert "签发出生医学证明" in client.get(reverse("workbench:tasks")).content.decode()
    login_with_second_factor(client, handlers["hrss"])
    assert case.number not in client.get(reverse("workbench:tasks")).content.decode()


def test_the_inbox_filters_by_state_and_marks_overdue_tasks_red(client, case, handlers):
    task = open_task(case, "birth_certificate")
    Task.objects.filter(pk=task.pk).update(due_date=calendar.today() - datetime.timedelta(days=1))
    login_with_second_factor(client, handlers["health"])
    html = client.get(reverse("workbench:tasks")).content.decode()
    assert "text-bg-danger" in html and "Overdue" in html
    assert case.number not in client.get(reverse("workbench:tasks"), {"state": "claimed"}).content.decode()
    home = client.get(reverse("workbench:home")).content.decode()
    assert 'id="count-inbox">1<' in home
    assert '<span class="badge text-bg-danger">1</span>' in home


def test_a_task_due_today_is_yellow(client, case, handlers):
    task = open_task(case, "birth_certificate")
    Task.objects.filter(pk=task.pk).update(due_date=calendar.today())
    login_with_second_factor(client, handlers["health"])
    assert "Due today" in client.get(reverse("workbench:tasks")).content.decode()
    home = client.get(reverse("workbench:home")).content.decode()
    assert '<span class="badge text-bg-warning">1</span>' in home


def test_claim_from_the_inbox_puts_the_task_in_my_hands(client, case, handlers):
    task = open_task(case, "birth_certificate")
    login_with_second_factor(client, handlers["health"])
    response = _act(client, task, "claim")
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == Task.State.CLAIMED
    assert task.assignee == handlers["health"]
    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS


def test_the_task_page_shows_the_case_and_records_the_reading(client, case, handlers):
    task = open_task(case, "birth_certificate")
    login_with_second_factor(client, handlers["health"])
    html = client.get(reverse("workbench:task", args=[task.pk])).content.decode()
    assert case.number in html
    assert "李小明" in html  # form data
    assert "父母结婚证" in html  # materials, with their origin and trust level
    assert "Uploaded by the applicant" in html
    material = case.materials.get()
    assert reverse("workbench:case-material", args=[case.number, material.pk]) in html
    assert AuditEntry.objects.filter(action="case.viewed", case_id=str(case.pk), purpose="handling").exists()


def test_approve_through_the_page_moves_the_case_on(client, case, handlers):
    task = open_task(case, "birth_certificate")
    login_with_second_factor(client, handlers["health"])
    response = _act(client, task, "approve", opinion="材料齐全")
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.state, task.decision, task.opinion) == (Task.State.COMPLETED, "approve", "材料齐全")
    assert open_task(case, "household_registration").department.code == "public-security-310101"


def test_refusal_needs_a_legal_basis_and_then_closes_the_case(client, case, handlers):
    task = open_task(case, "birth_certificate")
    login_with_second_factor(client, handlers["health"])
    response = _act(client, task, "refuse", opinion="非本市出生")
    assert response.status_code == 400
    assert 'id="refuse-basis-errors"' in response.content.decode()
    task.refresh_from_db()
    assert task.state == Task.State.READY
    response = _act(client, task, "refuse", opinion="非本市出生", basis="《母婴保健法》第二十三条")
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.REJECTED
    assert case.rejection_basis == "《母婴保健法》第二十三条"


def test_return_sends_the_case_to_the_previous_step(client, case, handlers):
    from tongban.cases import services

    services.case_task_complete(
        actor=actor_for(handlers["health"]),
        task_id=open_task(case, "birth_certificate").pk,
        decision="approve",
    )
    household = open_task(case, "household_registration")
    login_with_second_factor(client, handlers["public-security"])
    assert _act(client, household, "return", opinion="").status_code == 400
    response = _act(client, household, "return", opinion="出生医学证明编号有误")
    assert response.status_code == 302
    assert open_task(case, "birth_certificate").department.code == "health"


def test_a_supplement_request_lists_everything_at_once(client, case, handlers):
    task = open_task(case, "birth_certificate")
    login_with_second_factor(client, handlers["health"])
    page = client.get(reverse("workbench:task", args=[task.pk])).content.decode()
    assert 'name="material" value="parents-marriage-certificate"' in page
    assert 'name="field" value="hospital"' in page
    response = _act(
        client,
        task,
        "supplement",
        material=["parents-marriage-certificate"],
        **{"material-reason-parents-marriage-certificate": "照片不清晰"},
        field=["baby_name", "hospital"],
        **{"field-reason-baby_name": "与出生医学证明不一致", "field-reason-hospital": "请写全称"},
        note="请一次补齐",
    )
    assert response.status_code == 302
    supplement = SupplementRequest.objects.get()
    assert [m["code"] for m in supplement.materials] == ["parents-marriage-certificate"]
    assert [f["field"] for f in supplement.fields] == ["baby_name", "hospital"]
    case.refresh_from_db()
    assert case.status == Case.Status.SUPPLEMENT


def test_a_reason_typed_without_ticking_its_box_asks_for_that_item(client, case, handlers):
    """A handler who types why a field is wrong but forgets its tick box asks for it (the page used to refuse the
    form as listing nothing); items are asked in the page's order, a box ticked without a reason is still refused."""
    task = open_task(case, "birth_certificate")
    login_with_second_factor(client, handlers["health"])
    response = _act(
        client,
        task,
        "supplement",
        field=["hospital"],
        **{
            "field-reason-baby_name": "与出生医学证明不一致",
            "field-reason-birth_date": "",
            "field-reason-hospital": "请写全称",
        },
        **{"material-reason-parents-marriage-certificate": "照片不清晰"},
    )
    assert response.status_code == 302
    supplement = SupplementRequest.objects.get()
    assert [m["code"] for m in supplement.materials] == ["parents-marriage-certificate"]
    assert [(f["field"], f["reason"]) for f in supplement.fields] == [
        ("baby_name", "与出生医学证明不一致"),
        ("hospital", "请写全称"),
    ]


def test_a_supplement_entry_without_a_reason_is_refused_and_nothing_is_asked(client, case, handlers):
    task = open_task(case, "birth_certificate")
    login_with_second_factor(client, handlers["health"])
    response = _act(client, task, "supplement", field=["baby_name"])
    assert response.status_code == 400
    assert not SupplementRequest.objects.exists()
    case.refresh_from_db()
    assert case.status == Case.Status.ACCEPTED


def test_a_handler_of_another_department_cannot_act_and_cannot_see_the_task(client, case, handlers):
    task = open_task(case, "birth_certificate")
    before = task.revision
    login_with_second_factor(client, handlers["hrss"])
    assert client.get(reverse("workbench:task", args=[task.pk])).status_code == 404
    for action, data in (("approve", {}), ("claim", {}), ("refuse", {"opinion": "x", "basis": "y"})):
        assert _act(client, task, action, **data).status_code == 403
    task.refresh_from_db()
    assert (task.state, task.revision) == (Task.State.READY, before)
    assert AuditEntry.objects.filter(action="permission.denied").exists()


def test_a_handler_of_the_department_without_the_lanes_role_gets_403(client, case, city):
    approver_only = make_staff("a.health", "health", ["dept_approver"])
    task = open_task(case, "birth_certificate")
    login_with_second_factor(client, approver_only)
    assert client.get(reverse("workbench:task", args=[task.pk])).status_code == 200
    assert _act(client, task, "approve").status_code == 403
    task.refresh_from_db()
    assert task.state == Task.State.READY


def test_a_stale_page_gets_a_conflict_message_not_an_error(client, case, handlers):
    task = open_task(case, "birth_certificate")
    stale = task.revision
    colleague = make_staff("h.health.2", "health", ["dept_handler"])
    from tongban.cases import services

    services.case_task_claim(actor=actor_for(colleague), task_id=task.pk)
    login_with_second_factor(client, handlers["health"])
    for action in ("approve", "claim", "supplement"):
        response = _act(
            client, task, action, revision=stale, field=["baby_name"], **{"field-reason-baby_name": "x"}
        )
        assert response.status_code == 409
        assert "alert-danger" in response.content.decode()
    task.refresh_from_db()
    assert task.assignee == colleague and task.state == Task.State.CLAIMED
    assert not SupplementRequest.objects.exists()


def test_an_unknown_task_is_404(client, handlers):
    import uuid

    login_with_second_factor(client, handlers["health"])
    assert client.get(reverse("workbench:task", args=[uuid.uuid4()])).status_code == 404
    assert client.post(reverse("workbench:task-act", args=[uuid.uuid4(), "approve"])).status_code == 404


def test_a_domain_refusal_while_approving_is_a_message_not_a_500(client, case, handlers, monkeypatch):
    from tongban.exchange.services import GrantMissing
    from tongban.workbench.views import tasks as task_views

    def refuse(request, task_id, revision):
        raise GrantMissing("No sharing grant lets your department read this resource.")

    monkeypatch.setitem(task_views._HANDLERS, "approve", refuse)
    task = open_task(case, "birth_certificate")
    login_with_second_factor(client, handlers["health"])
    response = _act(client, task, "approve", opinion="材料齐全")
    assert response.status_code == 400 and "No sharing grant" in response.content.decode()
    task.refresh_from_db()
    assert task.state != Task.State.COMPLETED
