"""REST endpoints of the e-licences: my wallet, one licence, revocation, and the public verification."""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from tongban.core.masking import mask_name, mask_resident_id
from tongban.identity.permissions import RolePermission
from tongban.identity.selectors import actor_from_request

from . import selectors, services
from .pdf import field_rows, verification_url


class PublicFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    label_zh = serializers.CharField()
    label_en = serializers.CharField()
    value = serializers.JSONField()


class LicenceFieldSerializer(PublicFieldSerializer):
    sensitivity = serializers.ChoiceField(choices=["public", "internal", "personal", "sensitive"])


class LicenceSerializer(serializers.Serializer):
    number = serializers.CharField()
    type = serializers.CharField(source="type.code")
    type_name = serializers.CharField(source="type.name_zh")
    holder_name = serializers.CharField()
    holder_id = serializers.SerializerMethodField(
        help_text=_("Masked for a person; whole for an organisation.")
    )
    licence_fields = serializers.SerializerMethodField(
        help_text=_("The licence's fields; sensitive values masked.")
    )
    issuer = serializers.CharField(source="department.code")
    issuer_name = serializers.CharField(source="department.name_zh")
    issued_at = serializers.DateTimeField()
    valid_until = serializers.DateField(allow_null=True)
    status = serializers.CharField()
    expired = serializers.BooleanField(source="is_expired")
    revoked_at = serializers.DateTimeField(allow_null=True)
    algorithm = serializers.CharField()
    key_id = serializers.CharField(source="key.key_id")
    case_id = serializers.UUIDField(allow_null=True)
    token = serializers.SerializerMethodField(help_text=_("What the QR code carries; POST it to verify."))
    verify_url = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()

    def get_holder_id(self, licence) -> str:
        return (
            licence.holder_id_number
            if licence.holder_organisation_id
            else mask_resident_id(licence.holder_id_number)
        )

    @extend_schema_field(LicenceFieldSerializer(many=True))
    def get_licence_fields(self, licence) -> list[dict]:
        return [
            {
                "name": spec["name"],
                "label_zh": spec.get("label_zh", spec["name"]),
                "label_en": spec.get("label_en", spec["name"]),
                "sensitivity": spec.get("sensitivity", "internal"),
                "value": value,
            }
            for spec, value in field_rows(licence)
        ]

    def get_token(self, licence) -> str:
        return services.licence_token(licence)

    def _absolute(self, path):
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_verify_url(self, licence) -> str:
        return verification_url(self._absolute(reverse("licences:verify")), services.licence_token(licence))

    def get_pdf_url(self, licence) -> str:
        return self._absolute(reverse("licences:pdf", args=[licence.number]))


class LicenceWalletApi(ListAPIView):
    """My licences (证照夹): the signed-in person's and those of the organisations they act for."""

    permission_classes = [RolePermission]
    required_permission = None  # any signed-in user; the selector limits the list to their own licences
    serializer_class = LicenceSerializer

    def get_queryset(self):
        return selectors.licence_list_for_holder(self.request.user)

    @extend_schema(tags=["licences"], summary="My licences")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class LicenceDetailApi(APIView):
    """One licence, for its holder and for staff who issue licences for its department."""

    permission_classes = [RolePermission]
    required_permission = None  # checked per licence by the selector: holder or issuing staff

    @extend_schema(tags=["licences"], summary="One licence", responses={200: LicenceSerializer})
    def get(self, request, number):
        licence = selectors.licence_get_for_user(request.user, number)
        if licence is None:
            raise Http404
        if not selectors.licence_is_holder(request.user, licence):
            services.licence_view_record(actor=actor_from_request(request), licence=licence, what="api")
        return Response(LicenceSerializer(licence, context={"request": request}).data)


class RevokeInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, help_text=_("Why the licence is revoked (required)."))


class LicenceRevokeApi(APIView):
    """Revoke a licence (撤销): staff with ``licence.issue`` for the issuing department."""

    permission_classes = [RolePermission]
    required_permission = "licence.issue"

    def get_permission_department(self, licence):
        return licence.department

    @extend_schema(
        tags=["licences"],
        summary="Revoke a licence",
        request=RevokeInputSerializer,
        responses={
            200: LicenceSerializer,
            400: OpenApiResponse(description="No reason given."),
            409: OpenApiResponse(description="Already revoked."),
        },
    )
    def post(self, request, number):
        licence = selectors.licence_get(number)
        if licence is None:
            raise Http404
        self.check_object_permissions(request, licence)
        data = RevokeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        licence = services.licence_revoke(
            actor=actor_from_request(request), licence=licence, reason=data.validated_data["reason"]
        )
        return Response(LicenceSerializer(licence, context={"request": request}).data)


class VerifyInputSerializer(serializers.Serializer):
    token = serializers.CharField(
        max_length=20_000, help_text=_("The token of the licence's QR code, or the whole verification link.")
    )


class VerificationSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["valid", "revoked", "altered", "unknown"])
    expired = serializers.BooleanField()
    number = serializers.CharField(allow_null=True)
    type = serializers.CharField(allow_null=True)
    type_name = serializers.CharField(allow_null=True)
    holder = serializers.CharField(allow_null=True, help_text=_("The holder's name, masked."))
    issuer = serializers.CharField(allow_null=True)
    issuer_name = serializers.CharField(allow_null=True)
    issued_at = serializers.DateTimeField(allow_null=True)
    valid_until = serializers.DateField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    public_fields = PublicFieldSerializer(many=True)


def verification_data(result: services.VerificationResult) -> dict:
    licence = result.licence
    return {
        "status": result.status,
        "expired": result.expired,
        "number": licence.number if licence else None,
        "type": licence.type.code if licence else None,
        "type_name": licence.type.name_zh if licence else None,
        "holder": mask_name(licence.holder_name) if licence else None,
        "issuer": licence.department.code if licence else None,
        "issuer_name": licence.department.name_zh if licence else None,
        "issued_at": licence.issued_at if licence else None,
        "valid_until": licence.valid_until if licence else None,
        "revoked_at": licence.revoked_at if licence else None,
        "public_fields": result.public_fields,
    }


class LicenceVerifyApi(APIView):
    """Verify a licence (核验), open to anyone: valid, revoked, altered or unknown, with public fields only."""

    permission_classes = [AllowAny]
    authentication_classes = []  # nobody signs in to verify; no session means no CSRF check either
    throttle_classes = [AnonRateThrottle]  # per address, like every anonymous caller (TONGBAN_API_ANON_RATE)

    @extend_schema(
        tags=["licences"],
        summary="Verify a licence",
        request=VerifyInputSerializer,
        responses={200: VerificationSerializer},
        auth=[],
        examples=[OpenApiExample("A token", value={"token": "eyJkYXRhIjp7...fQ.ZmFrZS1zaWduYXR1cmU"})],
    )
    def post(self, request):
        data = VerifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.licence_verify(data.validated_data["token"])
        return Response(VerificationSerializer(verification_data(result)).data)
