"""REST endpoints of messaging: my inbox, marking a message read, my notification preferences.

Policy: ``required_permission = None`` (any signed-in user) because the data is the caller's own; the
selectors return only messages and preferences of the caller's person and of organisations they act for.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from tongban.identity.permissions import RolePermission
from tongban.identity.selectors import actor_from_request, organisations_for, person_for

from . import selectors, services
from .models import CHANNELS, TOPICS, Message


class MessageSerializer(serializers.ModelSerializer):
    recipient_type = serializers.SerializerMethodField()
    recipient_name = serializers.SerializerMethodField()
    read = serializers.BooleanField(source="is_read")

    class Meta:
        model = Message
        fields = [
            "id",
            "topic",
            "template_code",
            "subject",
            "body",
            "subject_en",
            "body_en",
            "link",
            "created_at",
            "read_at",
            "read",
            "recipient_type",
            "recipient_name",
        ]

    def get_recipient_type(self, message) -> str:
        return "person" if message.person_id else "organisation"

    def get_recipient_name(self, message) -> str:
        return message.person.name if message.person_id else message.organisation.name


class InboxListApi(ListAPIView):
    """My inbox: messages to me and to the organisations I act for, newest first (``?unread=1``: unread)."""

    permission_classes = [RolePermission]
    required_permission = None  # the caller's own messages only (selector)
    serializer_class = MessageSerializer

    def get_queryset(self):
        messages = selectors.message_list_for_user(self.request.user)
        if self.request.query_params.get("unread") in {"1", "true", "yes"}:
            messages = messages.filter(read_at__isnull=True)
        return messages

    @extend_schema(tags=["messaging"], summary="My inbox")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class InboxReadApi(APIView):
    """Mark one of my messages read."""

    permission_classes = [RolePermission]
    required_permission = None  # the caller's own messages only (selector)

    @extend_schema(
        tags=["messaging"], summary="Mark a message read", request=None, responses={200: MessageSerializer}
    )
    def post(self, request, message_id):
        message = selectors.message_get_for_user(request.user, message_id)
        if message is None:
            raise Http404
        message = services.message_read(actor=actor_from_request(request), message=message)
        return Response(MessageSerializer(message).data)


class PreferenceSerializer(serializers.Serializer):
    topic = serializers.ChoiceField(choices=list(TOPICS))
    channel = serializers.ChoiceField(choices=list(CHANNELS))
    enabled = serializers.BooleanField()
    locked = serializers.BooleanField(read_only=True, help_text=_("Cannot be switched off (the case inbox)."))


class PreferencesSerializer(serializers.Serializer):
    organisation = serializers.UUIDField(
        required=False, allow_null=True, help_text=_("An organisation you act for; empty: yourself.")
    )
    preferences = PreferenceSerializer(many=True)


NO_OWNER = OpenApiResponse(
    description="No person record behind the account (a staff account), or not an organisation I act for."
)


class NotificationPreferencesApi(APIView):
    """My notification preferences per topic and channel (``?organisation=<id>`` for an organisation I act
    for). PUT sends the (topic, channel, enabled) items to change; items not sent stay as they are."""

    permission_classes = [RolePermission]
    required_permission = None  # the caller's own settings only

    def _owner(self, request, organisation_id):
        if not organisation_id:
            person = person_for(request.user)
            if person is None:
                raise Http404
            return person, None
        try:
            organisation = organisations_for(request.user).filter(pk=organisation_id).first()
        except Exception as exc:  # a malformed id
            raise Http404 from exc
        if organisation is None:
            raise Http404
        return organisation, organisation

    def _answer(self, owner, organisation):
        items = [
            {"topic": row["topic"], **cell}
            for row in selectors.preference_table(owner)
            for cell in row["channels"]
        ]
        return Response(
            PreferencesSerializer(
                {"organisation": organisation.pk if organisation else None, "preferences": items}
            ).data
        )

    @extend_schema(
        tags=["messaging"],
        summary="My notification preferences",
        parameters=[OpenApiParameter("organisation", str, description="An organisation I act for (its id).")],
        responses={200: PreferencesSerializer, 404: NO_OWNER},
    )
    def get(self, request):
        owner, organisation = self._owner(request, request.query_params.get("organisation"))
        return self._answer(owner, organisation)

    @extend_schema(
        tags=["messaging"],
        summary="Change my notification preferences",
        request=PreferencesSerializer,
        responses={200: PreferencesSerializer, 404: NO_OWNER},
    )
    def put(self, request):
        serializer = PreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organisation_id = serializer.validated_data.get("organisation")
        owner, organisation = self._owner(request, organisation_id)
        values = {(p["topic"], p["channel"]): p["enabled"] for p in serializer.validated_data["preferences"]}
        try:
            services.preferences_set_many(
                actor=actor_from_request(request), values=values, organisation=organisation
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        return self._answer(owner, organisation)
