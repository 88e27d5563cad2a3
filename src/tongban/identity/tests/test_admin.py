"""Back-office data entry in the admin: bad identifiers get a clear field message and save nothing."""

from datetime import date

import pytest
from django.urls import reverse

from tongban.core.ids import make_credit_code, make_resident_id, parse_resident_id
from tongban.core.models import AuditEntry
from tongban.identity.models import Organisation, Person

from .factories import CitizenFactory, OrganisationFactory, UserFactory, login_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_session(client):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    login_verified(client, admin)
    client.cookies["django_language"] = "en"
    return client


def test_an_invalid_resident_id_is_refused_with_a_message_naming_the_check_digit(admin_session):
    response = admin_session.post(
        reverse("admin:identity_person_add"),
        {"resident_id": "310104199005171230", "name": "李明", "sex": "M", "birth_date": "1990-05-17"},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "resident_id" in errors
    assert "check" in " ".join(errors["resident_id"]).lower()
    assert not Person.objects.exists()


def test_an_invalid_credit_code_is_refused_with_a_field_message(admin_session):
    response = admin_session.post(
        reverse("admin:identity_organisation_add"),
        {"credit_code": "91310000MA1FL0000O", "name": "上海测试有限公司", "org_type": "enterprise"},
    )
    assert response.status_code == 200
    assert "credit_code" in response.context["adminform"].form.errors
    assert not Organisation.objects.exists()


def test_a_lower_case_x_in_a_resident_id_is_stored_in_canonical_form(admin_session):
    number = next(
        n
        for n in (make_resident_id("310104", date(1990, 5, 17), seq) for seq in range(1, 999))
        if n[-1] == "X"
    )
    parsed = parse_resident_id(number)
    response = admin_session.post(
        reverse("admin:identity_person_add"),
        {"resident_id": number.lower(), "name": "李明", "sex": parsed.sex, "birth_date": "1990-05-17"},
    )
    assert response.status_code == 302
    assert Person.objects.get().resident_id == number


def test_a_lower_case_credit_code_is_stored_in_canonical_form(admin_session):
    code = make_credit_code("310104", "MA1FL0AB")
    response = admin_session.post(
        reverse("admin:identity_organisation_add"),
        {"credit_code": code.lower(), "name": "上海测试有限公司", "org_type": "enterprise"},
    )
    assert response.status_code == 302
    assert Organisation.objects.get().credit_code == code


def test_enterprise_agents_changed_in_the_admin_are_audited(admin_session):
    organisation = OrganisationFactory()
    agent = CitizenFactory()
    url = reverse("admin:identity_organisation_change", args=[organisation.pk])
    data = {"name": organisation.name, "org_type": organisation.org_type, "agents": [agent.pk]}
    assert admin_session.post(url, data).status_code == 302
    assert list(organisation.agents.all()) == [agent]
    added = AuditEntry.objects.get(action="organisation.agent_added")
    assert added.details_data["user_id"] == str(agent.pk)
    data["agents"] = []
    assert admin_session.post(url, data).status_code == 302
    assert not organisation.agents.exists()
    assert AuditEntry.objects.filter(action="organisation.agent_removed").count() == 1
