"""Back-office data entry in the admin: bad identifiers get a clear field message and save nothing."""

import pytest
from django.urls import reverse

from tongban.identity.models import Organisation, Person

from .factories import UserFactory, login_verified

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
