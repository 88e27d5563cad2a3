"""REST endpoints of the data hub's sharing layer: the public data catalogue, lookups, grants and data uses.

A lookup is made for the caller's own department (a staff member's), for a purpose and optionally a case; one
without a grant answers 403 with the missing grant named (code ``grant_missing``). Views parse with a
serializer, call one service or selector and serialise; errors take the shape of ``tongban.api.exceptions``.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from tongban.identity.permissions import RolePermission
from tongban.identity.selectors import actor_from_request, department_get, staff_for

from . import selectors, services
from .models import DataResource, DataUse, SharingGrant

# --- serializers ------------------------------------------------------------------------------------------------


class ResourceFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    sensitivity = serializers.CharField()
    label = serializers.CharField()


class DataResourceSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.code")
    owner_name = serializers.CharField(source="owner.name_zh")
    fields = ResourceFieldSerializer(many=True)
    sharing = serializers.ChoiceField(choices=DataResource.Sharing.choices)

    class Meta:
        model = DataResource
        fields = [
            "code",
            "name_zh",
            "name_en",
            "owner",
            "owner_name",
            "subject",
            "fields",
            "sharing",
            "frequency",
            "legal_basis",
        ]


class LookupRequestSerializer(serializers.Serializer):
    resource = serializers.SlugField(max_length=64, help_text=_("The data resource's code."))
    subject = serializers.CharField(
        max_length=64,
        help_text=_("A resident ID (person), credit code (organisation) or property unit number."),
    )
    fields = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        allow_empty=False,
        help_text=_("The fields wanted; default: every field the department's grant covers."),
    )
    purpose = serializers.CharField(max_length=200)
    case_id = serializers.UUIDField(required=False, allow_null=True)
    case_number = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


class LookupResultSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    resource = serializers.CharField()
    subject = serializers.CharField(source="subject_key")
    fields = serializers.ListField(child=serializers.CharField())
    found = serializers.BooleanField()
    basis = serializers.CharField(help_text=_("grant, or owner (a department reading its own resource)."))
    data = serializers.JSONField(
        allow_null=True, help_text=_("The granted fields only: an object or a list.")
    )


class GrantSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.code")
    department_name = serializers.CharField(source="department.name_zh")
    resource = serializers.CharField(source="resource.code")
    resource_name = serializers.CharField(source="resource.name_zh")
    owner = serializers.CharField(source="resource.owner.code")
    fields = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=SharingGrant.Status.choices)

    class Meta:
        model = SharingGrant
        fields = [
            "id",
            "department",
            "department_name",
            "resource",
            "resource_name",
            "owner",
            "fields",
            "purpose",
            "legal_basis",
            "valid_from",
            "valid_until",
            "status",
            "requested_by",
            "decided_by",
            "decided_at",
            "reason",
            "created_at",
        ]


class GrantRequestSerializer(serializers.Serializer):
    resource = serializers.SlugField(max_length=64)
    fields = serializers.ListField(child=serializers.CharField(max_length=64), allow_empty=False)
    purpose = serializers.CharField(max_length=200)
    legal_basis = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    valid_from = serializers.DateField(required=False, allow_null=True, default=None)
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)
    department = serializers.SlugField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("The requesting department's code; default: the caller's own department."),
    )


class GrantReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class GrantListFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=SharingGrant.Status.choices, required=False)
    role = serializers.ChoiceField(choices=[("owner", "owner"), ("requester", "requester")], required=False)


class DataUseSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.code")
    department_name = serializers.CharField(source="department.name_zh")
    resource = serializers.CharField(source="resource_code")
    fields = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = DataUse
        fields = [
            "at",
            "department",
            "department_name",
            "resource",
            "fields",
            "purpose",
            "case_number",
            "allowed",
            "refused_reason",
            "outcome",
        ]


class GrantMissingErrorSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.DictField()
    missing = serializers.DictField(
        required=False,
        help_text=_(
            "resource, fields, purpose, department and reason of the refusal; present when the code is "
            "grant_missing, absent when the caller may not make lookups at all (not signed in, not staff)."
        ),
    )


# --- views ------------------------------------------------------------------------------------------------------


class DataResourceListApi(ListAPIView):
    """The public data catalogue (政务信息资源目录): resources, owners, sharing classes and legal basis."""

    permission_classes = [AllowAny]  # the catalogue is public information; it holds no personal data
    serializer_class = DataResourceSerializer
    pagination_class = None

    @extend_schema(summary="Data catalogue", tags=["data"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.resource_list()


def _own_department(user):
    staff = staff_for(user)
    if staff is None:
        raise Http404(_("Only staff of a department make lookups."))
    return staff.department


class LookupCreateApi(APIView):
    """Read a registry for the caller's department, a purpose and (optionally) a case.

    Allowed only with an approved, valid grant covering the fields (or when the department owns the resource).
    Every lookup is audited and recorded for the persons concerned; a refused one answers 403 with the missing
    grant named in ``detail`` (code ``grant_missing``).
    """

    permission_classes = [RolePermission]
    required_permission = "case.view"  # staff who work on cases

    @extend_schema(
        summary="Look up registry data",
        tags=["data"],
        request=LookupRequestSerializer,
        responses={
            200: LookupResultSerializer,
            403: OpenApiResponse(
                GrantMissingErrorSerializer, description="No grant: the missing grant is named."
            ),
        },
    )
    def post(self, request):
        body = LookupRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            result = services.lookup(
                actor=actor_from_request(request),
                department=_own_department(request.user),
                resource_code=data["resource"],
                subject_key=data["subject"],
                fields=data.get("fields"),
                purpose=data["purpose"],
                case_id=data.get("case_id"),
                case_number=data.get("case_number", ""),
            )
        except services.GrantMissing as refused:
            return Response(
                {
                    "status": status.HTTP_403_FORBIDDEN,
                    "code": refused.code,
                    "detail": str(refused),
                    "errors": {},
                    "missing": refused.params,
                },
                status=status.HTTP_403_FORBIDDEN,
            )
        return Response(LookupResultSerializer(result).data)


class GrantListCreateApi(ListAPIView):
    """Grants the caller sees (requests for their department's resources, and their department's own), and
    new requests (an unconditional resource is approved at once)."""

    permission_classes = [RolePermission]
    required_permissions = {"get": "exchange.request", "post": "exchange.request"}
    serializer_class = GrantSerializer

    @extend_schema(
        summary="Sharing grants",
        tags=["data"],
        parameters=[
            OpenApiParameter("status", enum=SharingGrant.Status.values),
            OpenApiParameter("role", enum=["owner", "requester"]),
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = GrantListFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        return selectors.grant_list_for(self.request.user, status=data.get("status"), role=data.get("role"))

    @extend_schema(
        summary="Request a sharing grant",
        tags=["data"],
        request=GrantRequestSerializer,
        responses={201: GrantSerializer},
    )
    def post(self, request):
        body = GrantRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data["department"]:
            department = department_get(data["department"])
            if department is None:
                raise serializers.ValidationError({"department": [_("No department has this code.")]})
        else:
            department = _own_department(request.user)
        grant = services.grant_request(
            actor=actor_from_request(request),
            department=department,
            resource=data["resource"],
            fields=data["fields"],
            purpose=data["purpose"],
            legal_basis=data["legal_basis"],
            valid_from=data["valid_from"],
            valid_until=data["valid_until"],
        )
        return Response(GrantSerializer(grant).data, status=status.HTTP_201_CREATED)


def _grant(request, pk) -> SharingGrant:
    grant = selectors.grant_get_for(request.user, pk)
    if grant is None:
        raise Http404
    return grant


class GrantApproveApi(APIView):
    """The owner department's data steward approves a requested grant."""

    permission_classes = [RolePermission]
    required_permission = "exchange.grant"

    @extend_schema(summary="Approve a grant request", tags=["data"], request=None, responses=GrantSerializer)
    def post(self, request, pk):
        grant = services.grant_approve(actor=actor_from_request(request), grant=_grant(request, pk))
        return Response(GrantSerializer(grant).data)


class GrantRefuseApi(APIView):
    """The owner department's data steward refuses a requested grant, with a reason."""

    permission_classes = [RolePermission]
    required_permission = "exchange.grant"

    @extend_schema(
        summary="Refuse a grant request",
        tags=["data"],
        request=GrantReasonSerializer,
        responses=GrantSerializer,
    )
    def post(self, request, pk):
        grant = _grant(request, pk)
        body = GrantReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.grant_refuse(
            actor=actor_from_request(request), grant=grant, reason=body.validated_data["reason"]
        )
        return Response(GrantSerializer(grant).data)


class GrantRevokeApi(APIView):
    """End a grant: the owner's steward revokes it, or the requesting department withdraws it."""

    permission_classes = [RolePermission]
    required_permission = "exchange.request"  # stewards; the service checks which department's

    @extend_schema(
        summary="Revoke a grant", tags=["data"], request=GrantReasonSerializer, responses=GrantSerializer
    )
    def post(self, request, pk):
        grant = _grant(request, pk)
        body = GrantReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.grant_revoke(
            actor=actor_from_request(request), grant=grant, reason=body.validated_data["reason"]
        )
        return Response(GrantSerializer(grant).data)


class DataUseListApi(ListAPIView):
    """Who used my data: every lookup of the signed-in citizen's data, allowed or refused, newest first."""

    permission_classes = [RolePermission]
    required_permission = "portal.data_use.view"
    serializer_class = DataUseSerializer

    @extend_schema(summary="Who used my data", tags=["data"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.data_use_for_person(self.request.user)
