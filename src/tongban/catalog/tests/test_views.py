"""Public pages of the catalogue: no login, only published services."""

import pytest

from tongban.catalog.models import PublicationStatus
from tongban.demo.catalog import NEWBORN_BUNDLE, REAL_ESTATE_TRANSFER_REGISTRATION

from .factories import ServiceItemFactory

pytestmark = pytest.mark.django_db


def test_the_guide_shows_materials_limits_fees_and_the_apply_link(client, demo_catalog):
    response = client.get(f"/services/items/{REAL_ESTATE_TRANSFER_REGISTRATION}/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "不动产转移登记" in text
    assert "《不动产登记暂行条例》第十四条、第二十条" in text
    assert "不动产权证书" in text  # a material
    assert "减时间 83%" in text  # 30 legal → 5 promised
    assert "80.00" in text and "发改价格规〔2016〕2559号" in text
    assert f'href="/cases/guide/item/{REAL_ESTATE_TRANSFER_REGISTRATION}/"' in text


def test_an_unpublished_item_is_not_found(client, city):
    item = ServiceItemFactory(status=PublicationStatus.DRAFT)
    assert client.get(f"/services/items/{item.code}/").status_code == 404


def test_search_with_htmx_returns_just_the_results(client, demo_catalog):
    full = client.get("/services/", {"q": "出生"})
    assert full.status_code == 200
    assert b"<html" in full.content and "出生医学证明签发" in full.content.decode()
    partial = client.get("/services/", {"q": "出生"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert b"<html" not in partial.content
    text = partial.content.decode()
    assert "出生一件事" in text and "出生医学证明签发" in text


def test_the_bundle_page_lists_items_and_one_set_of_materials(client, demo_catalog):
    response = client.get(f"/services/bundles/{NEWBORN_BUNDLE}/")
    assert response.status_code == 200
    text = response.content.decode()
    for name in ("出生医学证明签发", "出生户口登记", "城乡居民基本医疗保险参保登记", "社会保障卡申领"):
        assert name in text
    assert text.count("父母双方居民身份证") == 1
    assert f'href="/cases/guide/bundle/{NEWBORN_BUNDLE}/"' in text
    # The birth certificate is what the bundle produces, not a material to hand in.
    assert all(m.code != "birth-medical-certificate" for m in response.context["materials"])


def test_the_power_list_groups_items_by_type_with_their_legal_basis(client, demo_catalog):
    response = client.get("/services/departments/public-security/power-list/")
    assert response.status_code == 200
    labels = [str(group["label"]) for group in response.context["groups"]]
    assert len(labels) >= 2
    text = response.content.decode()
    assert "《中华人民共和国户口登记条例》第七条" in text and "《中华人民共和国护照法》第五条、第六条" in text
    assert client.get("/services/departments/no-such-dept/power-list/").status_code == 404


def test_the_visits_lists_hold_only_items_within_the_limit(client, demo_catalog):
    zero = client.get("/services/zero-visits/")
    assert zero.status_code == 200
    assert all(item.visits_required == 0 for item in zero.context["items"])
    assert "marriage-registration" not in [i.code for i in zero.context["items"]]
    one = client.get("/services/one-visit/")
    assert "marriage-registration" in [i.code for i in one.context["items"]]
    assert [b.code for b in one.context["bundles"]] == ["newborn", "real-estate-transfer"]
