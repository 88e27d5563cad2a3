"""REST endpoints of the hotline: take, list and work tickets, and classify texts.

Policy is declared on each view (``RolePermission`` with ``required_permission``); the services check the
department for the handling actions, so a department acts only on its own tickets.
"""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from tongban.identity.permissions import RolePermission

from . import selectors, services
from .models import Ticket


class TicketSerializer(serializers.Serializer):
    number = serializers.CharField()
    channel = serializers.CharField()
    ticket_type = serializers.CharField()
    urgency = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    text = serializers.CharField()
    district = serializers.CharField(source="district.code", default=None)
    address = serializers.CharField()
    suggested_department = serializers.CharField()
    suggestion_confidence = serializers.FloatField(allow_null=True)
    department = serializers.CharField(source="department.code", default=None)
    due_date = serializers.DateField(allow_null=True)
    reply = serializers.CharField()
    satisfaction = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class TicketCreateSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Ticket.Channel.choices, default=Ticket.Channel.PHONE)
    ticket_type = serializers.CharField()
    urgency = serializers.CharField(default=Ticket.Urgency.GENERAL)
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)
    district = serializers.CharField(required=False, allow_blank=True, default="")
    street = serializers.CharField(required=False, allow_blank=True, default="")
    address = serializers.CharField(required=False, allow_blank=True, default="")
    contact_name = serializers.CharField(required=False, allow_blank=True, default="")
    contact_phone = serializers.CharField(required=False, allow_blank=True, default="")
    answer = serializers.CharField(required=False, allow_blank=True, default="")


class TicketActionSerializer(serializers.Serializer):
    department = serializers.CharField(required=False, allow_blank=True, default="")
    reply = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    satisfaction = serializers.IntegerField(required=False, default=0)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ClassifySerializer(serializers.Serializer):
    texts = serializers.ListField(child=serializers.CharField(allow_blank=True), max_length=1000)


class PredictionSerializer(serializers.Serializer):
    department = serializers.CharField()
    confidence = serializers.FloatField()
    top3 = serializers.ListField(child=serializers.ListField())


class TicketListCreateApi(APIView):
    permission_classes = [RolePermission]
    required_permissions = {"get": "ticket.view", "post": "ticket.take"}

    @extend_schema(tags=["hotline"], summary="Tickets I may see", responses=TicketSerializer(many=True))
    def get(self, request):
        tickets = selectors.tickets_visible_to(request.user).select_related("district", "department")[:200]
        return Response(TicketSerializer(tickets, many=True).data)

    @extend_schema(
        tags=["hotline"], summary="Take a request", request=TicketCreateSerializer, responses=TicketSerializer
    )
    def post(self, request):
        data = TicketCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        ticket = services.ticket_create(
            user=request.user,
            channel=values["channel"],
            ticket_type=values["ticket_type"],
            urgency=values["urgency"],
            text=values["text"],
            district_code=values["district"],
            street_code=values["street"],
            address=values["address"],
            contact_name=values["contact_name"],
            contact_phone=values["contact_phone"],
            answer=values["answer"],
        )
        return Response(TicketSerializer(ticket).data, status=status.HTTP_201_CREATED)


class TicketDetailApi(APIView):
    permission_classes = [RolePermission]
    required_permission = "ticket.view"

    @extend_schema(tags=["hotline"], summary="One ticket", responses=TicketSerializer)
    def get(self, request, number):
        ticket = selectors.ticket_get_for_user(request.user, number)
        if ticket is None:
            raise Http404
        return Response(TicketSerializer(ticket).data)


ACTIONS = {
    "dispatch": lambda user, t, v: services.ticket_dispatch(
        user=user, ticket=t, department_code=v["department"]
    ),
    "accept": lambda user, t, v: services.ticket_accept(user=user, ticket=t),
    "reply": lambda user, t, v: services.ticket_reply(user=user, ticket=t, reply=v["reply"]),
    "return": lambda user, t, v: services.ticket_return(user=user, ticket=t, reason=v["reason"]),
    "callback": lambda user, t, v: services.ticket_callback(
        user=user, ticket=t, satisfaction=v["satisfaction"], note=v["note"]
    ),
    "reopen": lambda user, t, v: services.ticket_reopen(user=user, ticket=t, reason=v["reason"]),
}


class TicketActionApi(APIView):
    """One step of the loop; the service checks the permission for the action and the ticket's department."""

    permission_classes = [RolePermission]
    required_permission = "ticket.view"

    @extend_schema(
        tags=["hotline"],
        summary="Dispatch, accept, reply, return, call back or reopen",
        operation_id="v1_tickets_action",
        request=TicketActionSerializer,
        responses=TicketSerializer,
    )
    def post(self, request, number, action):
        ticket = selectors.ticket_get_for_user(request.user, number)
        if ticket is None or action not in ACTIONS:
            raise Http404
        data = TicketActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = ACTIONS[action](request.user, ticket, data.validated_data)
        ticket.refresh_from_db()
        return Response(TicketSerializer(ticket).data)


class ClassifyApi(APIView):
    permission_classes = [RolePermission]
    required_permission = "ticket.take"

    @extend_schema(
        tags=["hotline"],
        summary="Suggest departments for texts",
        request=ClassifySerializer,
        responses=PredictionSerializer(many=True),
    )
    def post(self, request):
        data = ClassifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        from .routing import classify

        texts = [t[: services.MAX_TEXT] for t in data.validated_data["texts"]]
        return Response(
            [
                {"department": p.department, "confidence": round(float(p.confidence), 4), "top3": p.top3}
                for p in classify(texts)
            ]
        )
