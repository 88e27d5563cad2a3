"""REST endpoints of 法人一证通 and the enterprise space (in the OpenAPI schema under "enterprise").

Sign-in: ask ``POST challenges/`` for a nonce, sign ``prefix + nonce`` with the agent's P-256 key (ECDSA SHA-256,
raw r‖s or DER, base64) and ``POST sign-in/`` with the certificate's serial: a session is opened. An agent
requests a certificate for their key; the legal representative issues or refuses it, and revokes. A case's
signatures: ``GET`` gives the canonical JSON to sign and the signatures verified now, ``POST`` adds one.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from tongban.identity.permissions import RolePermission
from tongban.identity.selectors import actor_from_request

from . import analytics, authentication, selectors, services
from .models import SCOPES


class ChallengeSerializer(serializers.Serializer):
    nonce = serializers.CharField()
    expires_at = serializers.DateTimeField()
    prefix = serializers.CharField(help_text="Sign prefix + nonce (UTF-8).")


class SignInSerializer(serializers.Serializer):
    serial = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text="The certificate's serial (hex).",
    )
    public_key = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Or the key's SPKI (base64 DER): the newest usable certificate of that key.",
    )
    nonce = serializers.CharField(max_length=64)
    signature = serializers.CharField(
        max_length=400,
        help_text="Base64 signature: ECDSA P-256 with SHA-256, or SM2 with SM3 for an SM2 certificate.",
    )


class CertificateSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    serial = serializers.CharField()
    subject = serializers.CharField()
    holder = serializers.CharField(source="holder.username", allow_null=True, default=None)
    scopes = serializers.ListField(child=serializers.CharField())
    not_before = serializers.DateTimeField()
    not_after = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    revocation_reason = serializers.CharField()
    pem = serializers.CharField()


class CertificateRequestSerializer(serializers.Serializer):
    public_key = serializers.CharField(
        max_length=2000, help_text="SPKI, base64 DER or PEM: ECDSA P-256, or SM2 (also hex 04||x||y)."
    )
    nonce = serializers.CharField(max_length=64)
    signature = serializers.CharField(max_length=400, help_text="The key's signature over prefix + nonce.")


class IssueSerializer(serializers.Serializer):
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=list(SCOPES)), allow_empty=False)
    valid_days = serializers.IntegerField(min_value=1, max_value=1095)


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class CaseSignSerializer(serializers.Serializer):
    serial = serializers.CharField(max_length=40)
    signature = serializers.CharField(max_length=400, help_text="Base64 signature over the payload (UTF-8).")


class SpaceSerializer(serializers.Serializer):
    credit_code = serializers.CharField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=["representative", "agent"])


class SignatureCheckSerializer(serializers.Serializer):
    signer = serializers.CharField()
    serial = serializers.CharField()
    verified = serializers.BooleanField()
    detail = serializers.CharField()
    signed_at = serializers.DateTimeField()
    sha256 = serializers.CharField()


class CaseSignaturesSerializer(serializers.Serializer):
    case = serializers.CharField()
    payload = serializers.CharField(help_text="The submission's canonical JSON: sign its UTF-8 bytes.")
    signatures = SignatureCheckSerializer(many=True)


class ChampionSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    rank_district = serializers.IntegerField()
    rank_section = serializers.IntegerField()
    name = serializers.CharField()
    credit_code = serializers.CharField()
    district_code = serializers.CharField()
    district = serializers.CharField()
    industry_code = serializers.CharField()
    section = serializers.CharField()
    section_label = serializers.CharField()
    headcount = serializers.IntegerField()
    headcount_growth = serializers.FloatField(allow_null=True)
    tax_4q = serializers.FloatField(allow_null=True)
    tax_growth = serializers.FloatField(allow_null=True)
    revenue = serializers.FloatField(allow_null=True)
    qualifications = serializers.ListField(child=serializers.CharField())
    representative = serializers.CharField(help_text="Masked unless the caller may look up persons.")
    headcount_quarters = serializers.ListField(child=serializers.ListField(), help_text="[quarter, insured]")
    tax_quarters = serializers.ListField(child=serializers.ListField(), help_text="[quarter, tax paid]")
    as_of = serializers.DateField()
    score = serializers.FloatField()


class IdSerializer(serializers.Serializer):
    id = serializers.UUIDField()


class UsernameSerializer(serializers.Serializer):
    username = serializers.CharField()


class ShaSerializer(serializers.Serializer):
    sha256 = serializers.CharField()


def _refused(refusal: services.CertificateRefused):
    return exceptions.PermissionDenied(detail=str(refusal), code=refusal.code)


class ChallengeApi(APIView):
    """A one-time nonce to sign (valid two minutes)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=None, responses={201: ChallengeSerializer})
    def post(self, request):
        _ignored = request.data  # parsed all the same: a malformed body is a 400 here as everywhere
        item = services.challenge_create()
        return Response(
            {"nonce": item.nonce, "expires_at": item.expires_at, "prefix": services.LOGIN_PREFIX},
            status=status.HTTP_201_CREATED,
        )


class CertificateSignInApi(APIView):
    """Sign in with a certificate: the signed challenge opens a session (403 with the reason when refused)."""

    permission_classes = [AllowAny]

    @extend_schema(request=SignInSerializer, responses={200: UsernameSerializer})
    def post(self, request):
        body = SignInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            user = authentication.certificate_login(request=request._request, **body.validated_data)
        except services.CertificateRefused as refusal:
            raise _refused(refusal) from refusal
        return Response({"username": user.get_username()})


class _SpaceApi(APIView):
    permission_classes = [RolePermission]
    required_permission = None  # any signed-in user; the space's selectors answer 404 to anyone not of it

    def organisation(self, request, credit_code):
        organisation, _role = selectors.space_organisation_get(request.user, credit_code)
        if organisation is None:
            raise Http404
        return organisation


class SpaceListApi(_SpaceApi):
    """The enterprises whose space I may enter, with my role (representative or agent)."""

    @extend_schema(responses={200: SpaceSerializer(many=True)})
    def get(self, request):
        return Response(
            [
                {
                    "credit_code": o.credit_code,
                    "name": o.name,
                    "role": selectors.space_role(request.user, o),
                }
                for o in selectors.space_organisations(request.user)
            ]
        )


class CertificateListApi(_SpaceApi):
    """The enterprise's certificates: all for the representative, my own for an agent."""

    @extend_schema(responses={200: CertificateSerializer(many=True)})
    def get(self, request, credit_code):
        organisation = self.organisation(request, credit_code)
        return Response(
            CertificateSerializer(selectors.certificate_list_for(request.user, organisation), many=True).data
        )


class OrganisationCertificateApi(_SpaceApi):
    """The legal representative (checked against the business register) obtains the organisation's certificate."""

    @extend_schema(request=None, responses={201: CertificateSerializer})
    def post(self, request, credit_code):
        organisation = self.organisation(request, credit_code)
        certificate = services.organisation_certificate_issue(
            actor=actor_from_request(request), organisation=organisation
        )
        return Response(CertificateSerializer(certificate).data, status=status.HTTP_201_CREATED)


class CertificateRequestApi(_SpaceApi):
    """An agent requests a certificate for a key they hold, proving it with a signed challenge."""

    @extend_schema(request=CertificateRequestSerializer, responses={201: IdSerializer})
    def post(self, request, credit_code):
        organisation = self.organisation(request, credit_code)
        body = CertificateRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        item = services.certificate_request(
            actor=actor_from_request(request), organisation=organisation, **body.validated_data
        )
        return Response({"id": str(item.pk)}, status=status.HTTP_201_CREATED)


class CertificateIssueApi(_SpaceApi):
    """The legal representative issues the requested certificate, with scopes and days of validity."""

    @extend_schema(request=IssueSerializer, responses={201: CertificateSerializer})
    def post(self, request, pk):
        item = selectors.request_get_for_representative(request.user, pk)
        if item is None:
            raise Http404
        body = IssueSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        certificate = services.agent_certificate_issue(
            actor=actor_from_request(request), certificate_request=item, **body.validated_data
        )
        return Response(CertificateSerializer(certificate).data, status=status.HTTP_201_CREATED)


class CertificateRevokeApi(_SpaceApi):
    """Revoke a certificate at once (the representative; an agent their own)."""

    @extend_schema(request=RevokeSerializer, responses={200: CertificateSerializer})
    def post(self, request, pk):
        certificate = selectors.certificate_get_for(request.user, pk)
        if certificate is None:
            raise Http404
        body = RevokeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        certificate = services.certificate_revoke(
            actor=actor_from_request(request), certificate=certificate, reason=body.validated_data["reason"]
        )
        return Response(CertificateSerializer(certificate).data)


class CaseSignatureApi(_SpaceApi):
    """GET: the case submission's canonical JSON and its signatures verified now; POST: sign it."""

    def case(self, request, number):
        from tongban.cases.selectors import case_get_for_user, case_is_applicant

        case = case_get_for_user(request.user, number)
        if case is None or not case.applicant_organisation_id:
            raise Http404
        return case, case_is_applicant(request.user, case)

    @extend_schema(responses={200: CaseSignaturesSerializer})
    def get(self, request, number):
        case, _applicant = self.case(request, number)
        return Response(
            {
                "case": case.number,
                "payload": services.submission_payload(case),
                "signatures": [
                    {
                        "signer": check.signer,
                        "serial": check.serial,
                        "verified": check.verified,
                        "detail": check.reason,
                        "signed_at": check.signature.created_at,
                        "sha256": check.signature.payload_sha256,
                    }
                    for check in selectors.case_signatures_checked(case)
                ],
            }
        )

    @extend_schema(request=CaseSignSerializer, responses={201: ShaSerializer})
    def post(self, request, number):
        case, applicant = self.case(request, number)
        if not applicant:
            raise Http404
        body = CaseSignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            record = services.case_signature_add(
                actor=actor_from_request(request),
                case=case,
                address=authentication._address(request),
                **body.validated_data,
            )
        except services.CertificateRefused as refusal:
            raise _refused(refusal) from refusal
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(detail=str(exc)) from exc
        return Response({"sha256": record.payload_sha256}, status=status.HTTP_201_CREATED)


class ChampionsApi(APIView):
    """Hidden champions (隐形冠军): ranked enterprises with the evidence (the enterprise service office)."""

    permission_classes = [RolePermission]
    required_permission = "enterprise.analytics"

    @extend_schema(responses={200: ChampionSerializer(many=True)})
    def get(self, request):
        rows = analytics.champions_for(
            actor_from_request(request), **analytics.filters_from(request.query_params)
        )
        return Response(ChampionSerializer(rows, many=True).data)
