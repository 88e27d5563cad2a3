"""Catalogue items name the effects their process steps trigger; a bundle gets its items' effects without code."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from tongban.catalog import services
from tongban.catalog.models import ServiceItem
from tongban.core.audit import SYSTEM
from tongban.core.effects import effect_check, step_effects_check
from tongban.demo.catalog import NEWBORN_BUNDLE, STEP_EFFECTS

from .factories import BundleFactory, ServiceItemFactory

pytestmark = pytest.mark.django_db


def test_an_item_naming_an_unknown_effect_is_refused_on_the_field(city):
    item = ServiceItemFactory()
    with translation.override("en"), pytest.raises(ValidationError) as error:
        services.item_update(actor=SYSTEM, item=item, step_effects={"approval": ["registry.teleport"]})
    assert "step_effects" in error.value.message_dict
    assert "registry.teleport" in " ".join(error.value.message_dict["step_effects"])


def test_a_parametrised_effect_needs_its_parameter_and_a_plain_one_takes_none():
    with pytest.raises(ValidationError):
        effect_check("licence.issue")
    with pytest.raises(ValidationError):
        effect_check("birth.record:twice")
    effect_check("licence.issue:birth-medical-certificate", deep=False)
    step_effects_check({"review": [], "approval": ["birth.record"]})


def test_a_bundle_triggers_its_items_effects_in_its_item_order_each_once(city):
    first = ServiceItemFactory(step_effects={"approval": ["birth.record", "licence.issue:x"]})
    second = ServiceItemFactory(step_effects={"approval": ["licence.issue:x", "household.register_newborn"]})
    bundle = BundleFactory(items=[first, second])
    assert services.step_effects_for(step="approval", bundle_id=bundle.pk) == (
        "birth.record",
        "licence.issue:x",
        "household.register_newborn",
    )
    assert services.step_effects_for(step="review", bundle_id=bundle.pk) == ()
    assert services.step_effects_for(step="approval", item_id=second.pk) == (
        "licence.issue:x",
        "household.register_newborn",
    )
    assert services.step_has_effects("approval") and not services.step_has_effects("review")


def test_a_saved_change_of_an_items_effects_is_seen_at_once_and_resolving_costs_no_query(
    city, django_assert_num_queries
):
    item = ServiceItemFactory(step_effects={"approval": ["birth.record"]})
    assert services.step_effects_for(step="approval", item_id=item.pk) == ("birth.record",)
    services.item_update(actor=SYSTEM, item=item, step_effects={"approval": ["household.register_newborn"]})
    assert services.step_effects_for(step="approval", item_id=item.pk) == ("household.register_newborn",)
    with django_assert_num_queries(0):
        services.step_has_effects("approval")
        services.step_effects_for(step="approval", item_id=item.pk)


def test_the_demo_items_name_the_newborn_and_real_estate_effects(demo_catalog):
    items = ServiceItem.objects.filter(code__in=list(STEP_EFFECTS))
    assert {item.code: item.step_effects for item in items} == STEP_EFFECTS
    from tongban.catalog.models import Bundle

    newborn = Bundle.objects.get(code=NEWBORN_BUNDLE)
    assert services.step_effects_for(step="birth_certificate", bundle_id=newborn.pk) == (
        "birth.record",
        "licence.issue:birth-medical-certificate",
    )
