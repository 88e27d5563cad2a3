"""Writes of the catalogue: merged bundle forms, publication, audit and events, form answers, materials."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from tongban.catalog import services
from tongban.catalog.models import Material, PublicationStatus
from tongban.catalog.schema import form_validate
from tongban.catalog.selectors import bundle_materials_list
from tongban.core.audit import SYSTEM
from tongban.core.exceptions import Conflict
from tongban.core.models import AuditEntry, OutboxEvent

from .factories import BundleFactory, MaterialFactory, ServiceItemFactory

pytestmark = pytest.mark.django_db

BABY = {
    "type": "object",
    "properties": {
        "baby_name": {"type": "string", "title": "新生儿姓名", "maxLength": 32},
        "birth_date": {"type": "string", "title": "出生日期", "format": "date"},
    },
    "required": ["baby_name"],
}
HOUSEHOLD = {
    "type": "object",
    "properties": {
        "baby_name": {
            "type": "string",
            "title": "姓名",
            "maxLength": 32,
        },  # another title: still the same field
        "household_address": {"type": "string", "title": "户籍地址"},
    },
    "required": ["household_address"],
}


def test_a_bundle_form_merges_properties_and_the_required_fields_of_its_items(city):
    first = ServiceItemFactory(form_schema=BABY, form_ui={"order": ["birth_date", "baby_name"]})
    second = ServiceItemFactory(
        form_schema=HOUSEHOLD, form_ui={"widgets": {"household_address": {"widget": "textarea"}}}
    )
    bundle = BundleFactory(items=[first, second])
    schema = bundle.form_schema
    assert list(schema["properties"]) == ["birth_date", "baby_name", "household_address"]
    assert schema["properties"]["baby_name"]["title"] == "新生儿姓名"  # the first item's wording wins
    assert schema["required"] == ["baby_name", "household_address"]
    assert bundle.form_ui["sections"] == [
        {
            "item": first.code,
            "title": first.name_zh,
            "fields": ["birth_date", "baby_name"],
            "title_en": first.name_en,
        },
        {
            "item": second.code,
            "title": second.name_zh,
            "fields": ["household_address"],
            "title_en": second.name_en,
        },
    ]  # the English heading of a section is the item's English name
    assert bundle.form_ui["widgets"] == {"household_address": {"widget": "textarea"}}


def test_items_defining_a_field_differently_cannot_be_bundled(city):
    clash = {"type": "object", "properties": {"birth_date": {"type": "integer", "title": "出生年份"}}}
    first, second = (
        ServiceItemFactory(form_schema=BABY, form_ui={}),
        ServiceItemFactory(form_schema=clash, form_ui={}),
    )
    with pytest.raises(ValidationError) as caught:
        BundleFactory(items=[first, second])
    message = caught.value.message_dict["form_schema"][0]
    assert "birth_date" in message and second.code in message and first.code in message


def test_an_item_form_change_that_breaks_its_bundle_is_refused(city):
    first, second = (
        ServiceItemFactory(form_schema=BABY, form_ui={}),
        ServiceItemFactory(form_schema=HOUSEHOLD, form_ui={}),
    )
    bundle = BundleFactory(items=[first, second])
    broken = {"type": "object", "properties": {"baby_name": {"type": "integer"}}}
    with pytest.raises(ValidationError) as caught:
        services.item_update(actor=SYSTEM, item=second, form_schema=broken, form_ui={})
    assert bundle.code in caught.value.message_dict["form_schema"][0]


def test_an_item_form_change_is_carried_into_its_bundle(city):
    first, second = (
        ServiceItemFactory(form_schema=BABY, form_ui={}),
        ServiceItemFactory(form_schema=HOUSEHOLD, form_ui={}),
    )
    bundle = BundleFactory(items=[first, second])
    extended = {**HOUSEHOLD, "properties": {**HOUSEHOLD["properties"], "phone": {"type": "string"}}}
    services.item_update(actor=SYSTEM, item=second, form_schema=extended)
    bundle.refresh_from_db()
    assert "phone" in bundle.form_schema["properties"]


def test_publishing_is_audited_and_emits_an_event(city):
    item = ServiceItemFactory(status=PublicationStatus.DRAFT)
    services.item_publish(actor=SYSTEM, item=item)
    assert AuditEntry.objects.filter(action="catalog.item_published", subject_id=item.code).count() == 1
    event = OutboxEvent.objects.get(name="catalog.item_published")
    assert event.payload["code"] == item.code


def test_a_bundle_of_draft_items_cannot_be_published(city):
    draft = ServiceItemFactory(status=PublicationStatus.DRAFT)
    with pytest.raises(ValidationError) as caught:
        BundleFactory(items=[draft, ServiceItemFactory()])
    assert draft.code in caught.value.message_dict["items"][0]


def test_an_item_of_a_published_bundle_cannot_be_withdrawn(city):
    bundle = BundleFactory()
    item = bundle.bundle_items.first().item
    with pytest.raises(Conflict):
        services.item_withdraw(actor=SYSTEM, item=item)
    services.bundle_withdraw(actor=SYSTEM, bundle=bundle)
    assert services.item_withdraw(actor=SYSTEM, item=item).status == PublicationStatus.WITHDRAWN


def test_materials_set_replaces_the_list_in_order(city):
    item = ServiceItemFactory()
    MaterialFactory(item=item, code="old")
    services.item_materials_set(
        actor=SYSTEM,
        item=item,
        materials=[{"code": "b", "name": "户口簿"}, {"code": "a", "name": "身份证"}],
    )
    assert list(item.materials.values_list("code", "position")) == [("b", 0), ("a", 1)]
    assert "户口簿" in item.search_text


def test_form_validate_names_each_field_with_a_readable_message(city):
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 4},
            "sex": {"type": "string", "enum": ["male", "female"]},
            "birth_date": {"type": "string", "format": "date"},
            "resident_id": {"type": "string", "pattern": "^[0-9]{17}[0-9X]$"},
            "weight": {"type": "integer"},
            "address": {
                "type": "object",
                "properties": {"street": {"type": "string"}},
                "required": ["street"],
            },
        },
        "required": ["name", "sex"],
    }
    data = {
        "name": "一二三四五",
        "birth_date": "2024-02-30",
        "resident_id": "12345",
        "weight": "heavy",
        "address": {},
    }
    with translation.override("en"):
        errors = form_validate(schema, data)
    assert errors["name"] == ["Enter at most 4 characters."]
    assert errors["sex"] == ["This field is required."]
    assert errors["birth_date"] == ["Enter a valid date (YYYY-MM-DD)."]
    assert errors["resident_id"] == ["Enter a value in the expected format."]
    assert errors["weight"] == ["Enter a value of type whole number."]
    assert errors["address.street"] == ["This field is required."]
    with translation.override("en"):
        assert form_validate(schema, {"name": "李明", "sex": "other"}) == {
            "sex": ["Choose one of: male, female."]
        }
        assert form_validate(schema, {"name": "李明", "sex": "male"}) == {}


def test_form_validate_counts_a_blank_answer_as_missing(city):
    with translation.override("en"):
        assert form_validate(BABY, {"baby_name": ""}) == {"baby_name": ["This field is required."]}


def test_required_materials_adds_a_conditional_one_only_when_its_field_is_true(city):
    item = ServiceItemFactory()
    MaterialFactory(item=item, code="id-card")
    MaterialFactory(item=item, code="power-of-attorney", necessity=Material.Necessity.CONDITIONAL)
    MaterialFactory(item=item, code="photo", necessity=Material.Necessity.OPTIONAL)
    assert [m.code for m in services.required_materials(item, {"has_agent": False})] == ["id-card"]
    found = services.required_materials(item, {"has_agent": True})
    assert [m.code for m in found] == ["id-card", "power-of-attorney"]
    assert {m.item_code for m in found} == {item.code}


def test_a_bundle_asks_once_for_a_shared_material_and_never_for_what_it_produces(city):
    certificate = ServiceItemFactory(result_type="licence", result_licence_type="birth-medical-certificate")
    household = ServiceItemFactory()
    MaterialFactory(item=certificate, code="parents-ids")
    MaterialFactory(item=household, code="parents-ids")
    MaterialFactory(item=household, code="birth-medical-certificate")
    bundle = BundleFactory(items=[certificate, household])
    found = services.required_materials(bundle, {})
    assert [(m.code, m.item_code, m.item_codes) for m in found] == [
        ("parents-ids", certificate.code, [certificate.code, household.code])
    ]
    assert [m.code for m in bundle_materials_list(bundle)] == ["parents-ids"]
