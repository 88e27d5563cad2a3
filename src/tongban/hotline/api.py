"""REST endpoints of the hotline: take, list and work tickets, and classify texts.

Policy is declared on each view (``RolePermission`` with ``required_permission``); the services check the
department for the handling actions, so a department acts only on its own tickets.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.fields import empty
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from tongban.core.rows import date_text, datetime_text
from tongban.core.serializers import PrototypeFields
from tongban.identity.permissions import RolePermission
from tongban.identity.selectors import actor_from_request

from . import selectors, services
from .models import Ticket

CITIZEN_CHANNELS = (Ticket.Channel.APP, Ticket.Channel.MINI_PROGRAM, Ticket.Channel.WEB)


class AttachmentSerializer(serializers.Serializer):
    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()


class TicketSerializer(serializers.Serializer):
    number = serializers.CharField()
    topic = serializers.CharField()
    duplicate_of = serializers.CharField(source="duplicate_of.number", default=None, allow_null=True)
    merged_into = serializers.CharField(source="merged_into.number", default=None, allow_null=True)
    supervised_at = serializers.DateTimeField(allow_null=True)
    extension = serializers.CharField()
    warning = serializers.CharField()
    answer = serializers.CharField()
    case_number = serializers.CharField()
    service_code = serializers.CharField()
    attachments = serializers.SerializerMethodField()
    channel = serializers.CharField()
    ticket_type = serializers.CharField()
    urgency = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    text = serializers.CharField()
    district = serializers.CharField(source="district.code", default=None, allow_null=True)
    address = serializers.CharField()
    suggested_department = serializers.CharField()
    suggestion_confidence = serializers.FloatField(allow_null=True)
    department = serializers.CharField(source="department.code", default=None, allow_null=True)
    due_date = serializers.DateField(allow_null=True)
    reply = serializers.CharField()
    satisfaction = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, ticket):
        return AttachmentSerializer(ticket.attachments.all(), many=True).data


def ticket_rows(tickets) -> list[dict]:
    """What :class:`TicketSerializer` gives for ``tickets``, made directly: DRF copies the serializer's 27 fields
    for every response and formats each value through them, an eighth of a ticket's intake. Dates and times as
    DRF's fields give them (``core.rows``); a test holds the two equal."""
    moment, day = datetime_text(), date_text()
    rows = []
    for ticket in tickets:
        duplicate_of, merged_into = ticket.duplicate_of, ticket.merged_into
        district, department = ticket.district, ticket.department
        confidence, satisfaction = ticket.suggestion_confidence, ticket.satisfaction
        rows.append(
            {
                "number": ticket.number,
                "topic": ticket.topic,
                "duplicate_of": duplicate_of.number if duplicate_of is not None else None,
                "merged_into": merged_into.number if merged_into is not None else None,
                "supervised_at": moment(ticket.supervised_at),
                "extension": ticket.extension,
                "warning": ticket.warning,
                "answer": ticket.answer,
                "case_number": ticket.case_number,
                "service_code": ticket.service_code,
                "attachments": [
                    {
                        "name": attachment.name,
                        "content_type": attachment.content_type,
                        "size": int(attachment.size),
                        "sha256": attachment.sha256,
                    }
                    for attachment in ticket.attachments.all()
                ],
                "channel": ticket.channel,
                "ticket_type": ticket.ticket_type,
                "urgency": ticket.urgency,
                "status": ticket.status,
                "status_label": str(ticket.get_status_display()),
                "text": ticket.text,
                "district": district.code if district is not None else None,
                "address": ticket.address,
                "suggested_department": ticket.suggested_department,
                "suggestion_confidence": float(confidence) if confidence is not None else None,
                "department": department.code if department is not None else None,
                "due_date": day(ticket.due_date),
                "reply": ticket.reply,
                "satisfaction": int(satisfaction) if satisfaction is not None else None,
                "created_at": moment(ticket.created_at),
            }
        )
    return rows


def ticket_row(ticket) -> dict:
    return ticket_rows([ticket])[0]


# The limits the services enforce (``services.MAX_TEXT``, ``MAX_ATTACHMENTS``, the columns' lengths, the
# minimum lengths of a reply, a reason or an answer) are stated here too, so that the schema documents them; a
# value over a column's length is refused rather than cut.
ADDRESS = {"required": False, "allow_blank": True, "default": ""}


def _text(**kwargs):
    return serializers.CharField(max_length=services.MAX_TEXT, **kwargs)


class TicketTextField(serializers.CharField):
    """What the request is about: documented as not blank (``minLength: 1``), but a blank one is left for the
    service to refuse, so that the caller learns of the other fields' errors in the same answer."""

    def __init__(self):
        super().__init__(max_length=services.MAX_TEXT, trim_whitespace=False)

    def run_validation(self, data=empty):
        if isinstance(data, str) and not data.strip():
            return data
        return super().run_validation(data)


def _attachments():
    return serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        max_length=services.MAX_ATTACHMENTS,
        help_text="JPEG, PNG or PDF, up to 10 MB each; multipart",
    )


class TicketCreateSerializer(PrototypeFields, serializers.Serializer):
    channel = serializers.ChoiceField(choices=Ticket.Channel.choices, default=Ticket.Channel.PHONE)
    ticket_type = serializers.ChoiceField(choices=Ticket.Type.choices)
    urgency = serializers.ChoiceField(choices=Ticket.Urgency.choices, default=Ticket.Urgency.GENERAL)
    text = TicketTextField()
    district = serializers.CharField(max_length=12, **ADDRESS)
    street = serializers.CharField(max_length=12, **ADDRESS)
    address = serializers.CharField(max_length=200, **ADDRESS)
    contact_name = serializers.CharField(max_length=64, **ADDRESS)
    contact_phone = serializers.CharField(max_length=20, **ADDRESS)
    answer = _text(required=False, allow_blank=True, default="")
    faq = serializers.UUIDField(required=False, allow_null=True, default=None)
    case_number = serializers.CharField(max_length=32, help_text="a case it is about", **ADDRESS)
    attachments = _attachments()


class MyTicketCreateSerializer(PrototypeFields, serializers.Serializer):
    """What a citizen's app or mini-program sends: the caller and contact come from the account."""

    channel = serializers.ChoiceField(
        choices=[(c, Ticket.Channel(c).label) for c in CITIZEN_CHANNELS], default=Ticket.Channel.APP
    )
    ticket_type = serializers.ChoiceField(choices=Ticket.Type.choices)
    text = TicketTextField()
    district = serializers.CharField(max_length=12, **ADDRESS)
    street = serializers.CharField(max_length=12, **ADDRESS)
    address = serializers.CharField(max_length=200, **ADDRESS)
    case_number = serializers.CharField(max_length=32, help_text="a case it is about", **ADDRESS)
    attachments = _attachments()


class TicketActionSerializer(serializers.Serializer):
    """The fields of the actions; each action reads its own (a reply of at least 15 characters, a reason for an
    extension of at least 10, a satisfaction for a call-back)."""

    department = serializers.CharField(max_length=64, **ADDRESS)
    reply = _text(required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=2000, **ADDRESS)
    satisfaction = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=5, help_text="callback: 1-5"
    )
    note = serializers.CharField(max_length=2000, **ADDRESS)
    into = serializers.CharField(max_length=24, help_text="merge: the ticket's number", **ADDRESS)


class FaqSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    question = serializers.CharField(min_length=1, max_length=200)
    answer = serializers.CharField(min_length=10)
    keywords = serializers.CharField(max_length=200, **ADDRESS)
    department = serializers.CharField(max_length=64, **ADDRESS)
    service_code = serializers.CharField(max_length=64, **ADDRESS)
    active = serializers.BooleanField(required=False, default=True)


class ClassifySerializer(serializers.Serializer):
    texts = serializers.ListField(child=serializers.CharField(allow_blank=True), max_length=1000)


class PredictionSerializer(serializers.Serializer):
    department = serializers.CharField()
    confidence = serializers.FloatField()
    top3 = serializers.ListField(child=serializers.ListField())


class IntakeThrottle(ScopedRateThrottle):
    """Ticket intake per client (user): ``TONGBAN_API_TICKET_RATE`` (default 120 a minute); a flood gets 429
    with Retry-After, and each request let through is a whole ticket (a refused one writes nothing)."""

    scope_attr = "throttle_scope"

    def allow_request(self, request, view):
        if request.method != "POST":
            return True
        return super().allow_request(request, view)


class TicketListCreateApi(APIView):
    permission_classes = [RolePermission]
    required_permissions = {"get": "ticket.view", "post": "ticket.take"}
    throttle_classes = [*APIView.throttle_classes, IntakeThrottle]
    throttle_scope = "tickets"

    @extend_schema(tags=["hotline"], summary="Tickets I may see", responses=TicketSerializer(many=True))
    def get(self, request):
        tickets = (
            selectors.tickets_visible_to(request.user)
            .select_related("district", "department", "duplicate_of", "merged_into")
            .prefetch_related("attachments")[:200]
        )
        return Response(ticket_rows(tickets))

    @extend_schema(
        tags=["hotline"],
        summary="Take a request",
        request=TicketCreateSerializer,
        responses={201: TicketSerializer},
    )
    def post(self, request):
        data = TicketCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        ticket = services.ticket_create(
            actor=actor_from_request(request),
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
            faq=values["faq"],
            attachments=values["attachments"],
            case_number=values["case_number"],
        )
        return Response(ticket_row(ticket), status=status.HTTP_201_CREATED)


class MyTicketsApi(APIView):
    """A citizen's own tickets, and a new one from their app or mini-program (the caller is the account's
    person; contact details come from the account, never from the request)."""

    permission_classes = [RolePermission]
    required_permission = "portal.apply"
    throttle_classes = [*APIView.throttle_classes, IntakeThrottle]
    throttle_scope = "tickets"

    @extend_schema(tags=["hotline"], summary="My tickets", responses=TicketSerializer(many=True))
    def get(self, request):
        tickets = (
            selectors.tickets_of_citizen(request.user)
            .select_related("district", "department", "duplicate_of", "merged_into")
            .prefetch_related("attachments")[:200]
        )
        return Response(ticket_rows(tickets))

    @extend_schema(
        tags=["hotline"],
        summary="Ask, complain or suggest (app, mini-program, web)",
        request=MyTicketCreateSerializer,
        responses={201: TicketSerializer},
    )
    def post(self, request):
        from tongban.identity.selectors import person_for

        person = person_for(request.user)
        if person is None:
            raise PermissionDenied(_("Only a resident's account can send a request."))
        data = MyTicketCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        ticket = services.ticket_create(
            actor=actor_from_request(request),
            channel=values["channel"],
            ticket_type=values["ticket_type"],
            text=values["text"],
            district_code=values["district"],
            street_code=values["street"],
            address=values["address"],
            caller=person,
            contact_name=person.name,
            contact_phone=getattr(person, "phone", "") or "",
            attachments=values["attachments"],
            case_number=values["case_number"],
        )
        return Response(ticket_row(ticket), status=status.HTTP_201_CREATED)


class TicketDetailApi(APIView):
    permission_classes = [RolePermission]
    required_permission = "ticket.view"

    @extend_schema(tags=["hotline"], summary="One ticket", responses=TicketSerializer)
    def get(self, request, number):
        ticket = selectors.ticket_get_for_user(request.user, number)
        if ticket is None:
            raise Http404
        return Response(ticket_row(ticket))


ACTIONS = {
    "dispatch": lambda actor, t, v: services.ticket_dispatch(
        actor=actor, ticket=t, department_code=v["department"]
    ),
    "accept": lambda actor, t, v: services.ticket_accept(actor=actor, ticket=t),
    "reply": lambda actor, t, v: services.ticket_reply(actor=actor, ticket=t, reply=v["reply"]),
    "return": lambda actor, t, v: services.ticket_return(actor=actor, ticket=t, reason=v["reason"]),
    "callback": lambda actor, t, v: services.ticket_callback(
        actor=actor, ticket=t, satisfaction=v["satisfaction"], note=v["note"]
    ),
    "reopen": lambda actor, t, v: services.ticket_reopen(actor=actor, ticket=t, reason=v["reason"]),
    "merge": lambda actor, t, v: services.ticket_merge(
        actor=actor, ticket=t, into=_ticket_or_400(actor.user, v["into"])
    ),
    "not-duplicate": lambda actor, t, v: services.ticket_not_duplicate(actor=actor, ticket=t),
    "supervise": lambda actor, t, v: services.ticket_supervise(actor=actor, ticket=t, note=v["note"]),
    "extension": lambda actor, t, v: services.ticket_extension_request(
        actor=actor, ticket=t, reason=v["reason"]
    ),
    "extension-approve": lambda actor, t, v: services.ticket_extension_decide(
        actor=actor, ticket=t, approve=True, note=v["note"]
    ),
    "extension-refuse": lambda actor, t, v: services.ticket_extension_decide(
        actor=actor, ticket=t, approve=False, note=v["note"]
    ),
}


def _ticket_or_400(user, number):
    ticket = selectors.ticket_get_for_user(user, (number or "").strip()[:24])
    if ticket is None:
        raise ValidationError({"into": [_("No such ticket.")]})
    return ticket


class TicketActionApi(APIView):
    """One step of the loop; the service checks the permission for the action and the ticket's department."""

    permission_classes = [RolePermission]
    required_permission = "ticket.view"

    @extend_schema(
        tags=["hotline"],
        summary="One step: dispatch, accept, reply, return, callback, reopen, merge, not-duplicate, supervise, "
        "extension, extension-approve, extension-refuse",
        operation_id="v1_tickets_action",
        parameters=[OpenApiParameter("action", str, OpenApiParameter.PATH, enum=list(ACTIONS))],
        request=TicketActionSerializer,
        responses=TicketSerializer,
    )
    def post(self, request, number, action):
        ticket = selectors.ticket_get_for_user(request.user, number)
        if ticket is None or action not in ACTIONS:
            raise Http404
        data = TicketActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = ACTIONS[action](actor_from_request(request), ticket, data.validated_data)
        ticket.refresh_from_db()
        return Response(ticket_row(ticket))


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


class FaqListApi(APIView):
    """The knowledge base: operators search it (``q``), its editors add entries."""

    permission_classes = [RolePermission]
    required_permissions = {"get": "ticket.take", "post": "faq.edit"}

    @extend_schema(
        tags=["hotline"],
        summary="Search the FAQ entries",
        parameters=[OpenApiParameter("q", str, description="what the caller asks (Chinese full text)")],
        responses=FaqSerializer(many=True),
    )
    def get(self, request):
        query = (request.query_params.get("q") or "").strip()[:200]
        entries = (
            selectors.faq_search(query, limit=20)
            if query
            else selectors.faq_list(include_inactive=False)[:200]
        )
        return Response(FaqSerializer(entries, many=True).data)

    @extend_schema(
        tags=["hotline"], summary="Add an FAQ entry", request=FaqSerializer, responses={201: FaqSerializer}
    )
    def post(self, request):
        data = FaqSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.faq_save(actor=actor_from_request(request), **data.validated_data)
        return Response(FaqSerializer(entry).data, status=status.HTTP_201_CREATED)
