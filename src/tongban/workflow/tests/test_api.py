"""The workflow endpoints of the REST API: department inboxes, one task, and BPMN process definitions."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import include, path, reverse
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tongban.cases import services as case_services
from tongban.core.audit import SYSTEM
from tongban.identity import services as identity
from tongban.identity.selectors import actor_for, department_get
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.workflow.models import ProcessDefinition, Task
from tongban.workflow.services import PROCESS_DIR
from tongban.workflow.tests.fixtures import newborn_files, newborn_form

pytestmark = pytest.mark.django_db


def _url(name, *args):
    return reverse(f"api:workflow-api:{name}", args=args)


def _as(user):
    return login_with_second_factor(APIClient(headers={"accept-language": "en"}), user)


def _staff(username, department_code, roles):
    user = identity.user_create(actor=SYSTEM, username=username, password="x-pass-2026", check_password=False)
    identity.staff_create(actor=SYSTEM, user=user, department=department_get(department_code), roles=roles)
    return user


@pytest.fixture
def case(parent, newborn, handlers):
    return case_services.case_submit(
        actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
    )


@pytest.fixture
def designer(city):
    return _staff("s.designer", "big-data-center", ["service_designer"])


def _bpmn(name="standard.bpmn"):
    return (PROCESS_DIR / name).read_bytes()


def _upload(key, content, filename="process.bpmn"):
    return {"key": key, "file": SimpleUploadedFile(filename, content, content_type="application/xml")}


# --- inboxes --------------------------------------------------------------------------------------------------


def test_the_inbox_shows_only_the_tasks_of_my_department(case, handlers):
    body = _as(handlers["health"]).get(_url("task-list")).json()
    assert [(t["case_number"], t["bpmn_id"]) for t in body["results"]] == [(case.number, "birth_certificate")]
    task = body["results"][0]
    assert task["department"]["code"] == "health"
    assert task["state"] == "ready"
    assert task["revision"] == 0
    assert _as(handlers["hrss"]).get(_url("task-list")).json()["results"] == []


def test_the_inbox_filters_by_state(case, handlers):
    health = _as(handlers["health"])
    assert health.get(_url("task-list"), {"state": "claimed"}).json()["results"] == []
    assert len(health.get(_url("task-list"), {"state": "ready"}).json()["results"]) == 1
    response = health.get(_url("task-list"), {"state": "lost"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["state"]


def test_a_task_of_another_department_is_not_found(case, handlers):
    task = Task.objects.get(case_id=case.pk)
    assert _as(handlers["health"]).get(_url("task-detail", task.pk)).json()["name"] == task.name
    assert _as(handlers["hrss"]).get(_url("task-detail", task.pk)).status_code == 404


def test_citizens_and_anonymous_callers_have_no_inbox(case, parent):
    assert APIClient().get(_url("task-list")).status_code == 403
    client = APIClient()
    client.force_login(parent)
    assert client.get(_url("task-list")).status_code == 403
    assert client.get(_url("task-detail", Task.objects.get().pk)).status_code == 403


def test_staff_without_the_second_factor_are_refused(case, handlers):
    client = APIClient()
    client.force_login(handlers["health"])
    assert client.get(_url("task-list")).status_code == 403


# --- process definitions --------------------------------------------------------------------------------------


def test_a_designer_uploads_a_new_version_and_an_unchanged_one_is_not_stored_again(designer):
    client = _as(designer)
    first = client.post(_url("process-list"), _upload("api-test", _bpmn()), format="multipart")
    assert first.status_code == 201, first.json()
    assert (first.json()["key"], first.json()["version"]) == ("api-test", 1)
    assert {lane["role"] for lane in first.json()["lanes"]} <= {"dept_handler", "dept_approver", "dept_head"}
    assert [t["id"] for t in first.json()["user_tasks"]] == ["review", "approval"]
    same = client.post(_url("process-list"), _upload("api-test", _bpmn()), format="multipart")
    assert same.status_code == 200
    assert same.json()["version"] == 1
    other = client.post(_url("process-list"), _upload("api-test", _bpmn("newborn.bpmn")), format="multipart")
    assert other.status_code == 201
    assert other.json()["version"] == 2
    detail = client.get(_url("process-detail", "api-test")).json()
    assert detail["version"] == 2
    assert [v["version"] for v in detail["versions"]] == [2, 1]
    assert "<bpmn:definitions" in detail["bpmn_xml"] or "definitions" in detail["bpmn_xml"]
    listed = client.get(_url("process-list")).json()
    assert [(p["key"], p["version"]) for p in listed if p["key"] == "api-test"] == [("api-test", 2)]


@pytest.mark.parametrize(
    "content",
    [
        b"<not-xml",
        _bpmn().replace(b"dept_handler", b"astronaut"),
    ],
    ids=["not xml", "unknown role"],
)
def test_a_broken_process_file_is_refused_with_the_reason(designer, content):
    response = _as(designer).post(_url("process-list"), _upload("broken", content), format="multipart")
    body = response.json()
    assert response.status_code == 400
    assert list(body["errors"]) == ["bpmn"]
    assert body["errors"]["bpmn"][0]
    assert not ProcessDefinition.objects.filter(key="broken").exists()


def test_processes_are_for_service_designers(handlers):
    health = _as(handlers["health"])
    assert health.get(_url("process-list")).status_code == 403
    response = health.post(_url("process-list"), _upload("sneaky", _bpmn()), format="multipart")
    assert response.status_code == 403
    assert not ProcessDefinition.objects.filter(key="sneaky").exists()


def test_an_unknown_process_is_not_found(designer):
    assert _as(designer).get(_url("process-detail", "nothing-here")).status_code == 404


# --- schema ---------------------------------------------------------------------------------------------------


def test_the_case_and_workflow_endpoints_build_an_openapi_schema_without_warnings():
    patterns = [
        path("api/", include(([path("v1/", include("tongban.cases.api_urls"))], "api"))),
        path("api/", include(([path("v1/", include("tongban.workflow.api_urls"))], "api"))),
    ]
    GENERATOR_STATS.reset()
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    warnings = dict(GENERATOR_STATS._warn_cache)
    errors = dict(GENERATOR_STATS._error_cache)
    GENERATOR_STATS.reset()
    assert not warnings and not errors, (warnings, errors)
    assert {
        "/api/v1/cases/",
        "/api/v1/cases/{number}/",
        "/api/v1/window/cases/",
        "/api/v1/tasks/",
        "/api/v1/tasks/{task_id}/complete/",
        "/api/v1/processes/",
    } <= set(schema["paths"])
    assert {"application/json", "multipart/form-data"} <= set(
        schema["paths"]["/api/v1/cases/"]["post"]["requestBody"]["content"]
    )
