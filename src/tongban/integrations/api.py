"""The API for other departments' and districts' systems (API clients with OAuth 2 client credentials).

Each view declares the scope each method needs (``required_scopes``); the client's limits (departments, service
items, data sensitivity) are checked against the object asked for, a refusal is a 403 on the audit record, every
call is audited with the client's identity, and each client has its own rate limit. Views parse, call one
service or selector, and serialise.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.generics import ListAPIView
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from tongban.cases import selectors as case_selectors
from tongban.cases import services as case_services
from tongban.exchange import services as exchange_services
from tongban.exchange.selectors import resource_fields
from tongban.hotline import services as hotline_services
from tongban.hotline.models import Ticket
from tongban.identity.selectors import ClientActor

from .authentication import ClientTokenAuthentication
from .services import api_call_record, require_client_scope

TAG = "partner systems"


def _actor(request) -> ClientActor:
    return request._tongban_actor


class ClientScopePermission(BasePermission):
    """The token must hold the scope the view declares for the method (``required_scopes = {"get": ...}``)."""

    def has_permission(self, request, view):
        method = request.method.lower()
        if method not in view.http_method_names or getattr(view, method, None) is None:
            raise MethodNotAllowed(
                request.method
            )  # TRACE, or a method the view does not serve: 405 for anyone
        actor = getattr(request, "_tongban_actor", None)
        if not isinstance(actor, ClientActor):
            return False
        if method == "options":
            return True  # a description of the endpoint, for any client with a token
        method = "get" if method == "head" else method
        scopes = getattr(view, "required_scopes", None)
        if scopes is None or method not in scopes:
            raise ImproperlyConfigured(f"{type(view).__name__}.required_scopes has no entry for {method!r}")
        require_client_scope(actor, scopes[method])
        return True


class ClientRateThrottle(SimpleRateThrottle):
    """Requests per client, counted in the shared cache; the rate is the client's own or TONGBAN_API_CLIENT_RATE."""

    scope = "client"

    def __init__(self):  # the rate is known only once the client is (allow_request)
        pass

    def allow_request(self, request, view):
        client = getattr(request, "_tongban_client", None)
        if client is None:
            return True
        self.rate = client.rate or settings.TONGBAN_API_CLIENT_RATE
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": request._tongban_client.pk}


class ClientApiView(APIView):
    authentication_classes = [ClientTokenAuthentication]
    permission_classes = [ClientScopePermission]
    throttle_classes = [ClientRateThrottle]
    required_scopes: dict = {}

    def finalize_response(self, request, response, *args, **kwargs):
        actor = getattr(request, "_tongban_actor", None)
        if isinstance(actor, ClientActor):
            api_call_record(
                actor=actor, method=request.method, path=request.path, status=response.status_code
            )
        return super().finalize_response(request, response, *args, **kwargs)


# --- cases ------------------------------------------------------------------------------------------------------


class PartnerCaseSerializer(serializers.Serializer):
    number = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    service_code = serializers.SerializerMethodField()
    lead_department = serializers.CharField(source="lead_department.code")
    submitted_at = serializers.DateTimeField(allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)
    due_date = serializers.DateField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)

    def get_service_code(self, case) -> str:
        return case.item.code if case.item_id else (case.bundle.code if case.bundle_id else "")


class PartnerCaseFormSerializer(serializers.Serializer):
    number = serializers.CharField()
    applicant_name = serializers.CharField()
    form_data = serializers.JSONField()


def _case_for(actor: ClientActor, number: str, scope: str, sensitivity: str = "internal"):
    case = case_selectors.case_get_by_number(number)
    if case is None:
        raise Http404
    departments, codes = case_selectors.case_scope([case.pk])[str(case.pk)]
    require_client_scope(actor, scope, department_ids=departments, item_codes=codes, sensitivity=sensitivity)
    return case


class PartnerCaseListApi(ClientApiView, ListAPIView):
    """The cases of the client's departments (led, accepted or with a task there), of its service items."""

    required_scopes = {"get": "cases:read"}
    serializer_class = PartnerCaseSerializer

    def get_queryset(self):
        actor = _actor(self.request)
        return case_selectors.case_list_for_departments(
            actor.department_ids,
            item_codes=actor.service_item_codes,
            status=self.request.query_params.get("status") or None,
        )

    @extend_schema(summary="Cases of the client's departments", tags=[TAG])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class PartnerCaseDetailApi(ClientApiView):
    required_scopes = {"get": "cases:read"}

    @extend_schema(
        summary="A case (internal data: no applicant, no form)", tags=[TAG], responses=PartnerCaseSerializer
    )
    def get(self, request, number):
        case = _case_for(_actor(request), number, "cases:read")
        return Response(PartnerCaseSerializer(case).data)


class PartnerCaseFormApi(ClientApiView):
    """The applicant and the form of a case: personal data, for clients allowed ``personal`` sensitivity."""

    required_scopes = {"get": "cases:read"}

    @extend_schema(
        summary="A case's applicant and form (personal data)", tags=[TAG], responses=PartnerCaseFormSerializer
    )
    def get(self, request, number):
        case = _case_for(_actor(request), number, "cases:read", sensitivity="personal")
        return Response(PartnerCaseFormSerializer(case).data)


class PartnerCaseAcceptApi(ClientApiView):
    """Accept a submitted case led by one of the client's departments (a district's own window system)."""

    required_scopes = {"post": "cases:write"}

    @extend_schema(summary="Accept a case", tags=[TAG], request=None, responses=PartnerCaseSerializer)
    def post(self, request, number):
        actor = _actor(request)
        case = _case_for(actor, number, "cases:write")
        if case.lead_department_id not in actor.department_ids:
            require_client_scope(actor, "cases:write", department_ids=[case.lead_department_id])
        case = case_services.case_accept(actor=actor, case=case)
        return Response(PartnerCaseSerializer(case_selectors.case_get_by_number(case.number)).data)


# --- lookups ----------------------------------------------------------------------------------------------------


class PartnerLookupSerializer(serializers.Serializer):
    resource = serializers.SlugField(max_length=64)
    subject = serializers.CharField(max_length=64)
    fields = serializers.ListField(child=serializers.CharField(max_length=64), allow_empty=False)
    purpose = serializers.CharField(max_length=200)


class PartnerLookupResultSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    resource = serializers.CharField()
    subject = serializers.CharField(source="subject_key")
    fields = serializers.ListField(child=serializers.CharField())
    found = serializers.BooleanField()
    data = serializers.JSONField(allow_null=True)


class PartnerLookupApi(ClientApiView):
    """Read registry fields for the client's department under its sharing grants (audited, on the person's "who
    used my data"). Fields above the client's data sensitivity are refused (403) before the registry is read."""

    required_scopes = {"post": "lookups:read"}

    @extend_schema(
        summary="Look up registry data",
        tags=[TAG],
        request=PartnerLookupSerializer,
        responses=PartnerLookupResultSerializer,
    )
    def post(self, request):
        body = PartnerLookupSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        actor = _actor(request)
        known = resource_fields(data["resource"])
        if known is None:
            raise serializers.ValidationError({"resource": [_("No data resource has this code.")]})
        unknown = [name for name in data["fields"] if name not in known]
        if unknown:
            raise serializers.ValidationError(
                {"fields": [_("Unknown field %(field)s.") % {"field": unknown[0]}]}
            )
        levels = [known[name] for name in data["fields"]]
        highest = max(levels, key=("public", "internal", "personal", "sensitive").index)
        require_client_scope(actor, "lookups:read", sensitivity=highest)
        try:
            result = exchange_services.lookup(
                actor=actor,
                department=actor.department,
                resource_code=data["resource"],
                subject_key=data["subject"],
                fields=data["fields"],
                purpose=data["purpose"],
            )
        except exchange_services.GrantMissing as refused:
            # As the staff lookup answers: 403, naming the grant the department lacks.
            body = {
                "status": 403,
                "code": refused.code,
                "detail": str(refused),
                "errors": {},
                "missing": refused.params,
            }
            return Response(body, status=status.HTTP_403_FORBIDDEN)
        return Response(PartnerLookupResultSerializer(result).data)


# --- tickets ----------------------------------------------------------------------------------------------------


class PartnerTicketSerializer(serializers.Serializer):
    ticket_type = serializers.ChoiceField(choices=Ticket.Type.choices)
    text = serializers.CharField(max_length=4000)
    district_code = serializers.CharField(max_length=12, required=False, allow_blank=True, default="")
    street_code = serializers.CharField(max_length=12, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    contact_name = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    contact_phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")


class PartnerTicketCreatedSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()


class PartnerTicketCreateApi(ClientApiView):
    """File a 12345 ticket from another system (a district's grid management, a department's own hotline)."""

    required_scopes = {"post": "tickets:write"}

    @extend_schema(
        summary="File a 12345 ticket",
        tags=[TAG],
        request=PartnerTicketSerializer,
        responses={201: PartnerTicketCreatedSerializer},
    )
    def post(self, request):
        body = PartnerTicketSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ticket = hotline_services.ticket_create(actor=_actor(request), channel="app", **body.validated_data)
        return Response(PartnerTicketCreatedSerializer(ticket).data, status=status.HTTP_201_CREATED)
