"""The demo catalogue loads once, valid and published."""

import pytest

from tongban.catalog.models import Bundle, PublicationStatus, ServiceItem
from tongban.catalog.schema import form_validate
from tongban.demo.catalog import BUNDLES, ITEMS, catalog_demo_ensure
from tongban.identity.reference import MUNICIPAL_DEPARTMENT_CODES

pytestmark = pytest.mark.django_db


def test_the_demo_catalogue_is_published_and_a_second_load_creates_nothing(city):
    first = catalog_demo_ensure()
    assert first == {"items": len(ITEMS), "bundles": len(BUNDLES)}
    assert ServiceItem.objects.filter(status=PublicationStatus.PUBLISHED).count() >= 30
    assert Bundle.objects.filter(status=PublicationStatus.PUBLISHED).count() == 2
    assert catalog_demo_ensure() == {"items": 0, "bundles": 0}


def test_the_demo_covers_the_departments_and_both_kinds_of_visits():
    departments = {item["department"] for item in ITEMS}
    assert departments == set(MUNICIPAL_DEPARTMENT_CODES) - {"big-data-center"}
    assert any(i["visits_required"] == 0 and i["online_depth"] == 4 for i in ITEMS)
    assert all(i["visits_reason"] for i in ITEMS if i["visits_required"])


def test_the_bundles_have_their_promised_limits_and_merged_forms(city):
    catalog_demo_ensure()
    newborn = Bundle.objects.get(code="newborn")
    assert (newborn.lead_department.code, newborn.promised_limit_days, newborn.process_key) == (
        "health",
        5,
        "newborn",
    )
    for field in (
        "baby_name",
        "baby_sex",
        "birth_date",
        "birth_hospital",
        "mother_resident_id",
        "household_address",
    ):
        assert field in newborn.form_schema["properties"]
    estate = Bundle.objects.get(code="real-estate-transfer")
    assert (estate.lead_department.code, estate.promised_limit_days, estate.legal_limit_days) == (
        "planning-resources",
        5,
        30,
    )
    answers = {
        "property_unit": "310104001002GB00012F00010002",
        "property_certificate_number": "沪(2021)徐字不动产权第012345号",
        "property_address": "徐汇区漕溪北路1号1201室",
        "floor_area": 89.5,
        "seller_name": "王芳",
        "seller_resident_id": "310104198001010025",  # the check character adds up
        "buyer_name": "李明",
        "buyer_resident_id": "310104199005171234",
        "price": 5600000,
        "contract_number": "WQ2025-000123",
    }
    assert form_validate(estate.form_schema, answers) == {}


def test_every_field_of_the_demo_forms_has_an_english_title():
    missing = {
        (item["code"], name)
        for item in ITEMS
        for name, prop in (item["form_schema"] or {}).get("properties", {}).items()
        if not prop.get("title_en")
    }
    assert missing == set()


def test_an_english_page_shows_a_field_by_its_english_title():
    from django.utils import translation

    from tongban.catalog.schema import field_title

    prop = {"type": "string", "title": "新生儿姓名", "title_en": "Baby's name"}
    with translation.override("en"):
        assert field_title(prop, "baby_name") == "Baby's name"
    with translation.override("zh-hans"):
        assert field_title(prop, "baby_name") == "新生儿姓名"
    with translation.override("en"):
        assert field_title({"title": "出生医院"}, "hospital") == "出生医院"  # no English given: the Chinese


def test_every_demo_material_has_an_english_name():
    missing = {m["name"] for item in ITEMS for m in item["materials"] if not m.get("name_en")}
    assert missing == set()


def test_every_text_of_the_demo_catalogue_has_its_english():
    """Legal bases, procedures, conditions, places, results, fee bases, reasons for visits, materials' notes and
    conditions, bundles' descriptions and the forms' choices: each Chinese text has an English one beside it."""
    from tongban.demo.catalog import BUNDLES

    item_texts = (
        "legal_basis",
        "fee_basis",
        "visits_reason",
        "result_name",
        "conditions",
        "procedure",
        "location",
    )
    missing = [
        (item["code"], name) for item in ITEMS for name in item_texts if item[name] and not item[f"{name}_en"]
    ]
    missing += [
        (item["code"], material["code"], name)
        for item in ITEMS
        for material in item["materials"]
        for name in ("note", "condition")
        if material[name] and not material[f"{name}_en"]
    ]
    missing += [
        (item["code"], field)
        for item in ITEMS
        for field, prop in item["form_schema"].get("properties", {}).items()
        if (prop.get("enumNames") and not prop.get("enumNames_en"))
        or (prop.get("description") and not prop.get("description_en"))
    ]
    assert missing == []
    from tongban.demo.catalog_en import TEXTS_EN

    assert all(TEXTS_EN.get(bundle.get(name, "")) for bundle in BUNDLES for name in ("description",))
    assert TEXTS_EN.get(BUNDLES[1]["visits_reason"])


def test_an_english_page_shows_the_english_text_and_falls_back_to_the_chinese():
    from types import SimpleNamespace

    from django.utils import translation

    from tongban.catalog.models import in_language

    item = SimpleNamespace(
        conditions="在本市出生的新生儿。", conditions_en="Babies born in Shanghai.", location=""
    )
    item.location_en = ""
    with translation.override("en"):
        assert in_language(item, "conditions") == "Babies born in Shanghai."
        assert in_language(SimpleNamespace(location="派出所", location_en=""), "location") == "派出所"
    with translation.override("zh-hans"):
        assert in_language(item, "conditions") == "在本市出生的新生儿。"


def test_every_demo_faq_entry_has_its_english_and_an_english_page_shows_it(city):
    from django.utils import translation

    from tongban.core.i18n import in_language
    from tongban.demo.hotline_faq import FAQ, FAQ_EN, demo_faq_ensure
    from tongban.hotline.models import FaqEntry

    assert {question for question, *_rest in FAQ} == set(FAQ_EN)
    demo_faq_ensure()
    entry = FaqEntry.objects.get(question="办护照需要多久？")
    with translation.override("en"):
        assert in_language(entry, "question") == "How long does a passport take?"
    with translation.override("zh-hans"):
        assert in_language(entry, "answer") == entry.answer
