"""REST endpoints of proactive services: my offers (accept, decline), and rules for service designers."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from tongban.cases.models import Case
from tongban.identity.models import Department
from tongban.identity.permissions import RolePermission
from tongban.identity.selectors import actor_from_request

from . import selectors, services
from .models import Offer

DEPARTMENT_CODE_MAX = Department._meta.get_field("code").max_length


class OfferSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    rule = serializers.CharField(source="rule.code")
    rule_name = serializers.CharField(source="rule.name_zh")
    action = serializers.CharField()
    status = serializers.CharField()
    service = serializers.CharField()
    service_name = serializers.CharField()
    life_event = serializers.CharField(source="life_event.kind")
    prefilled = serializers.JSONField()
    case_id = serializers.UUIDField(allow_null=True)
    case_number = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    items_later = serializers.ListField(
        child=serializers.CharField(), help_text="A bundle offer accepted in part: the items left for later."
    )

    def get_case_number(self, offer) -> str | None:
        if not offer.case_id:
            return None
        return Case.objects.filter(pk=offer.case_id).values_list("number", flat=True).first()


class OfferAcceptSerializer(serializers.Serializer):
    form_data = serializers.DictField(
        required=False, default=dict, help_text="Fields the person adds or edits."
    )
    skip_items = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        default=list,
        help_text='A bundle offer: the codes of the bundle\'s items to leave for later ("not now").',
    )


class OfferDeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class RuleSerializer(serializers.Serializer):
    code = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    trigger = serializers.CharField()
    condition = serializers.CharField()
    action = serializers.CharField()
    topic = serializers.CharField()
    template = serializers.CharField()
    service = serializers.CharField()
    once_per_subject = serializers.BooleanField()
    active = serializers.BooleanField()
    sent = serializers.IntegerField()
    offered = serializers.IntegerField()
    accepted = serializers.IntegerField()
    declined = serializers.IntegerField()
    granted = serializers.IntegerField()


class DryRunRequestSerializer(serializers.Serializer):
    condition = serializers.CharField(required=False, allow_blank=True, help_text="Try another condition.")
    today = serializers.DateField(required=False)


class OfferListApi(ListAPIView):
    """My offers and grants (and those of the organisations I act for)."""

    permission_classes = [RolePermission]
    required_permission = "portal.apply"
    serializer_class = OfferSerializer

    def get_queryset(self):
        return selectors.offer_list_for_user(self.request.user)


class _OfferDecisionApi(APIView):
    permission_classes = [RolePermission]
    required_permission = "portal.apply"

    def offer(self, request, pk):
        offer = selectors.offer_get_for_user(request.user, pk)
        if offer is None:
            raise Http404
        return offer


class OfferAcceptApi(_OfferDecisionApi):
    """Accept an offer: the prefilled application is submitted (with the person's additions)."""

    @extend_schema(request=OfferAcceptSerializer, responses={201: OfferSerializer})
    def post(self, request, pk):
        offer = self.offer(request, pk)
        body = OfferAcceptSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        offer = services.offer_accept(
            actor=actor_from_request(request),
            offer=offer,
            form_data=body.validated_data["form_data"],
            skip_items=body.validated_data["skip_items"],
        )
        return Response(OfferSerializer(offer).data, status=status.HTTP_201_CREATED)


class OfferDeclineApi(_OfferDecisionApi):
    """Decline an offer or a grant."""

    @extend_schema(request=OfferDeclineSerializer, responses={200: OfferSerializer})
    def post(self, request, pk):
        offer = self.offer(request, pk)
        body = OfferDeclineSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        offer = services.offer_decline(
            actor=actor_from_request(request), offer=offer, reason=body.validated_data["reason"]
        )
        return Response(OfferSerializer(offer).data)


class ProactiveRuleListApi(ListAPIView):
    """The rules with their outcome counts (service designers)."""

    permission_classes = [RolePermission]
    required_permission = "catalog.design"
    serializer_class = RuleSerializer

    def get_queryset(self):
        return selectors.rule_list_with_counts()


class ProactiveRuleDryRunApi(APIView):
    """Who would this rule (or another condition) reach today, and why; nothing is sent."""

    permission_classes = [RolePermission]
    required_permission = "catalog.design"

    @extend_schema(request=DryRunRequestSerializer, responses={200: dict})
    def post(self, request, code):
        rule = selectors.rule_get(code)
        if rule is None:
            raise Http404
        body = DryRunRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        condition = body.validated_data.get("condition", rule.condition)
        today: dt.date = body.validated_data.get("today") or timezone.localdate()
        result = selectors.rule_dry_run(trigger=rule.trigger, condition=condition, today=today, rule=rule)
        if result["error"]:
            raise ValidationError({"condition": [result["error"]]})
        return Response(
            {
                "rule": rule.code,
                "today": today.isoformat(),
                "condition": condition,
                "names": result["names"],
                "candidates": result["candidates"],
                "matched": result["matched"],
                "rows": [vars(row) for row in result["rows"]],
            }
        )


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": DEPARTMENT_CODE_MAX})
class DepartmentCodeField(serializers.SlugRelatedField):
    """A department by its code; a code longer than any department's is refused before the lookup."""

    def to_internal_value(self, data):
        if isinstance(data, str) and len(data) > DEPARTMENT_CODE_MAX:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data[:DEPARTMENT_CODE_MAX] + "…")
        return super().to_internal_value(data)


class PolicySerializer(serializers.Serializer):
    code = serializers.SlugField(min_length=1, max_length=56)
    name_zh = serializers.CharField(min_length=1, max_length=100)
    name_en = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    department = DepartmentCodeField(slug_field="code", queryset=Department.objects.all())
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    legal_basis = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)
    condition = serializers.CharField(
        source="rule.condition", min_length=1, help_text="Eligibility, e.g. headcount >= 10"
    )
    action = serializers.ChoiceField(
        source="rule.action",
        choices=["notify", "offer", "grant"],
        help_text="notify, offer or grant (免申即享)",
    )
    service = serializers.CharField(source="rule.service", required=False, allow_blank=True, default="")
    rule = serializers.CharField(source="rule.code", read_only=True)
    counts = serializers.SerializerMethodField()

    def get_counts(self, policy) -> dict:
        return {
            "total": getattr(policy, "n_total", None),
            **{status: getattr(policy, f"n_{status}", None) for status, _label in Offer.Status.choices},
        }


class PolicyListApi(APIView):
    """惠企政策: the policies with how many enterprises each told, offered or granted (service designers); POST
    writes a new policy (its condition is checked; try it first with the rule's dry run)."""

    permission_classes = [RolePermission]
    required_permission = "catalog.design"

    @extend_schema(responses={200: PolicySerializer(many=True)})
    def get(self, request):
        return Response(PolicySerializer(selectors.policy_list_with_counts(), many=True).data)

    @extend_schema(request=PolicySerializer, responses={201: PolicySerializer})
    def post(self, request):
        from .enterprise import policy_create

        body = PolicySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        rule = data.pop("rule")
        policy = policy_create(actor=actor_from_request(request), **data, **rule)
        return Response(PolicySerializer(policy).data, status=status.HTTP_201_CREATED)
