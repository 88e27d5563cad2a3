"""Scoped API clients: OAuth 2 client credentials, scopes per resource and action, limits by department, service
item and data sensitivity, every call audited with the client, a rate limit per client, the OpenAPI scheme."""

import base64
import datetime as dt
import sys
import types
from dataclasses import dataclass

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken

from tongban.cases import services as case_services
from tongban.core.models import AuditEntry
from tongban.identity.selectors import actor_for
from tongban.identity.tests.fixtures import CITIZEN_RESIDENT_ID
from tongban.integrations.tests.factories import make_client
from tongban.workflow.tests.fixtures import newborn_files, newborn_form

pytestmark = pytest.mark.django_db


def _token(client, api_client, secret, scope=None):
    basic = base64.b64encode(f"{api_client.application.client_id}:{secret}".encode()).decode()
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    return client.post("/oauth/token/", data, HTTP_AUTHORIZATION=f"Basic {basic}")


def _bearer(client, api_client, secret, scope=None):
    response = _token(client, api_client, secret, scope)
    assert response.status_code == 200, response.content
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def case(parent, newborn, handlers):
    return case_services.case_submit(
        actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
    )


def test_a_client_gets_a_token_and_reads_its_departments_cases_on_the_record(client, case):
    api_client, secret = make_client("Health system", "health", scopes=["cases:read"])
    auth = _bearer(client, api_client, secret)
    listing = client.get("/api/v1/partner/cases/", **auth)
    assert listing.status_code == 200
    assert [row["number"] for row in listing.json()["results"]] == [case.number]
    detail = client.get(f"/api/v1/partner/cases/{case.number}/", **auth)
    assert detail.status_code == 200
    assert detail.json()["service_code"] == "newborn" and "form_data" not in detail.json()
    assert AuditEntry.objects.filter(action="api_client.token", actor_id=str(api_client.pk)).count() == 1
    calls = AuditEntry.objects.filter(
        action="api_client.call", actor_kind="client", actor_id=str(api_client.pk)
    )
    assert calls.count() == 2
    assert calls.filter(actor_label="Health system", actor_department="health").count() == 2


def test_a_client_asking_for_a_scope_it_was_not_given_gets_no_token(client, city):
    api_client, secret = make_client(scopes=["cases:read"])
    response = _token(client, api_client, secret, scope="cases:read tickets:write")
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"
    wrong = _token(client, api_client, "not-the-secret")
    assert wrong.status_code == 401


def test_a_call_without_the_scope_is_refused_403_and_audited(client, case):
    api_client, secret = make_client("Lookup only", "health", scopes=["lookups:read"])
    response = client.get("/api/v1/partner/cases/", **_bearer(client, api_client, secret))
    assert response.status_code == 403
    denial = AuditEntry.objects.get(action="permission.denied", actor_kind="client")
    assert denial.subject_id == "cases:read"


def test_a_client_of_another_department_is_refused_the_case_403(client, case):
    api_client, secret = make_client("Tax system", "tax", scopes=["cases:read"])
    auth = _bearer(client, api_client, secret)
    assert client.get("/api/v1/partner/cases/", **auth).json()["results"] == []
    assert client.get(f"/api/v1/partner/cases/{case.number}/", **auth).status_code == 403
    assert client.get("/api/v1/partner/cases/TB000/", **auth).status_code == 404


def test_service_item_and_sensitivity_limit_what_a_client_reads(client, case):
    from tongban.catalog.models import ServiceItem

    other_item = ServiceItem.objects.first()
    other_item.pk, other_item.code, other_item.basic_code = None, "other-item", "other-item"
    other_item._state.adding = True
    other_item.save()
    narrow, secret = make_client("Narrow", "health", scopes=["cases:read"], service_items=[other_item])
    auth = _bearer(client, narrow, secret)
    assert client.get("/api/v1/partner/cases/", **auth).json()["results"] == []
    assert client.get(f"/api/v1/partner/cases/{case.number}/", **auth).status_code == 403
    assert client.get(f"/api/v1/partner/cases/{case.number}/form/", **auth).status_code == 403
    # A bundle's case (出生一件事) counts as a case of each of its items.
    birth, secret = make_client(
        "Birth item", "health", scopes=["cases:read"], service_items=[case.bundle.items.first()]
    )
    auth = _bearer(client, birth, secret)
    assert [row["number"] for row in client.get("/api/v1/partner/cases/", **auth).json()["results"]] == [
        case.number
    ]
    assert client.get(f"/api/v1/partner/cases/{case.number}/", **auth).status_code == 200

    internal, secret = make_client("Internal", "health", scopes=["cases:read"])
    auth = _bearer(client, internal, secret)
    assert client.get(f"/api/v1/partner/cases/{case.number}/form/", **auth).status_code == 403
    personal, secret = make_client("Personal", "health", scopes=["cases:read"], max_sensitivity="personal")
    form = client.get(f"/api/v1/partner/cases/{case.number}/form/", **_bearer(client, personal, secret))
    assert form.status_code == 200 and form.json()["form_data"]["baby_name"] == "李小明"


def test_an_expired_token_is_401_with_a_bearer_challenge(client, city):
    api_client, secret = make_client()
    auth = _bearer(client, api_client, secret)
    AccessToken.objects.update(expires=timezone.now() - dt.timedelta(seconds=1))
    response = client.get("/api/v1/partner/cases/", **auth)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/partner/cases/").status_code == 401  # no token at all


def test_a_deactivated_client_is_refused_at_once(client, city):
    from tongban.integrations import services
    from tongban.integrations.tests.factories import admin_actor

    api_client, secret = make_client()
    auth = _bearer(client, api_client, secret)
    api_client.active = False
    services.api_client_update(actor=admin_actor(), client=api_client, changed=["active"], save=True)
    assert client.get("/api/v1/partner/cases/", **auth).status_code == 401
    refused = _token(client, api_client, secret)
    assert refused.status_code == 401, refused.content  # no token for it any more


def test_each_client_has_its_own_rate_limit_429(client, city):
    slow, secret = make_client("Slow", rate="2/minute")
    other, other_secret = make_client("Other", rate="2/minute")
    auth = _bearer(client, slow, secret)
    assert [client.get("/api/v1/partner/cases/", **auth).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/api/v1/partner/cases/", **_bearer(client, other, other_secret)).status_code == 200
    statuses = [e.details for e in AuditEntry.objects.filter(action="api_client.call", actor_id=str(slow.pk))]
    assert ['"status": 429' in details or '"status":429' in details for details in statuses].count(True) == 1


def test_lookups_follow_the_clients_department_grants_and_sensitivity(client, citizen):
    owner, secret = make_client(
        "Population system", "public-security", scopes=["lookups:read"], max_sensitivity="personal"
    )
    auth = _bearer(client, owner, secret)
    body = {
        "resource": "person-identity",
        "subject": CITIZEN_RESIDENT_ID,
        "fields": ["name"],
        "purpose": "核验",
    }
    response = client.post("/api/v1/partner/lookups/", body, content_type="application/json", **auth)
    assert response.status_code == 200, response.content
    assert response.json()["data"] == {"name": "李明"}
    assert AuditEntry.objects.filter(action="data.lookup", actor_kind="client").exists()
    body["fields"] = [
        "resident_id"
    ]  # sensitive: above this client's limit, refused before the registry is read
    refused = client.post("/api/v1/partner/lookups/", body, content_type="application/json", **auth)
    assert refused.status_code == 403
    body["fields"] = ["no_such_field"]
    assert (
        client.post("/api/v1/partner/lookups/", body, content_type="application/json", **auth).status_code
        == 400
    )

    health, secret = make_client(
        "Health lookups", "health", scopes=["lookups:read"], max_sensitivity="personal"
    )
    body["fields"] = ["name"]
    no_grant = client.post(
        "/api/v1/partner/lookups/", body, content_type="application/json", **_bearer(client, health, secret)
    )
    assert no_grant.status_code == 403, no_grant.content
    assert no_grant.json()["code"] == "grant_missing"


@dataclass
class Prediction:
    department: str
    confidence: float
    top3: list


@pytest.fixture
def routing(monkeypatch):
    """A stand-in classifier (as the hotline's own tests use): this test is about the client, not the model."""
    module = types.ModuleType("tongban.hotline.routing")
    module.classify = lambda texts, districts=None: [Prediction("urban-management", 0.5, []) for _ in texts]
    monkeypatch.setitem(sys.modules, "tongban.hotline.routing", module)


def test_a_client_files_a_ticket_as_itself(client, city, routing):
    from tongban.hotline.models import Ticket

    api_client, secret = make_client("Grid system", "health", scopes=["tickets:write"])
    body = {"ticket_type": "complaint", "text": "小区门口的路灯坏了一个星期，晚上很黑，请尽快修理。"}
    response = client.post(
        "/api/v1/partner/tickets/",
        body,
        content_type="application/json",
        **_bearer(client, api_client, secret),
    )
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(number=response.json()["number"])
    assert AuditEntry.objects.filter(ticket_id=str(ticket.pk), actor_kind="client").exists()
    bad = client.post(
        "/api/v1/partner/tickets/",
        {"ticket_type": "x"},
        content_type="application/json",
        **_bearer(client, api_client, secret),
    )
    assert bad.status_code == 400 and set(bad.json()["errors"]) >= {"ticket_type", "text"}


def test_the_openapi_schema_documents_the_client_credentials_scheme(client, city):
    schema = client.get("/api/schema/?format=json").json()
    scheme = schema["components"]["securitySchemes"]["apiClient"]
    assert scheme["type"] == "oauth2"
    assert scheme["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token/"
    assert "cases:read" in scheme["flows"]["clientCredentials"]["scopes"]
    operation = schema["paths"]["/api/v1/partner/cases/{number}/accept/"]["post"]
    assert operation["security"] == [{"apiClient": ["cases:write"]}]
    assert {"401", "403", "429"} <= set(operation["responses"])


def test_a_department_system_accepts_a_case_its_department_leads(client, parent, newborn, handlers):
    from tongban.catalog.models import ServiceItem

    # One of the bundle's items on its own, accepted by staff (not at once on a complete online submission).
    item = newborn.items.exclude(code=newborn.items.first().code).filter(materials__isnull=True).first()
    ServiceItem.objects.filter(pk=item.pk).update(acceptance="manual")
    item.refresh_from_db()
    case = case_services.case_submit(actor=actor_for(parent), service=item, form_data={"baby_name": "李小明"})
    assert case.status == "submitted"
    reader, secret = make_client("Reader", item.department.code, scopes=["cases:read"])
    url = f"/api/v1/partner/cases/{case.number}/accept/"
    assert client.post(url, **_bearer(client, reader, secret)).status_code == 403
    other, secret = make_client("Tax window", "tax", scopes=["cases:write"])
    assert client.post(url, **_bearer(client, other, secret)).status_code == 403
    window, secret = make_client("Window system", item.department.code, scopes=["cases:write"])
    response = client.post(url, **_bearer(client, window, secret))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    assert AuditEntry.objects.filter(
        action="case.accepted", actor_kind="client", actor_id=str(window.pk)
    ).exists()


def test_an_administrator_registers_a_client_in_the_admin_and_sees_its_secret_once(client, city):
    from tongban.identity.selectors import department_get
    from tongban.identity.tests.fixtures import login_with_second_factor
    from tongban.integrations.models import ApiClient
    from tongban.integrations.tests.factories import admin_actor

    login_with_second_factor(client, admin_actor().user)
    health, tax = department_get("health"), department_get("tax")
    response = client.post(
        "/admin/integrations/apiclient/add/",
        {
            "name": "Admin-made system",
            "department": str(health.pk),
            "scopes": ["cases:read", "tickets:write"],
            "departments": [str(tax.pk)],
            "max_sensitivity": "internal",
            "rate": "",
            "active": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    made = ApiClient.objects.get(name="Admin-made system")
    assert set(made.departments.all()) == {tax}
    text = response.content.decode()
    assert made.application.client_id in text
    secret = (
        text.split("client secret: ")[1].split(".")[0]
        if "client secret: " in text
        else text.split("客户端密钥：")[1].split("。")[0]
    )
    assert _token(client, made, secret).status_code == 200
    assert AuditEntry.objects.filter(action="api_client.created", subject_id=str(made.pk)).exists()
    bad = client.post(
        f"/admin/integrations/apiclient/{made.pk}/change/",
        {
            "name": made.name,
            "department": str(health.pk),
            "scopes": ["cases:read"],
            "max_sensitivity": "internal",
            "rate": "lots",
            "active": "on",
        },
    )
    assert bad.status_code == 200  # the form again, with the rate's message, never a 500
    made.refresh_from_db()
    assert made.rate == ""


def test_unknown_methods_are_405_and_options_answer_a_client(client, city):
    api_client, secret = make_client()
    auth = _bearer(client, api_client, secret)
    assert client.generic("TRACE", "/api/v1/partner/cases/", **auth).status_code == 405
    assert client.generic("TRACE", "/api/v1/partner/cases/").status_code == 405
    assert client.post("/api/v1/partner/cases/", **auth).status_code == 405
    assert client.options("/api/v1/partner/cases/", **auth).status_code == 200
    assert client.head("/api/v1/partner/cases/", **auth).status_code == 200
