"""Process definitions: designers upload BPMN files (a broken one is refused with the reason), see versions."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.workflow.models import ProcessDefinition
from tongban.workflow.services import PROCESS_DIR

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english(client):
    client.cookies["django_language"] = "en"


def _bpmn(content, name="process.bpmn"):
    return SimpleUploadedFile(name, content, content_type="application/xml")


def _standard():
    return (PROCESS_DIR / "standard.bpmn").read_bytes()


def test_designers_see_the_processes_with_their_versions(client, designer, newborn):
    login_with_second_factor(client, designer)
    html = client.get(reverse("workbench:processes")).content.decode()
    assert "<code>newborn</code>" in html
    detail = client.get(reverse("workbench:process", args=["newborn", 1])).content.decode()
    assert "public-security@district/dept_handler" in detail
    assert "household_registration" in detail
    download = client.get(reverse("workbench:process-download", args=["newborn", 1]))
    assert download["Content-Disposition"].startswith("attachment")
    assert b"<bpmn:definitions" in download.content


def test_a_broken_bpmn_file_is_refused_with_the_reason(client, designer, newborn):
    login_with_second_factor(client, designer)
    response = client.post(reverse("workbench:processes"), {"key": "standard", "bpmn": _bpmn(b"<not-bpmn")})
    assert response.status_code == 400
    assert "The file was refused." in response.content.decode()
    assert ProcessDefinition.objects.filter(key="standard").count() == 1


def test_a_lane_with_an_unknown_role_is_refused_with_the_reason(client, designer, newborn):
    login_with_second_factor(client, designer)
    broken = _standard().replace(b"*/dept_handler", b"*/dept_wizard")
    response = client.post(reverse("workbench:processes"), {"key": "standard", "bpmn": _bpmn(broken)})
    assert response.status_code == 400
    assert "dept_wizard" in response.content.decode()


def test_a_changed_file_makes_version_two_and_the_same_file_does_not(client, designer, newborn):
    login_with_second_factor(client, designer)
    same = client.post(reverse("workbench:processes"), {"key": "standard", "bpmn": _bpmn(_standard())})
    assert same.status_code == 302
    assert ProcessDefinition.objects.filter(key="standard").count() == 1
    changed = _standard().decode().replace('name="审核"', 'name="审核（新）"').encode()
    response = client.post(reverse("workbench:processes"), {"key": "standard", "bpmn": _bpmn(changed)})
    assert response.status_code == 302
    assert response["Location"] == reverse("workbench:process", args=["standard", 2])
    assert ProcessDefinition.objects.get(key="standard", version=2).user_tasks[0]["name"] == "审核（新）"


def test_a_key_that_is_not_a_slug_is_refused_beside_the_field(client, designer, newborn):
    login_with_second_factor(client, designer)
    for key in ("my process", "x" * 65):
        response = client.post(reverse("workbench:processes"), {"key": key, "bpmn": _bpmn(_standard())})
        assert response.status_code == 400
        assert "Use up to 64 letters" in response.content.decode()
    assert not ProcessDefinition.objects.filter(key__in=["my process", "x" * 65]).exists()


def test_a_department_handler_may_not_manage_processes(client, handlers):
    login_with_second_factor(client, handlers["health"])
    assert client.get(reverse("workbench:processes")).status_code == 403
    assert client.post(reverse("workbench:processes"), {"key": "x"}).status_code == 403
