"""factory-boy factories for the catalogue, for every app's tests.

* ``ServiceItemFactory`` — a valid, *published*, fully online item of the municipal health department with a
  small form (``applicant_name``, ``birth_date``, ``has_agent``) and search tokens. ``status="draft"`` for a
  draft; ``department=department("tax")`` for another department.
* ``MaterialFactory(item=...)`` — a required material; ``necessity="conditional"`` comes with a condition and
  ``condition_field="has_agent"`` when not given.
* ``BundleFactory(items=[item_a, item_b])`` — a published bundle (two fresh items when ``items`` is not given)
  with its merged form built.

They create through the services where it matters (publication, tokens, merged forms), so the objects are
what the catalogue would hold.
"""

import copy

import factory

from tongban.catalog import services
from tongban.catalog.models import (
    Bundle,
    ItemType,
    Material,
    PublicationStatus,
    ResultType,
    ServiceItem,
)
from tongban.core.audit import SYSTEM
from tongban.identity.tests.factories import department

FORM_SCHEMA = {
    "type": "object",
    "properties": {
        "applicant_name": {"type": "string", "title": "申请人姓名", "maxLength": 32},
        "birth_date": {"type": "string", "title": "出生日期", "format": "date"},
        "has_agent": {"type": "boolean", "title": "委托代理人办理"},
    },
    "required": ["applicant_name"],
}
FORM_UI = {"order": ["applicant_name", "birth_date", "has_agent"]}


class ServiceItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceItem
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"test-item-{n}")
    basic_code = factory.Sequence(lambda n: f"0009{n:08d}")
    name_zh = factory.Sequence(lambda n: f"测试事项{n}")
    name_en = factory.Sequence(lambda n: f"Test service {n}")
    item_type = ItemType.PUBLIC_SERVICE
    legal_basis = "《中华人民共和国行政许可法》"
    department = factory.LazyFunction(lambda: department("health"))
    legal_limit_days = 20
    promised_limit_days = 5
    handling_modes = factory.LazyFunction(lambda: ["online", "window"])
    visits_required = 0
    result_type = ResultType.DOCUMENT
    result_name = "办理结果通知"
    form_schema = factory.LazyFunction(lambda: copy.deepcopy(FORM_SCHEMA))
    form_ui = factory.LazyFunction(lambda: copy.deepcopy(FORM_UI))
    process_key = "standard"
    status = PublicationStatus.PUBLISHED

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        status = kwargs.pop("status", PublicationStatus.PUBLISHED)
        return services.item_create(actor=SYSTEM, status=status, **kwargs)


class MaterialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Material

    item = factory.SubFactory(ServiceItemFactory)
    code = factory.Sequence(lambda n: f"material-{n}")
    name = factory.Sequence(lambda n: f"申请材料{n}")
    necessity = Material.Necessity.REQUIRED
    condition = factory.LazyAttribute(
        lambda o: "委托他人办理的" if o.necessity == Material.Necessity.CONDITIONAL else ""
    )
    condition_field = factory.LazyAttribute(
        lambda o: "has_agent" if o.necessity == Material.Necessity.CONDITIONAL else ""
    )
    position = factory.Sequence(lambda n: n)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        item = kwargs.pop("item")
        code = kwargs.pop("code")
        return services.material_save(actor=SYSTEM, item=item, code=code, **kwargs)


class BundleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bundle
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"test-bundle-{n}")
    name_zh = factory.Sequence(lambda n: f"测试一件事{n}")
    name_en = factory.Sequence(lambda n: f"Test bundle {n}")
    lead_department = factory.LazyFunction(lambda: department("health"))
    legal_limit_days = 20
    promised_limit_days = 5
    process_key = "test-bundle"
    status = PublicationStatus.PUBLISHED

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        status = kwargs.pop("status", PublicationStatus.PUBLISHED)
        items = kwargs.pop("items", None)
        if items is None:
            items = [ServiceItemFactory(), ServiceItemFactory()]
        return services.bundle_create(actor=SYSTEM, status=status, items=items, **kwargs)
