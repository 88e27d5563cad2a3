"""The data hub's REST endpoints: catalogue, lookups, grants and "who used my data", with the callers' rights."""

import pytest
from django.test import Client
from django.urls import reverse

from tongban.core.audit import SYSTEM
from tongban.core.models import AuditEntry
from tongban.exchange import services
from tongban.exchange.models import SharingGrant
from tongban.exchange.tests.fixtures_sharing import PURPOSE
from tongban.identity.selectors import department_get
from tongban.identity.tests.fixtures import CITIZEN_RESIDENT_ID, login_with_second_factor


@pytest.fixture
def client():
    return Client(headers={"accept-language": "en"})


def _url(name, *args):
    return reverse(f"api:exchange-api:{name}", args=args)


def _lookup(client, **body):
    payload = {"resource": "test-person-basic", "subject": CITIZEN_RESIDENT_ID, "purpose": PURPOSE, **body}
    return client.post(_url("lookup"), payload, content_type="application/json")


def test_the_catalogue_is_public_and_holds_no_data(client, test_resources):
    body = client.get(_url("resource-list")).json()
    basic = next(r for r in body if r["code"] == "test-person-basic")
    assert basic["owner"] == "public-security" and basic["sharing"] == "conditional"
    assert {f["name"] for f in basic["fields"]} == {"name", "sex", "birth_date", "phone"}


def test_a_lookup_without_a_grant_is_403_and_names_the_missing_grant(
    client, test_resources, health_handler, citizen
):
    login_with_second_factor(client, health_handler)
    response = _lookup(client, fields=["name"], case_number="SH-2026-00000009")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "grant_missing"
    assert "test-person-basic" in body["detail"] and PURPOSE in body["detail"]
    assert body["missing"]["fields"] == ["name"] and body["missing"]["department"] == "health"
    entry = AuditEntry.objects.get(action="data.lookup_refused")
    assert entry.actor_label == "handler.health" and entry.actor_department == "health"


def test_a_granted_lookup_returns_only_granted_fields(client, test_resources, health_handler, citizen):
    services.grant_ensure(department="health", resource="test-person-basic", fields=["name"], purpose=PURPOSE)
    login_with_second_factor(client, health_handler)
    body = _lookup(client).json()
    assert body == {
        "allowed": True,
        "resource": "test-person-basic",
        "subject": CITIZEN_RESIDENT_ID,
        "fields": ["name"],
        "found": True,
        "basis": "grant",
        "data": {"name": "李明"},
    }
    assert _lookup(client, fields=["name", "phone"]).status_code == 403


def test_citizens_cannot_look_up(client, test_resources, citizen):
    client.force_login(citizen)
    assert _lookup(client).status_code == 403


def test_invalid_lookups_are_400(client, test_resources, health_handler):
    login_with_second_factor(client, health_handler)
    assert _lookup(client, resource="no-such-resource").status_code == 400
    assert _lookup(client, fields=["salary"]).status_code == 400
    assert _lookup(client, purpose="").status_code == 400


def test_grant_request_and_decision_through_the_api(client, test_resources, health_steward, ps_steward):
    login_with_second_factor(client, health_steward)
    response = client.post(
        _url("grant-list"),
        {
            "resource": "test-person-basic",
            "fields": ["name", "sex"],
            "purpose": PURPOSE,
            "legal_basis": "《母婴保健法》",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    grant = response.json()
    assert grant["status"] == "requested" and grant["department"] == "health"
    # The requester cannot approve its own request.
    assert client.post(_url("grant-approve", grant["id"])).status_code == 403
    client.logout()
    login_with_second_factor(client, ps_steward)
    listed = client.get(_url("grant-list"), {"role": "owner"}).json()
    assert [g["id"] for g in listed["results"]] == [grant["id"]]
    refused = client.post(_url("grant-refuse", grant["id"]), {"reason": ""}, content_type="application/json")
    assert refused.status_code == 400
    approved = client.post(_url("grant-approve", grant["id"]))
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert client.post(_url("grant-approve", grant["id"])).status_code == 409
    revoked = client.post(
        _url("grant-revoke", grant["id"]), {"reason": "到期"}, content_type="application/json"
    )
    assert revoked.json()["status"] == "revoked"


def test_a_not_shared_resource_cannot_be_requested_by_api(client, test_resources, health_steward):
    login_with_second_factor(client, health_steward)
    response = client.post(
        _url("grant-list"),
        {"resource": "test-person-secret", "fields": ["name"], "purpose": PURPOSE},
        content_type="application/json",
    )
    assert response.status_code == 400 and "resource" in response.json()["errors"]


def test_grant_lists_show_each_steward_their_side_only(client, test_resources, health_steward, city):
    from tongban.exchange.tests.fixtures_sharing import staff

    grant = services.grant_request(
        actor=SYSTEM,
        department=department_get("health"),
        resource="test-person-basic",
        fields=["name"],
        purpose=PURPOSE,
        legal_basis="x",
    )
    outsider = staff("steward.tax", "tax", ["data_steward"])
    login_with_second_factor(client, outsider)
    assert client.get(_url("grant-list")).json()["count"] == 0
    assert client.post(_url("grant-approve", grant.pk)).status_code == 404
    client.logout()
    login_with_second_factor(client, health_steward)
    assert client.get(_url("grant-list")).json()["count"] == 1
    assert SharingGrant.objects.get().status == "requested"


def test_data_uses_are_visible_only_to_their_person(client, test_resources, citizen, other_citizen):
    services.grant_ensure(department="health", resource="test-person-basic", fields=["name"], purpose=PURPOSE)
    services.lookup(
        actor=SYSTEM,
        department="health",
        resource_code="test-person-basic",
        subject_key=CITIZEN_RESIDENT_ID,
        purpose=PURPOSE,
        case_number="SH-2026-00000003",
    )
    client.force_login(citizen)
    body = client.get(_url("data-use-list")).json()
    assert body["count"] == 1
    use = body["results"][0]
    assert use["department"] == "health" and use["fields"] == ["name"] and use["allowed"] is True
    assert use["case_number"] == "SH-2026-00000003" and use["purpose"] == PURPOSE
    client.logout()
    client.force_login(other_citizen)
    assert client.get(_url("data-use-list")).json()["count"] == 0


def test_staff_without_a_person_see_no_data_uses(client, health_handler):
    login_with_second_factor(client, health_handler)
    assert client.get(_url("data-use-list")).status_code == 403


def test_the_schema_lists_the_data_endpoints(client):
    schema = client.get(reverse("api:schema"), {"format": "json"}).json()
    for path in (
        "/api/v1/data/lookups/",
        "/api/v1/data/grants/",
        "/api/v1/data/uses/",
        "/api/v1/data/resources/",
    ):
        assert path in schema["paths"]
