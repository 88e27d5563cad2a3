"""The case endpoints of the REST API: apply, track, withdraw, resubmit; the window; the task operations."""

import base64
import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tongban.cases.models import Case, CaseMaterial
from tongban.catalog import selectors as catalog_selectors
from tongban.catalog import services as catalog
from tongban.core.audit import SYSTEM
from tongban.core.models import AuditEntry
from tongban.identity import services as identity
from tongban.identity.selectors import department_get
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.workflow.models import Task
from tongban.workflow.tests.fixtures import MOTHER_ID, newborn_form, pdf_upload

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% test\n"


@pytest.fixture
def api():
    return APIClient(headers={"accept-language": "en"})


@pytest.fixture
def applicant(api, parent):
    api.force_login(parent)  # citizens need no second factor
    return api


def _staff(username, department_code, roles):
    user = identity.user_create(actor=SYSTEM, username=username, password="x-pass-2026", check_password=False)
    identity.staff_create(actor=SYSTEM, user=user, department=department_get(department_code), roles=roles)
    return user


@pytest.fixture
def clerk(city):
    """A window clerk of the big-data centre's service hall."""
    return _staff("w.clerk", "big-data-center", ["window_clerk"])


def _as(user):
    return login_with_second_factor(APIClient(headers={"accept-language": "en"}), user)


def _url(name, *args):
    return reverse(f"api:cases-api:{name}", args=args)


def _multipart(**overrides):
    data = {
        "service_type": "bundle",
        "service_code": "newborn",
        "form_data": json.dumps(newborn_form()),
        "material.parents-marriage-certificate": pdf_upload("marriage.pdf"),
    }
    data.update(overrides)
    return data


def _submit(client, key=None, **overrides):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(_url("case-list"), _multipart(**overrides), format="multipart", headers=headers)


def _open(number, step):
    return Task.objects.get(case_number=number, bpmn_id=step, state__in=Task.OPEN_STATES)


# --- applying -------------------------------------------------------------------------------------------------


def test_a_citizen_applies_with_multipart_and_gets_the_case_with_its_receipt(applicant, newborn, handlers):
    response = _submit(applicant)
    body = response.json()
    assert response.status_code == 201, body
    case = Case.objects.get()
    assert body["number"] == case.number
    assert body["status"] == "accepted"
    assert body["due_date"] == case.due_date.isoformat()
    assert body["receipt_url"] == f"/cases/{case.number}/receipt.pdf"
    assert body["tracking_url"] == f"/cases/{case.number}/"
    assert (body["service_type"], body["service_code"]) == ("bundle", "newborn")
    assert case.channel == Case.Channel.API
    assert case.applicant_name == "陈静"
    assert case.materials.get().filename == "marriage.pdf"


def test_a_citizen_applies_with_json_and_a_base64_material(applicant, newborn, handlers):
    payload = {
        "service_type": "bundle",
        "service_code": "newborn",
        "form_data": newborn_form(),
        "materials": {
            "parents-marriage-certificate": {
                "filename": "marriage.pdf",
                "content_type": "application/pdf",
                "content": base64.b64encode(PDF).decode(),
            }
        },
    }
    response = applicant.post(_url("case-list"), payload, format="json")
    assert response.status_code == 201, response.json()
    material = CaseMaterial.objects.get()
    assert material.size == len(PDF)
    assert material.content_type == "application/pdf"


def test_a_retried_submission_with_the_same_key_returns_the_same_case(applicant, newborn, handlers):
    first = _submit(applicant, key="retry-7f3a")
    second = _submit(applicant, key="retry-7f3a")
    assert first.status_code == 201
    assert second.status_code == 200
    assert first.json()["number"] == second.json()["number"]
    assert Case.objects.count() == 1


def test_a_bad_form_and_a_missing_material_get_field_errors_and_nothing_is_written(
    applicant, newborn, handlers
):
    data = _multipart(form_data=json.dumps(newborn_form(mother_resident_id="123", baby_name="")))
    del data["material.parents-marriage-certificate"]
    response = applicant.post(_url("case-list"), data, format="multipart")
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid"
    assert {"mother_resident_id", "baby_name", "materials.parents-marriage-certificate"} <= set(
        body["errors"]
    )
    assert Case.objects.count() == 0
    assert CaseMaterial.objects.count() == 0
    assert Task.objects.count() == 0


def test_a_form_that_is_not_a_json_object_and_an_unknown_service_get_400(applicant, newborn):
    response = _submit(applicant, form_data="[1, 2")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["form_data"]
    response = _submit(applicant, service_code="no-such-service")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["service_code"]
    assert Case.objects.count() == 0


def test_staff_cannot_apply_as_a_citizen(newborn, handlers):
    response = _submit(_as(handlers["health"]))
    assert response.status_code == 403
    assert Case.objects.count() == 0


def test_anonymous_callers_are_refused(api, newborn):
    assert api.get(_url("case-list")).status_code == 403
    response = _submit(api)
    assert response.status_code == 403
    assert response.json()["code"] == "not_authenticated"
    assert Case.objects.count() == 0


# --- tracking -------------------------------------------------------------------------------------------------


def test_the_applicant_sees_the_case_with_timeline_materials_and_tasks(applicant, newborn, handlers):
    number = _submit(applicant).json()["number"]
    response = applicant.get(_url("case-detail", number))
    body = response.json()
    assert response.status_code == 200
    assert [step["kind"] for step in body["timeline"]] == ["submitted", "accepted"]
    assert body["timeline"][-1]["awaiting"]
    assert [task["name"] for task in body["tasks"]] == [_open(number, "birth_certificate").name]
    assert body["supplement"] is None
    assert body["measures"]["materials_uploaded"] == 1
    [material] = body["materials"]
    assert material["file_url"] == _url("case-material-file", number, material["id"])
    download = applicant.get(material["file_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF


def test_another_citizen_gets_404_for_the_case_and_its_files(applicant, citizen, newborn, handlers):
    number = _submit(applicant).json()["number"]
    material = CaseMaterial.objects.get()
    other = APIClient()
    other.force_login(citizen)
    assert other.get(_url("case-detail", number)).status_code == 404
    assert other.get(_url("case-material-file", number, material.pk)).status_code == 404
    assert other.post(_url("case-withdraw", number), {"reason": "x"}, format="json").status_code == 404
    assert other.get(_url("case-list")).json()["results"] == []


def test_the_case_list_shows_applicants_their_own_and_staff_their_departments(applicant, newborn, handlers):
    number = _submit(applicant).json()["number"]
    assert [c["number"] for c in applicant.get(_url("case-list")).json()["results"]] == [number]
    health = _as(handlers["health"])
    assert [c["number"] for c in health.get(_url("case-list")).json()["results"]] == [number]
    assert health.get(_url("case-list"), {"status": "completed"}).json()["results"] == []
    assert _as(handlers["hrss"]).get(_url("case-list")).json()["results"] == []


def test_staff_reading_a_material_file_is_audited(applicant, newborn, handlers):
    number = _submit(applicant).json()["number"]
    health = _as(handlers["health"])
    material = health.get(_url("case-detail", number)).json()["materials"][0]
    assert material["file_url"]
    assert health.get(material["file_url"]).status_code == 200
    assert AuditEntry.objects.filter(action="case.material_read", subject_id=material["id"]).exists()


def test_the_applicant_withdraws_with_a_reason(applicant, newborn, handlers):
    number = _submit(applicant).json()["number"]
    response = applicant.post(_url("case-withdraw", number), {"reason": ""}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["reason"]
    response = applicant.post(_url("case-withdraw", number), {"reason": "信息填错"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert not Task.objects.filter(case_number=number, state__in=Task.OPEN_STATES).exists()
    again = applicant.post(_url("case-withdraw", number), {"reason": "again"}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "case_closed"


# --- the window -----------------------------------------------------------------------------------------------


def test_a_clerk_submits_at_a_window_with_materials_checked_there(clerk, parent, newborn, handlers):
    data = {
        "service_type": "bundle",
        "service_code": "newborn",
        "form_data": json.dumps(newborn_form()),
        "applicant_resident_id": MOTHER_ID,
        "window_checked": ["parents-marriage-certificate"],
    }
    client = _as(clerk)
    response = client.post(
        _url("window-case-submit"), data, format="multipart", headers={"Idempotency-Key": "w1"}
    )
    assert response.status_code == 201, response.json()
    case = Case.objects.get()
    assert (case.channel, case.status, case.visits) == ("window", "accepted", 1)
    assert case.accepting_department.code == "big-data-center"
    assert case.applicant_person.user == parent
    assert case.materials.get().origin == CaseMaterial.Origin.WINDOW
    again = client.post(
        _url("window-case-submit"), data, format="multipart", headers={"Idempotency-Key": "w1"}
    )
    assert again.status_code == 200
    assert Case.objects.count() == 1
    accepted_already = client.post(_url("case-accept", case.number))
    assert accepted_already.status_code == 409
    assert accepted_already.json()["code"] == "case_not_submitted"


def test_a_window_submission_must_name_a_known_applicant(clerk, newborn):
    client = _as(clerk)
    base = {"service_type": "bundle", "service_code": "newborn", "form_data": newborn_form()}
    response = client.post(_url("window-case-submit"), base, format="json")
    assert list(response.json()["errors"]) == ["applicant"]
    unknown = {**base, "applicant_resident_id": "11010119900307803X"}
    response = client.post(_url("window-case-submit"), unknown, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["applicant_resident_id"]
    assert Case.objects.count() == 0


def test_a_citizen_cannot_use_the_window(applicant, newborn):
    response = applicant.post(
        _url("window-case-submit"),
        {
            "service_type": "bundle",
            "service_code": "newborn",
            "form_data": {},
            "applicant_resident_id": MOTHER_ID,
        },
        format="json",
    )
    assert response.status_code == 403


@pytest.fixture
def manual_item(newborn):
    """The birth-certificate item on its own, accepted by staff rather than on submission."""
    item = catalog_selectors.item_get("310100-health-birth-cert")
    return catalog.item_update(actor=SYSTEM, item=item, acceptance="manual")


def _submit_item(client):
    payload = {
        "service_type": "item",
        "service_code": "310100-health-birth-cert",
        "form_data": newborn_form(),
    }
    response = client.post(_url("case-list"), payload, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_clerk_accepts_a_case_waiting_for_acceptance(applicant, clerk, manual_item, handlers):
    case = _submit_item(applicant)
    assert case["status"] == "submitted"
    response = _as(clerk).post(_url("case-accept", case["number"]))
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    assert response.json()["due_date"]
    assert _open(case["number"], "review").department.code == "health"


def test_a_clerk_refuses_acceptance_only_with_a_reason_and_basis(applicant, clerk, manual_item):
    number = _submit_item(applicant)["number"]
    client = _as(clerk)
    response = client.post(_url("case-refuse-acceptance", number), {"reason": "材料不全", "basis": ""})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["basis"]
    assert Case.objects.get().status == "submitted"
    response = client.post(
        _url("case-refuse-acceptance", number),
        {"reason": "不属于本事项", "basis": "《行政许可法》第三十二条"},
    )
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"


def test_a_handler_cannot_accept_cases(applicant, manual_item, handlers):
    number = _submit_item(applicant)["number"]
    assert _as(handlers["health"]).post(_url("case-accept", number)).status_code == 403
    assert Case.objects.get().status == "submitted"


# --- tasks ----------------------------------------------------------------------------------------------------


def test_staff_claim_and_complete_their_task_and_the_case_moves_on(applicant, newborn, handlers):
    number = _submit(applicant).json()["number"]
    task = _open(number, "birth_certificate")
    health = _as(handlers["health"])
    claimed = health.post(_url("task-claim", task.pk))
    assert claimed.status_code == 200
    assert claimed.json()["task"]["state"] == "claimed"
    assert claimed.json()["case"]["status"] == "in_progress"
    revision = claimed.json()["task"]["revision"]
    response = health.post(
        _url("task-complete", task.pk), {"decision": "approve", "opinion": "同意", "revision": revision}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["task"]["state"] == "completed"
    assert _open(number, "household_registration").department.code == "public-security-310101"


def test_a_stale_revision_gets_409_and_changes_nothing(applicant, newborn, handlers):
    number = _submit(applicant).json()["number"]
    task = _open(number, "birth_certificate")
    health = _as(handlers["health"])
    health.post(_url("task-claim", task.pk))
    response = health.post(_url("task-complete", task.pk), {"decision": "approve", "revision": task.revision})
    assert response.status_code == 409
    assert response.json()["code"] == "task_changed"
    task.refresh_from_db()
    assert task.state == Task.State.CLAIMED
    assert not Task.objects.filter(case_number=number, bpmn_id="household_registration").exists()


def test_a_handler_of_another_department_gets_403_and_the_task_is_unchanged(applicant, newborn, handlers):
    number = _submit(applicant).json()["number"]
    task = _open(number, "birth_certificate")
    hrss = _as(handlers["hrss"])
    for name, payload in (
        ("task-claim", {}),
        ("task-complete", {"decision": "approve"}),
        ("task-return", {"opinion": "x"}),
        ("task-supplement", {"materials": [{"code": "parents-marriage-certificate", "reason": "x"}]}),
    ):
        assert hrss.post(_url(name, task.pk), payload, format="json").status_code == 403, name
    task.refresh_from_db()
    assert (task.state, task.revision) == (Task.State.READY, 0)
    assert AuditEntry.objects.filter(action="permission.denied").exists()


def test_a_task_that_does_not_exist_gets_404(newborn, handlers):
    missing = "5f0c6f0e-0000-4000-8000-000000000000"
    assert _as(handlers["health"]).post(_url("task-claim", missing)).status_code == 404


def test_a_citizen_cannot_act_on_tasks(applicant, newborn, handlers):
    number = _submit(applicant).json()["number"]
    task = _open(number, "birth_certificate")
    assert applicant.post(_url("task-complete", task.pk), {"decision": "approve"}).status_code == 403
    assert APIClient().post(_url("task-complete", task.pk), {"decision": "approve"}).status_code == 403


def test_refusing_needs_the_reason_and_legal_basis(applicant, newborn, handlers):
    number = _submit(applicant).json()["number"]
    task = _open(number, "birth_certificate")
    health = _as(handlers["health"])
    response = health.post(_url("task-complete", task.pk), {"decision": "reject", "opinion": "不符合条件"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["basis"]
    response = health.post(
        _url("task-complete", task.pk),
        {"decision": "reject", "opinion": "不符合条件", "basis": "《母婴保健法》"},
    )
    assert response.status_code == 200
    assert response.json()["case"]["status"] == "rejected"


def test_a_task_is_returned_to_the_previous_step(applicant, newborn, handlers):
    number = _submit(applicant).json()["number"]
    _as(handlers["health"]).post(
        _url("task-complete", _open(number, "birth_certificate").pk), {"decision": "approve"}
    )
    household = _open(number, "household_registration")
    police = _as(handlers["public-security"])
    assert police.post(_url("task-return", household.pk), {"opinion": ""}).status_code == 400
    response = police.post(_url("task-return", household.pk), {"opinion": "出生医学证明信息有误"})
    assert response.status_code == 200
    assert response.json()["task"]["decision"] == "return"
    assert _open(number, "birth_certificate").department.code == "health"


def test_a_supplement_request_and_the_applicants_resubmission(applicant, newborn, handlers):
    number = _submit(applicant).json()["number"]
    _as(handlers["health"]).post(
        _url("task-complete", _open(number, "birth_certificate").pk), {"decision": "approve"}
    )
    household = _open(number, "household_registration")
    police = _as(handlers["public-security"])
    empty = police.post(_url("task-supplement", household.pk), {}, format="json")
    assert empty.status_code == 400
    response = police.post(
        _url("task-supplement", household.pk),
        {
            "materials": [{"code": "parents-marriage-certificate", "reason": "照片不清晰"}],
            "fields": [{"field": "baby_name", "reason": "与出生医学证明不一致"}],
            "note": "请一次补齐",
        },
        format="json",
    )
    body = response.json()
    assert response.status_code == 200, body
    assert body["case"]["status"] == "supplement"
    assert body["supplement"]["materials"][0]["name"] == "父母结婚证"
    detail = applicant.get(_url("case-detail", number)).json()
    assert detail["supplement"]["fields"][0]["field"] == "baby_name"
    assert detail["due_date"] is None

    incomplete = applicant.post(_url("case-resubmit", number), {"form_data": "{}"}, format="multipart")
    assert incomplete.status_code == 400
    assert set(incomplete.json()["errors"]) == {"materials.parents-marriage-certificate", "baby_name"}
    response = applicant.post(
        _url("case-resubmit", number),
        {
            "form_data": json.dumps({"baby_name": "李晓明"}),
            "material.parents-marriage-certificate": pdf_upload("better.pdf"),
        },
        format="multipart",
    )
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "resubmitted"
    assert body["form_data"]["baby_name"] == "李晓明"
    assert body["supplement"] is None
    assert [m["filename"] for m in body["materials"]] == ["better.pdf"]
    household.refresh_from_db()
    assert household.state == Task.State.READY


def test_an_agent_can_apply_only_for_an_organisation_they_act_for(applicant, newborn):
    response = _submit(applicant, applicant_organisation="91310115MA1G7K3X0A")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["applicant_organisation"]
    assert Case.objects.count() == 0
