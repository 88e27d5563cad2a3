"""The licence endpoints: my wallet, one licence, revocation, public verification; the OpenAPI schema."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tongban.core.audit import SYSTEM
from tongban.identity import services as identity
from tongban.identity.selectors import department_get
from tongban.identity.tests.factories import CitizenFactory
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.licences import services

from .factories import BIRTH_DATA, issue_birth_certificate

pytestmark = pytest.mark.django_db


def _url(name, *args):
    return reverse(f"api:licences-api:{name}", args=args)


@pytest.fixture
def api():
    return APIClient(headers={"accept-language": "en"})


def test_my_wallet_lists_my_licences_only(api, citizen):
    mine = issue_birth_certificate(citizen)
    issue_birth_certificate(CitizenFactory())
    api.force_login(citizen)
    response = api.get(_url("licence-list"))
    assert response.status_code == 200
    numbers = [row["number"] for row in response.json()["results"]]
    assert numbers == [mine.number]
    row = response.json()["results"][0]
    assert row["token"] == services.licence_token(mine)
    assert row["verify_url"].startswith("http://testserver/licences/verify/?t=")
    fields = {f["name"]: f for f in row["licence_fields"]}
    assert fields["mother_resident_id"]["sensitivity"] == "sensitive"
    assert fields["mother_resident_id"]["value"] != BIRTH_DATA["mother_resident_id"]


def test_the_wallet_needs_a_login(api):
    assert api.get(_url("licence-list")).status_code in (401, 403)


def test_a_licence_is_seen_by_its_holder_and_issuing_staff_only(api, citizen, staff_user):
    licence = issue_birth_certificate(citizen)
    api.force_login(CitizenFactory())
    assert api.get(_url("licence-detail", licence.number)).status_code == 404
    api.force_login(citizen)
    assert api.get(_url("licence-detail", licence.number)).json()["number"] == licence.number
    staff = login_with_second_factor(APIClient(), staff_user)
    assert staff.get(_url("licence-detail", licence.number)).status_code == 200


def test_verification_is_public_and_shows_public_fields_only(api, citizen):
    licence = issue_birth_certificate(citizen)
    response = api.post(_url("licence-verify"), {"token": services.licence_token(licence)}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "valid"
    assert body["type"] == "birth-medical-certificate"
    assert body["issuer"] == "health"
    assert body["holder"] == "李*"
    assert body["public_fields"] == [
        {
            "name": "birth_hospital",
            "label_zh": "助产机构",
            "label_en": "Place of delivery",
            "value": BIRTH_DATA["birth_hospital"],
        }
    ]
    text = response.content.decode()
    for private in ("李小明", "王丽", BIRTH_DATA["mother_resident_id"]):
        assert private not in text


def test_verification_answers_altered_and_unknown(api, citizen):
    licence = issue_birth_certificate(citizen)
    token = services.licence_token(licence)
    altered = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    body = api.post(_url("licence-verify"), {"token": altered}, format="json").json()
    assert body["status"] == "altered"
    assert body["number"] is None and body["public_fields"] == []
    body = api.post(_url("licence-verify"), {"token": "xyz"}, format="json").json()
    assert body["status"] == "unknown"
    assert api.post(_url("licence-verify"), {}, format="json").status_code == 400


def test_verification_works_for_signed_in_users_without_csrf(citizen):
    licence = issue_birth_certificate(citizen)
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(citizen)
    response = api.post(_url("licence-verify"), {"token": services.licence_token(licence)}, format="json")
    assert response.json()["status"] == "valid"


def test_issuing_staff_revoke_by_api_and_others_cannot(citizen, staff_user):
    licence = issue_birth_certificate(citizen)
    holder = APIClient()
    holder.force_login(citizen)
    assert (
        holder.post(_url("licence-revoke", licence.number), {"reason": "x"}, format="json").status_code == 403
    )
    user = identity.user_create(actor=SYSTEM, username="tax.head", password=None, check_password=False)
    identity.staff_create(actor=SYSTEM, user=user, department=department_get("tax"), roles=["dept_head"])
    other = login_with_second_factor(APIClient(), user)
    assert (
        other.post(_url("licence-revoke", licence.number), {"reason": "x"}, format="json").status_code == 403
    )
    staff = login_with_second_factor(APIClient(), staff_user)
    response = staff.post(_url("licence-revoke", licence.number), {"reason": ""}, format="json")
    assert response.status_code == 400
    response = staff.post(_url("licence-revoke", licence.number), {"reason": "登记错误"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    response = staff.post(_url("licence-revoke", licence.number), {"reason": "again"}, format="json")
    assert response.status_code == 409
    body = (
        APIClient()
        .post(_url("licence-verify"), {"token": services.licence_token(licence)}, format="json")
        .json()
    )
    assert body["status"] == "revoked"


def test_staff_without_the_second_factor_are_refused(citizen, staff_user):
    licence = issue_birth_certificate(citizen)
    api = APIClient()
    api.force_login(staff_user)
    assert api.post(_url("licence-revoke", licence.number), {"reason": "x"}, format="json").status_code == 403


def test_the_endpoints_are_in_the_openapi_schema(api):
    schema = api.get(reverse("api:schema"), {"format": "json"}).json()
    for path in (
        "/api/v1/licences/",
        "/api/v1/licences/verify/",
        "/api/v1/licences/{number}/",
        "/api/v1/licences/{number}/revoke/",
    ):
        assert path in schema["paths"], path
    assert schema["paths"]["/api/v1/licences/verify/"]["post"].get("security", [{}]) == [{}]  # no sign-in
