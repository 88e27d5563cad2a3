import pytest
from django.test import Client
from django.urls import reverse

from tongban.identity.tests.fixtures import CITIZEN_RESIDENT_ID, login_with_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client(headers={"accept-language": "en"})


def test_me_requires_a_signed_in_user(client):
    response = client.get(reverse("api:me"))
    assert response.status_code == 403
    assert response.json()["code"] == "not_authenticated"


def test_me_for_a_citizen_shows_only_masked_identifiers(client, citizen):
    client.force_login(citizen)
    response = client.get(reverse("api:me"))
    body = response.json()
    assert response.status_code == 200
    assert body["kind"] == "citizen"
    assert body["roles"] == ["citizen"]
    assert body["department"] is None
    assert body["person"]["name"] == "李明"
    assert body["person"]["masked_resident_id"] == "310***********" + CITIZEN_RESIDENT_ID[-4:]
    assert body["person"]["masked_phone"] == "138****5678"
    assert body["person"]["household_district"]["code"] == "310104"
    assert CITIZEN_RESIDENT_ID not in response.content.decode()
    assert "13812345678" not in response.content.decode()


def test_me_for_staff_shows_department_and_roles(client, staff_user):
    login_with_second_factor(client, staff_user)
    body = client.get(reverse("api:me")).json()
    assert body["kind"] == "staff"
    assert body["roles"] == ["dept_approver", "dept_handler"]
    assert body["department"]["code"] == "health"
    assert body["person"] is None


def test_me_refuses_staff_who_have_not_passed_the_second_factor(client, staff_user):
    client.force_login(staff_user)
    response = client.get(reverse("api:me"))
    assert response.status_code == 403


def test_anonymous_callers_are_rate_limited(client, city, monkeypatch):
    from rest_framework.throttling import AnonRateThrottle

    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "600/minute"})
    codes = [client.get(reverse("api:department-list")).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_departments_are_public_and_filterable(client, city):
    response = client.get(reverse("api:department-list"), {"level": "city"})
    body = response.json()
    assert response.status_code == 200
    codes = {department["code"] for department in body["results"]}
    assert {"public-security", "health", "big-data-center"} <= codes
    assert all(department["parent"] is None for department in body["results"])


def test_departments_search_by_name(client, city):
    body = client.get(reverse("api:department-list"), {"q": "tax", "level": "city"}).json()
    assert [department["code"] for department in body["results"]] == ["tax"]


def test_departments_with_a_bad_filter_get_a_400_not_a_500(client, city):
    response = client.get(reverse("api:department-list"), {"level": "galaxy"})
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid"
    assert list(body["errors"]) == ["level"]


def test_departments_bad_page_is_a_404_in_the_error_shape(client, city):
    body = client.get(reverse("api:department-list"), {"page": "999"}).json()
    assert body["status"] == 404


def test_numbered_lists_honour_page_size_as_the_keyset_lists_do(client, city):
    """DRF's page numbers ignored ?page_size= (the issue's finding for the lists): 1 to 100 now, else a 400."""
    url = reverse("api:department-list")
    first = client.get(url, {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["count"] > 2 and "page_size=2" in first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 2
    assert {d["code"] for d in first["results"]}.isdisjoint(d["code"] for d in second["results"])
    assert len(client.get(url).json()["results"]) == min(50, first["count"])  # the default page
    for bad in ("0", "101", "two"):
        response = client.get(url, {"page_size": bad})
        assert response.status_code == 400 and list(response.json()["errors"]) == ["page_size"]


def test_openapi_schema_lists_the_endpoints(client):
    response = client.get(reverse("api:schema"), {"format": "json"})
    schema = response.json()
    assert response.status_code == 200
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/me/" in schema["paths"]
    assert "/api/v1/departments/" in schema["paths"]
    parameters = {p["name"] for p in schema["paths"]["/api/v1/departments/"]["get"]["parameters"]}
    assert {"page", "page_size"} <= parameters


@pytest.mark.parametrize("name", ["api:docs", "api:redoc"])
def test_api_docs_are_served_locally_without_a_cdn(client, name):
    response = client.get(reverse(name))
    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn." not in html and "unpkg" not in html
