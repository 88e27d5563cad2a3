"""Back office: licence types are edited (and audited); licences and keys are read only."""

import json

import pytest
from django.urls import reverse

from tongban.core.models import AuditEntry
from tongban.identity.tests.factories import UserFactory, login_verified
from tongban.licences.models import LicenceType

from .factories import issue_birth_certificate

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_session(client, city):
    login_verified(client, UserFactory(username="admin", is_staff=True, is_superuser=True))
    return client


def test_a_licence_type_is_edited_in_the_admin_and_audited(admin_session):
    response = admin_session.post(
        reverse("admin:licences_licencetype_add"),
        {
            "code": "dog-licence",
            "name_zh": "养犬登记证",
            "name_en": "Dog licence",
            "number_prefix": "DOG",
            "department_code": "public-security",
            "fields": json.dumps(
                [{"name": "dog_name", "label_zh": "犬名", "label_en": "Name", "sensitivity": "public"}]
            ),
            "validity_years": "1",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert LicenceType.objects.get(code="dog-licence").validity_years == 1
    assert AuditEntry.objects.filter(action="licence_type.created", subject_id="dog-licence").exists()


def test_an_unknown_sensitivity_is_refused(admin_session):
    response = admin_session.post(
        reverse("admin:licences_licencetype_add"),
        {
            "code": "dog-licence",
            "name_zh": "养犬登记证",
            "name_en": "Dog licence",
            "number_prefix": "DOG",
            "department_code": "public-security",
            "fields": json.dumps([{"name": "dog_name", "sensitivity": "secret"}]),
            "active": "on",
        },
    )
    assert response.status_code == 200
    assert not LicenceType.objects.filter(code="dog-licence").exists()


def test_licences_and_keys_are_read_only(admin_session, citizen):
    licence = issue_birth_certificate(citizen)
    assert admin_session.get(reverse("admin:licences_licence_change", args=[licence.pk])).status_code == 200
    assert admin_session.get(reverse("admin:licences_licence_add")).status_code == 403
    assert admin_session.get(reverse("admin:licences_signingkey_add")).status_code == 403
    response = admin_session.post(
        reverse("admin:licences_licence_change", args=[licence.pk]), {"holder_name": "王五"}
    )
    assert response.status_code == 403
    licence.refresh_from_db()
    assert licence.holder_name != "王五"
