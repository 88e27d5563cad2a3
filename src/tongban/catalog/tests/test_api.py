"""The public catalogue API."""

import pytest

from tongban.catalog.models import PublicationStatus
from tongban.demo.catalog import BIRTH_MEDICAL_CERTIFICATE, NEWBORN_BUNDLE

from .factories import ServiceItemFactory

pytestmark = pytest.mark.django_db


def test_anyone_lists_published_items_with_filters(client, demo_catalog):
    ServiceItemFactory(status=PublicationStatus.DRAFT, code="hidden-draft")
    response = client.get("/api/v1/catalog/items/")
    assert response.status_code == 200
    codes = [row["code"] for row in response.json()["results"]]
    assert len(codes) == 36 and "hidden-draft" not in codes
    zero = client.get("/api/v1/catalog/items/", {"visits": 0, "department": "public-security"}).json()
    assert zero["results"] and all(r["visits_required"] == 0 for r in zero["results"])
    assert all(r["department"]["code"] == "public-security" for r in zero["results"])


def test_the_item_list_searches_with_q(client, demo_catalog):
    rows = client.get("/api/v1/catalog/items/", {"q": "出生"}).json()["results"]
    assert BIRTH_MEDICAL_CERTIFICATE in [r["code"] for r in rows]


def test_an_item_comes_with_its_materials_and_form(client, demo_catalog):
    data = client.get(f"/api/v1/catalog/items/{BIRTH_MEDICAL_CERTIFICATE}/").json()
    assert data["form_schema"]["properties"]["baby_name"]["title"] == "新生儿姓名"
    assert {m["code"] for m in data["materials"]} >= {"parents-id-cards"}
    assert client.get("/api/v1/catalog/items/no-such-item/").status_code == 404


def test_bundles_come_with_items_merged_materials_and_form(client, demo_catalog):
    listing = client.get("/api/v1/catalog/bundles/").json()["results"]
    assert [b["code"] for b in listing] == ["newborn", "real-estate-transfer"]
    data = client.get(f"/api/v1/catalog/bundles/{NEWBORN_BUNDLE}/").json()
    assert data["items"][0]["code"] == BIRTH_MEDICAL_CERTIFICATE
    assert "household_address" in data["form_schema"]["properties"]
    assert all(m["code"] != "birth-medical-certificate" for m in data["materials"])


def test_a_bad_filter_is_a_400(client, city):
    assert client.get("/api/v1/catalog/items/", {"visits": "many"}).status_code == 400
