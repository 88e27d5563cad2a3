"""Read-only REST API of the service catalogue: items and bundles with their materials and forms.

The catalogue is public information (published service guides), so these endpoints allow anonymous reads;
the anonymous rate limit still applies.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.permissions import AllowAny

from . import selectors
from .models import Level, PublicationStatus, ServiceObject


@extend_schema_field(OpenApiTypes.OBJECT)
class JSONObjectField(serializers.JSONField):
    """A JSON object (a form's JSON Schema or its UI hints)."""


class MaterialSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    source = serializers.CharField()
    form = serializers.CharField()
    copies = serializers.IntegerField()
    necessity = serializers.CharField()
    condition = serializers.CharField()
    condition_field = serializers.CharField()
    note = serializers.CharField()


class DepartmentRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()


class ServiceItemSummarySerializer(serializers.Serializer):
    code = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    item_type = serializers.CharField()
    department = DepartmentRefSerializer()
    level = serializers.CharField()
    service_object = serializers.CharField()
    case_type = serializers.CharField()
    legal_limit_days = serializers.IntegerField()
    promised_limit_days = serializers.IntegerField()
    time_saved_percent = serializers.IntegerField()
    visits_required = serializers.IntegerField()
    online_depth = serializers.IntegerField()
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        return f"/services/items/{obj.code}/"


class ServiceItemSerializer(ServiceItemSummarySerializer):
    basic_code = serializers.CharField()
    legal_basis = serializers.CharField()
    fee = serializers.DecimalField(max_digits=10, decimal_places=2)
    fee_basis = serializers.CharField()
    handling_modes = serializers.ListField(child=serializers.CharField())
    visits_reason = serializers.CharField()
    acceptance = serializers.CharField()
    result_type = serializers.CharField()
    result_name = serializers.CharField()
    result_licence_type = serializers.CharField()
    conditions = serializers.CharField()
    procedure = serializers.CharField()
    location = serializers.CharField()
    phone = serializers.CharField()
    process_key = serializers.CharField()
    submission_checks = serializers.ListField(child=serializers.CharField())
    materials = MaterialSerializer(many=True, source="materials.all")
    form_schema = JSONObjectField()
    form_ui = JSONObjectField()
    step_effects = JSONObjectField()


class BundleItemRefSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    code = serializers.CharField(source="item.code")
    name_zh = serializers.CharField(source="item.name_zh")
    name_en = serializers.CharField(source="item.name_en")
    department = serializers.CharField(source="item.department.code")


class BundleSummarySerializer(serializers.Serializer):
    code = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    lead_department = DepartmentRefSerializer()
    service_object = serializers.CharField()
    legal_limit_days = serializers.IntegerField()
    promised_limit_days = serializers.IntegerField()
    time_saved_percent = serializers.IntegerField()
    visits_required = serializers.IntegerField()
    items = BundleItemRefSerializer(many=True, source="bundle_items.all")
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        return f"/services/bundles/{obj.code}/"


class BundleMaterialSerializer(MaterialSerializer):
    item_codes = serializers.ListField(child=serializers.CharField())


class BundleSerializer(BundleSummarySerializer):
    description = serializers.CharField()
    visits_reason = serializers.CharField()
    process_key = serializers.CharField()
    submission_checks = serializers.ListField(child=serializers.CharField())
    materials = serializers.SerializerMethodField()
    form_schema = JSONObjectField()
    form_ui = JSONObjectField()

    @extend_schema_field(BundleMaterialSerializer(many=True))
    def get_materials(self, obj):
        return BundleMaterialSerializer(selectors.bundle_materials_list(obj), many=True).data


class ItemFilterSerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False, max_length=100, help_text="Search words, Chinese or English (ranked results)."
    )
    department = serializers.SlugField(
        required=False, help_text="Department code (includes its district branches)."
    )
    level = serializers.ChoiceField(choices=Level.choices, required=False)
    service_object = serializers.ChoiceField(choices=ServiceObject.choices, required=False)
    visits = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=9,
        help_text="At most this many visits (0: 零跑动, 1: 最多跑一次).",
    )


class ServiceItemListApi(ListAPIView):
    """Published service items; ``q`` searches (Chinese full text), the other parameters filter."""

    permission_classes = [AllowAny]  # the catalogue is public information
    serializer_class = ServiceItemSummarySerializer

    @extend_schema(
        summary="Service items",
        parameters=[ItemFilterSerializer],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = ItemFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        items = selectors.item_list(
            department=data.get("department"),
            level=data.get("level"),
            service_object=data.get("service_object"),
            visits=data.get("visits"),
        )
        if data.get("q"):
            allowed = set(items.values_list("pk", flat=True))
            return [
                hit.object
                for hit in selectors.catalog_search(data["q"], limit=100)
                if hit.kind == "item" and hit.object.pk in allowed
            ]
        return items


class ServiceItemDetailApi(RetrieveAPIView):
    """One published service item with its guide, materials and application form (JSON Schema)."""

    permission_classes = [AllowAny]  # the catalogue is public information
    serializer_class = ServiceItemSerializer

    @extend_schema(summary="A service item")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_object(self):
        item = selectors.item_get(self.kwargs["code"])
        if item is None:
            raise NotFound()
        return item


class BundleListApi(ListAPIView):
    """Published bundles (一件事)."""

    permission_classes = [AllowAny]  # the catalogue is public information
    serializer_class = BundleSummarySerializer

    @extend_schema(summary="Bundles")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.bundle_list()


class BundleDetailApi(RetrieveAPIView):
    """One published bundle with its items, merged materials and merged application form."""

    permission_classes = [AllowAny]  # the catalogue is public information
    serializer_class = BundleSerializer

    @extend_schema(summary="A bundle")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_object(self):
        bundle = selectors.bundle_get(self.kwargs["code"])
        if bundle is None or bundle.status != PublicationStatus.PUBLISHED:
            raise NotFound()
        return bundle
