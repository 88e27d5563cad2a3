"""Body limits of the case API: a JSON application with a base64 material at the documented 20 MB is accepted;
a body above a limit is refused in the API's error shape (never Django's HTML page)."""

import base64
import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tongban.cases.models import Case, CaseMaterial
from tongban.workflow.tests.fixtures import newborn_form

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def applicant(parent):
    client = APIClient(headers={"accept-language": "en"})
    client.force_login(parent)
    return client


def _application(size: int) -> dict:
    content = b"%PDF-1.4\n" + b"0" * (size - 9)
    return {
        "service_type": "bundle",
        "service_code": "newborn",
        "form_data": newborn_form(),
        "materials": {
            "parents-marriage-certificate": {
                "filename": "marriage.pdf",
                "content_type": "application/pdf",
                "content": base64.b64encode(content).decode(),
            }
        },
    }


def _post_json(client, url, payload):
    return client.post(url, json.dumps(payload), content_type="application/json")


def test_a_json_application_with_a_20_mb_base64_material_is_accepted(applicant, newborn, handlers):
    response = _post_json(applicant, reverse("api:cases-api:case-list"), _application(20 * MB))
    assert response.status_code == 201, response.content[:500]
    assert CaseMaterial.objects.get().size == 20 * MB


def test_a_json_application_above_the_body_limit_gets_413_in_the_api_error_shape(
    settings, applicant, newborn, handlers
):
    settings.TONGBAN_API_JSON_SUBMISSION_MAX_MB = 1
    response = _post_json(applicant, reverse("api:cases-api:case-list"), _application(2 * MB))
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert (body["status"], body["code"], body["errors"]) == (413, "request_too_large", {})
    assert "1 MB" in body["detail"]
    assert Case.objects.count() == 0


def test_a_material_above_20_mb_in_json_is_a_field_error(applicant, newborn, handlers):
    response = _post_json(applicant, reverse("api:cases-api:case-list"), _application(20 * MB + 1))
    assert response.status_code == 400
    assert "materials.parents-marriage-certificate" in response.json()["errors"]


def test_another_endpoint_over_djangos_body_limit_gets_413_in_the_api_error_shape(
    applicant, newborn, handlers
):
    created = _post_json(applicant, reverse("api:cases-api:case-list"), _application(1000))
    number = created.json()["number"]
    response = _post_json(
        applicant, reverse("api:cases-api:case-withdraw", args=[number]), {"reason": "x" * (3 * MB)}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_deeply_nested_json_in_an_application_is_a_400(applicant, newborn):
    body = '{"form_data": ' + "[" * 50000 + "]" * 50000 + "}"
    response = applicant.post(reverse("api:cases-api:case-list"), body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["status"] == 400
