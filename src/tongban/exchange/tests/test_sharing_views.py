"""The sharing pages: the public catalogue, "who used my data", and the data stewards' grant pages."""

import pytest
from django.test import Client
from django.urls import reverse

from tongban.core.audit import SYSTEM
from tongban.exchange import selectors, services
from tongban.exchange.models import SharingGrant
from tongban.exchange.tests.fixtures_sharing import PURPOSE
from tongban.identity.selectors import department_get
from tongban.identity.tests.fixtures import CITIZEN_RESIDENT_ID, login_with_second_factor


@pytest.fixture
def client():
    return Client(headers={"accept-language": "en"})


def _lookup(**kwargs):
    values = {
        "actor": SYSTEM,
        "department": "health",
        "resource_code": "test-person-basic",
        "subject_key": CITIZEN_RESIDENT_ID,
        "purpose": PURPOSE,
        "case_number": "SH-2026-00000004",
    }
    values.update(kwargs)
    return services.lookup(**values)


def test_the_catalogue_page_is_public(client, test_resources):
    page = client.get(reverse("exchange:resources")).content.decode()
    assert "test-person-basic" in page and "《居民身份证法》" in page and "有条件共享" in page
    filtered = client.get(reverse("exchange:resources"), {"sharing": "not_shared"}).content.decode()
    assert "test-person-secret" in filtered and "test-person-basic" not in filtered


def test_who_used_my_data_lists_allowed_and_refused_uses(client, test_resources, citizen, other_citizen):
    services.grant_ensure(department="health", resource="test-person-basic", fields=["name"], purpose=PURPOSE)
    _lookup()
    with pytest.raises(services.GrantMissing):
        _lookup(department="civil-affairs", case_number="SH-2026-00000005")
    client.force_login(citizen)
    page = client.get(reverse("exchange:uses")).content.decode()
    assert "SH-2026-00000004" in page and "SH-2026-00000005" in page
    assert "姓名" in page  # the field's label
    assert "卫生健康委员会" in page and "text-bg-danger" in page and PURPOSE in page
    client.logout()
    client.force_login(other_citizen)
    page = client.get(reverse("exchange:uses")).content.decode()
    assert "SH-2026-00000004" not in page


def test_who_used_my_data_needs_a_login(client):
    response = client.get(reverse("exchange:uses"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_steward_approves_and_refuses_on_the_grants_page(
    client, test_resources, health_steward, ps_steward
):
    one = services.grant_request(
        actor=SYSTEM,
        department=department_get("health"),
        resource="test-person-basic",
        fields=["name"],
        purpose=PURPOSE,
        legal_basis="x",
    )
    two = services.grant_request(
        actor=SYSTEM,
        department=department_get("health"),
        resource="test-person-basic",
        fields=["sex"],
        purpose="另一目的",
        legal_basis="x",
    )
    login_with_second_factor(client, ps_steward)
    page = client.get(reverse("exchange:grants")).content.decode()
    assert reverse("exchange:grant-approve", args=[one.pk]) in page
    client.post(reverse("exchange:grant-approve", args=[one.pk]))
    client.post(reverse("exchange:grant-refuse", args=[two.pk]), {"reason": ""})
    assert SharingGrant.objects.get(pk=two.pk).status == "requested"  # no reason, no refusal
    client.post(reverse("exchange:grant-refuse", args=[two.pk]), {"reason": "超出必要范围"})
    assert SharingGrant.objects.get(pk=one.pk).status == "approved"
    assert SharingGrant.objects.get(pk=two.pk).status == "refused"


def test_the_requesting_steward_sees_no_decision_buttons(client, test_resources, health_steward):
    grant = services.grant_request(
        actor=SYSTEM,
        department=department_get("health"),
        resource="test-person-basic",
        fields=["name"],
        purpose=PURPOSE,
        legal_basis="x",
    )
    login_with_second_factor(client, health_steward)
    page = client.get(reverse("exchange:grants")).content.decode()
    assert PURPOSE in page and reverse("exchange:grant-approve", args=[grant.pk]) not in page
    assert client.post(reverse("exchange:grant-approve", args=[grant.pk])).status_code == 403


def test_a_steward_requests_a_grant_with_the_form(client, test_resources, health_steward):
    login_with_second_factor(client, health_steward)
    form = client.get(reverse("exchange:grant-new"), {"resource": "test-person-basic"}).content.decode()
    assert 'name="field_names"' in form and "手机号码" in form
    assert "test-person-secret" not in form  # not-shared resources are not offered
    response = client.post(
        reverse("exchange:grant-new"),
        {"resource": "test-person-basic", "field_names": ["name"], "purpose": PURPOSE, "legal_basis": ""},
    )
    assert response.status_code == 200 and "text-danger" in response.content.decode()
    assert not SharingGrant.objects.exists()
    response = client.post(
        reverse("exchange:grant-new"),
        {
            "resource": "test-person-basic",
            "field_names": ["name"],
            "purpose": PURPOSE,
            "legal_basis": "《母婴保健法》",
        },
    )
    assert response.status_code == 302
    grant = SharingGrant.objects.get()
    assert grant.department.code == "health" and grant.fields == ["name"] and grant.status == "requested"


def test_grant_pages_need_staff_with_a_second_factor(client, test_resources, citizen, health_handler):
    client.force_login(citizen)
    assert client.get(reverse("exchange:grants")).status_code == 403
    client.logout()
    client.force_login(health_handler)
    assert client.get(reverse("exchange:grants")).status_code == 302  # to the code page
    login_with_second_factor(client, health_handler)
    assert client.get(reverse("exchange:grants")).status_code == 403  # no exchange.request


def test_case_evidence_lists_the_reads_of_a_case_once_each(test_resources, citizen):
    services.grant_ensure(department="health", resource="test-person-basic", fields=["name"], purpose=PURPOSE)
    case_id = "0d3c8a2e-5b1f-4c39-9a57-1d2f1b3c4d5e"
    _lookup(case_id=case_id)
    _lookup()
    rows = selectors.case_evidence_rows(case_id)
    assert len(rows) == 1 and rows[0]["field_labels"] == ["姓名"]


def test_the_back_office_reads_and_decides_through_the_services(client, test_resources, citizen):
    from tongban.identity.tests.factories import UserFactory, login_verified

    grant = services.grant_request(
        actor=SYSTEM,
        department=department_get("health"),
        resource="test-person-basic",
        fields=["name"],
        purpose=PURPOSE,
        legal_basis="x",
    )
    login_verified(client, UserFactory(username="root", is_staff=True, is_superuser=True))
    for name in ("dataresource", "sharinggrant", "datause"):
        assert client.get(reverse(f"admin:exchange_{name}_changelist")).status_code == 200
    url = reverse("admin:exchange_sharinggrant_changelist")
    asked = client.post(url, {"action": "refuse", "_selected_action": [grant.pk]})
    assert asked.status_code == 200 and 'name="reason"' in asked.content.decode()
    client.post(url, {"action": "refuse", "_selected_action": [grant.pk], "confirm": "1", "reason": "不必要"})
    grant.refresh_from_db()
    assert grant.status == "refused" and grant.reason == "不必要"


def test_staff_see_their_own_data_uses_only_after_the_second_factor(client, health_steward):
    client.force_login(health_steward)  # a password, no TOTP code yet
    response = client.get(reverse("exchange:uses"))
    assert response.status_code == 302 and reverse("identity:otp-verify") in response["Location"]
    login_with_second_factor(client, health_steward)
    assert client.get(reverse("exchange:uses")).status_code == 200
