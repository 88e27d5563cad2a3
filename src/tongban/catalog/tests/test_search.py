"""Chinese full-text search over the published catalogue."""

import pytest

from tongban.catalog import services
from tongban.catalog.models import PublicationStatus
from tongban.catalog.selectors import catalog_search, item_get
from tongban.catalog.text import query_tokens
from tongban.core.audit import SYSTEM
from tongban.demo.catalog import BIRTH_MEDICAL_CERTIFICATE, NEWBORN_BUNDLE

from .factories import ServiceItemFactory

pytestmark = pytest.mark.django_db


def _codes(query, limit=20):
    return [hit.code for hit in catalog_search(query, limit)]


def test_birth_finds_the_birth_certificate_and_the_newborn_bundle(demo_catalog):
    codes = _codes("出生")
    assert BIRTH_MEDICAL_CERTIFICATE in codes
    assert NEWBORN_BUNDLE in codes


def test_business_licence_finds_the_business_registration_first(demo_catalog):
    assert _codes("营业执照")[0] == "business-establishment-registration"


def test_a_question_in_words_finds_the_service_in_its_name(demo_catalog):
    assert _codes("怎么办理出生证明")[0] == BIRTH_MEDICAL_CERTIFICATE


def test_english_words_are_searched_too(demo_catalog):
    assert "passport-issuance" in _codes("Passport")


def test_when_no_service_has_every_word_the_best_partial_matches_come_back(demo_catalog):
    hits = catalog_search("护照 火星签证")
    assert hits and hits[0].code == "passport-issuance"
    assert hits[0].matched < len(hits[0].tokens)


def test_only_published_items_are_found(city):
    item = ServiceItemFactory(name_zh="犬类登记", status=PublicationStatus.DRAFT)
    assert _codes("犬类") == []
    services.item_publish(actor=SYSTEM, item=item)
    assert _codes("犬类") == [item.code]


def test_punctuation_and_stop_words_are_not_search_tokens():
    assert query_tokens("如何办理，出生证明？") == ["出生", "证明"]
    assert query_tokens("  ") == []


def test_the_tokens_follow_a_change_of_name(city):
    item = ServiceItemFactory(name_zh="养犬登记")
    services.item_update(actor=SYSTEM, item=item, name_zh="犬只免疫登记")
    assert "免疫" in item_get(item.code).search_text
    assert _codes("免疫") == [item.code]
