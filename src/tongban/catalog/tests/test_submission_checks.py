"""Items and bundles name the submission checks they need, by name, each once."""

import pytest
from django.core.exceptions import ValidationError

from tongban.catalog import services
from tongban.core.audit import SYSTEM

from .factories import BundleFactory, ServiceItemFactory

pytestmark = pytest.mark.django_db


def test_an_item_names_its_checks_and_a_malformed_list_is_refused(city):
    item = ServiceItemFactory()
    services.item_update(actor=SYSTEM, item=item, submission_checks=["newborn-parents"])
    item.refresh_from_db()
    assert item.submission_checks == ["newborn-parents"]
    for bad in ("newborn-parents", ["Newborn Parents"], ["a", "a"], [1]):
        with pytest.raises(ValidationError) as caught:
            services.item_update(actor=SYSTEM, item=item, submission_checks=bad)
        assert "submission_checks" in caught.value.message_dict


def test_a_bundle_names_its_own_checks(city):
    bundle = BundleFactory()
    services.bundle_update(actor=SYSTEM, bundle=bundle, submission_checks=["seller-owns-unit"])
    bundle.refresh_from_db()
    assert bundle.submission_checks == ["seller-owns-unit"]
