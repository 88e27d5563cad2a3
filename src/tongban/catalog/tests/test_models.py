"""Rules of one item or material: contradictions in an implementation list are refused."""

import pytest
from django.core.exceptions import ValidationError

from tongban.catalog import services
from tongban.catalog.models import Material, OnlineDepth, SatisfiedBy, ServiceItem
from tongban.core.audit import SYSTEM

from .factories import MaterialFactory, ServiceItemFactory

pytestmark = pytest.mark.django_db


def test_a_fully_online_item_that_requires_a_visit_is_refused(city):
    with pytest.raises(ValidationError) as caught:
        ServiceItemFactory(online_depth=OnlineDepth.FULL, visits_required=1, visits_reason="现场核验")
    assert "visits_required" in caught.value.message_dict
    assert not ServiceItem.objects.exists()


def test_a_promised_limit_above_the_legal_limit_is_refused(city):
    with pytest.raises(ValidationError) as caught:
        ServiceItemFactory(legal_limit_days=30, promised_limit_days=40)
    assert "40" in caught.value.message_dict["promised_limit_days"][0]
    assert "30" in caught.value.message_dict["promised_limit_days"][0]


def test_an_item_update_cannot_raise_the_promise_above_the_legal_limit(city):
    item = ServiceItemFactory(legal_limit_days=10, promised_limit_days=5)
    with pytest.raises(ValidationError):
        services.item_update(actor=SYSTEM, item=item, promised_limit_days=11)
    item.refresh_from_db()
    assert item.promised_limit_days == 5


def test_a_visit_needs_its_reason(city):
    with pytest.raises(ValidationError) as caught:
        ServiceItemFactory(online_depth=OnlineDepth.APPLY, visits_required=1, visits_reason="")
    assert "visits_reason" in caught.value.message_dict


def test_at_most_one_visit_with_a_reason_is_accepted(city):
    item = ServiceItemFactory(online_depth=OnlineDepth.APPLY, visits_required=1, visits_reason="领取实体证照")
    assert item.visits_required == 1


def test_a_conditional_material_without_its_condition_is_refused(city):
    item = ServiceItemFactory()
    with pytest.raises(ValidationError) as caught:
        MaterialFactory(item=item, necessity=Material.Necessity.CONDITIONAL, condition="", condition_field="")
    assert "condition" in caught.value.message_dict
    assert not item.materials.exists()


def test_a_condition_field_must_be_a_field_of_the_form(city):
    item = ServiceItemFactory()
    with pytest.raises(ValidationError) as caught:
        MaterialFactory(item=item, necessity="conditional", condition="已婚的", condition_field="married")
    assert "married" in caught.value.message_dict["condition_field"][0]


def test_an_evidence_subject_must_be_a_field_of_the_form(city):
    # The demo's deed-tax declaration named the seller's ID, a field its form lacks: the hub had nobody to look up
    # and every applicant was asked to upload the identity papers (found by the simulation's resales).
    item = ServiceItemFactory()
    with pytest.raises(ValidationError) as caught:
        MaterialFactory(
            item=item,
            satisfied_by=SatisfiedBy.REGISTRY,
            evidence="person-identity",
            evidence_subject="seller_resident_id",
        )
    assert "seller_resident_id" in caught.value.message_dict["evidence_subject"][0]
    assert not item.materials.exists()
    subject = next(iter(item.form_schema["properties"]))
    made = MaterialFactory(
        item=item,
        satisfied_by=SatisfiedBy.REGISTRY,
        evidence="person-identity",
        evidence_subject=subject,
    )
    assert made.evidence_subject == subject


def test_a_fee_needs_its_basis(city):
    with pytest.raises(ValidationError) as caught:
        ServiceItemFactory(fee=80, fee_basis="")
    assert "fee_basis" in caught.value.message_dict


def test_a_bad_json_schema_is_a_form_schema_error(city):
    with pytest.raises(ValidationError) as caught:
        ServiceItemFactory(form_schema={"type": "object", "properties": {"x": {"type": "strin"}}}, form_ui={})
    assert "form_schema" in caught.value.message_dict


def test_ui_hints_naming_unknown_fields_are_refused(city):
    with pytest.raises(ValidationError) as caught:
        ServiceItemFactory(form_ui={"order": ["nope"]})
    assert "nope" in caught.value.message_dict["form_ui"][0]


def test_time_saved_is_the_share_of_the_legal_limit_the_promise_cuts(city):
    item = ServiceItemFactory(legal_limit_days=20, promised_limit_days=5)
    assert item.time_saved_percent == 75
