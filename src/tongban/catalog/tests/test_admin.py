"""Service designers edit the catalogue in the admin; saves go through the services."""

import json

import pytest

from tongban.catalog.models import Bundle, ServiceItem
from tongban.core.models import AuditEntry
from tongban.identity.tests.factories import UserFactory, department, login_verified

from .factories import FORM_SCHEMA, ServiceItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_session(client, city):
    login_verified(client, UserFactory(username="designer", is_staff=True, is_superuser=True))
    client.cookies["django_language"] = "en"
    return client


def _item_post(**overrides):
    data = {
        "code": "dog-registration",
        "basic_code": "000999000001",
        "name_zh": "养犬登记",
        "name_en": "Dog registration",
        "item_type": "registration",
        "legal_basis": "《上海市养犬管理条例》",
        "department": department("public-security").pk,
        "level": "district",
        "service_object": "person",
        "case_type": "promised",
        "legal_limit_days": "20",
        "promised_limit_days": "5",
        "fee": "0",
        "handling_modes": '["online"]',
        "visits_required": "0",
        "online_depth": "4",
        "acceptance": "automatic",
        "result_type": "document",
        "result_name": "养犬登记证",
        "form_schema": json.dumps(FORM_SCHEMA),
        "form_ui": "{}",
        "process_key": "standard",
        "materials-TOTAL_FORMS": "1",
        "materials-INITIAL_FORMS": "0",
        "materials-0-position": "0",
        "materials-0-code": "dog-photo",
        "materials-0-name": "犬只照片",
        "materials-0-source": "applicant",
        "materials-0-form": "electronic",
        "materials-0-copies": "1",
        "materials-0-necessity": "required",
    }
    data.update(overrides)
    return data


def test_an_item_saved_in_the_admin_is_audited_and_searchable(admin_session):
    response = admin_session.post("/admin/catalog/serviceitem/add/", _item_post())
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    item = ServiceItem.objects.get(code="dog-registration")
    assert list(item.materials.values_list("code", flat=True)) == ["dog-photo"]
    assert "养犬" in item.search_text and "照片" in item.search_text
    assert AuditEntry.objects.filter(action="catalog.item_created", subject_id="dog-registration").exists()
    assert AuditEntry.objects.filter(
        action="catalog.item_materials_set", subject_id="dog-registration"
    ).exists()


def test_a_contradiction_is_a_field_message_in_the_admin(admin_session):
    response = admin_session.post(
        "/admin/catalog/serviceitem/add/", _item_post(visits_required="1", visits_reason="现场核验")
    )
    assert response.status_code == 200
    assert "visits_required" in response.context["adminform"].form.errors
    assert not ServiceItem.objects.exists()


def test_a_bad_form_schema_is_a_field_message_in_the_admin(admin_session):
    response = admin_session.post(
        "/admin/catalog/serviceitem/add/", _item_post(form_schema='{"type": "object", "required": "x"}')
    )
    assert response.status_code == 200
    assert "form_schema" in response.context["adminform"].form.errors


@pytest.mark.parametrize(
    ("effects", "message"),
    [
        ({"review": ["registry.teleport"]}, "Unknown step effect registry.teleport"),
        ({"review": ["licence.issue"]}, "needs a parameter"),
        ({"review": ["licence.issue:no-such-licence"]}, "No licence type has the code no-such-licence"),
        ({"review": "birth.record"}, "list of names"),
        (["birth.record"], "mapping of step ids"),
    ],
)
def test_an_unknown_or_malformed_step_effect_is_a_field_message_in_the_admin(admin_session, effects, message):
    response = admin_session.post(
        "/admin/catalog/serviceitem/add/", _item_post(step_effects=json.dumps(effects))
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors.get("step_effects", [])), errors
    assert not ServiceItem.objects.exists()


def test_the_step_effects_an_item_names_are_saved_from_the_admin(admin_session):
    effects = {"approval": ["birth.record"], "review": []}
    response = admin_session.post(
        "/admin/catalog/serviceitem/add/", _item_post(step_effects=json.dumps(effects))
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert ServiceItem.objects.get(code="dog-registration").step_effects == effects


def test_a_bundle_saved_in_the_admin_gets_its_merged_form(admin_session):
    first, second = ServiceItemFactory(), ServiceItemFactory()
    response = admin_session.post(
        "/admin/catalog/bundle/add/",
        {
            "code": "dog-bundle",
            "name_zh": "养犬一件事",
            "lead_department": department("public-security").pk,
            "service_object": "person",
            "legal_limit_days": "20",
            "promised_limit_days": "5",
            "visits_required": "0",
            "bundle_items-TOTAL_FORMS": "2",
            "bundle_items-INITIAL_FORMS": "0",
            "bundle_items-0-position": "0",
            "bundle_items-0-item": first.pk,
            "bundle_items-1-position": "1",
            "bundle_items-1-item": second.pk,
        },
    )
    assert response.status_code == 302
    bundle = Bundle.objects.get(code="dog-bundle")
    assert [s["item"] for s in bundle.form_ui["sections"]] == [first.code, second.code]
    assert AuditEntry.objects.filter(action="catalog.bundle_items_set", subject_id="dog-bundle").exists()


def test_the_admin_lists_and_searches_items(admin_session):
    ServiceItemFactory(name_zh="养犬登记")
    response = admin_session.get("/admin/catalog/serviceitem/", {"q": "养犬", "status__exact": "published"})
    assert response.status_code == 200
    assert "养犬登记" in response.content.decode()
