"""REST endpoints of the hotline's analytics: hotspots, spike alerts and blind spots.

Policy is declared on each view (``RolePermission`` with ``required_permission``): hotspots and spikes need
``supervision.view`` and count the caller's departments only (a supervisor's: the whole city); blind spots need
``evaluation.view`` (service designers, supervisors, department heads) and are city-wide. A bad ``days`` is a
400 with a field message.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from tongban.core import calendar
from tongban.identity.permissions import RolePermission

from . import analytics

MAX_DAYS = 366


class DaysSerializer(serializers.Serializer):
    days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_DAYS,
        required=False,
        default=analytics.HOTSPOT_DAYS,
        help_text=_("The last N days, today included (1-366)."),
    )


class SpikeDaysSerializer(DaysSerializer):
    days = serializers.IntegerField(
        min_value=1, max_value=MAX_DAYS, required=False, default=analytics.SPIKE_RECENT_DAYS
    )


class BlindSpotFilterSerializer(DaysSerializer):
    min_consultations = serializers.IntegerField(
        min_value=1, max_value=1_000_000, required=False, default=analytics.MIN_CONSULTATIONS
    )


class CountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class TopicCountSerializer(CountSerializer):
    topic = serializers.CharField(help_text=_('A topic code; "" for tickets without a topic.'))
    label = serializers.CharField()


class DepartmentCountSerializer(CountSerializer):
    department = serializers.CharField(
        allow_null=True, help_text=_("A department code; null: no department.")
    )
    name = serializers.CharField()


class DistrictCountSerializer(CountSerializer):
    district = serializers.CharField(allow_null=True, help_text=_("A district code; null: not given."))
    name = serializers.CharField()


class SeriesLineSerializer(serializers.Serializer):
    topic = serializers.CharField()
    label = serializers.CharField()
    total = serializers.IntegerField()
    counts = serializers.ListField(child=serializers.IntegerField(), help_text=_("Tickets a day, as `days`."))


class SeriesSerializer(serializers.Serializer):
    days = serializers.ListField(child=serializers.DateField())
    topics = SeriesLineSerializer(many=True)


class HotspotsSerializer(serializers.Serializer):
    today = serializers.DateField()
    days = serializers.IntegerField()
    since = serializers.DateField()
    total = serializers.IntegerField()
    topics = TopicCountSerializer(many=True)
    departments = DepartmentCountSerializer(many=True)
    districts = DistrictCountSerializer(many=True)
    series = SeriesSerializer()


class SpikeSerializer(serializers.Serializer):
    topic = serializers.CharField()
    topic_label = serializers.CharField()
    district = serializers.CharField(source="district.code")
    district_name = serializers.CharField()
    day = serializers.DateField()
    count = serializers.IntegerField(help_text=_("Tickets that day when the alert was raised."))
    baseline = serializers.FloatField(
        help_text=_("The usual level: mean tickets a day of the 28 days before.")
    )
    raised_at = serializers.DateTimeField()


class KnowledgeHitSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["faq", "item", "bundle"])
    code = serializers.CharField()
    name = serializers.CharField()
    url = serializers.CharField(allow_blank=True)


class BlindSpotSerializer(serializers.Serializer):
    topic = serializers.CharField()
    label = serializers.CharField()
    consultations = serializers.IntegerField()
    answered = serializers.IntegerField(help_text=_("Answered at first contact."))
    answered_pct = serializers.FloatField()
    with_faq = serializers.IntegerField(help_text=_("Answered with an FAQ entry."))
    with_guide = serializers.IntegerField(help_text=_("Pointed to a service guide."))
    with_knowledge = serializers.IntegerField(help_text=_("With an FAQ entry or a service guide."))
    samples = serializers.IntegerField(help_text=_("Typical questions searched in the knowledge base."))
    samples_answered = serializers.IntegerField(help_text=_("Of them, those it found an answer for."))
    found = KnowledgeHitSerializer(many=True)
    reasons = serializers.ListField(child=serializers.ChoiceField(choices=["missing", "unclear"]))
    explanations = serializers.ListField(child=serializers.CharField())


def _query(serializer_class, request) -> dict:
    filters = serializer_class(data=request.query_params)
    filters.is_valid(raise_exception=True)
    return filters.validated_data


class HotspotsApi(APIView):
    """Tickets by topic, department and district over the last days, and a daily series of the top topics."""

    permission_classes = [RolePermission]
    required_permission = "supervision.view"

    @extend_schema(
        tags=["hotline"],
        summary="Hotspots",
        parameters=[OpenApiParameter("days", int, description="The last N days, today included (1-366).")],
        responses=HotspotsSerializer,
    )
    def get(self, request):
        days = _query(DaysSerializer, request)["days"]
        result = analytics.hotspots(
            days=days, today=calendar.today(), departments=analytics.analytics_scope(request.user)
        )
        return Response(HotspotsSerializer(result).data)


class SpikeListApi(APIView):
    """Spike alerts of the last days, newest and biggest first."""

    permission_classes = [RolePermission]
    required_permission = "supervision.view"

    @extend_schema(
        tags=["hotline"],
        summary="Spike alerts",
        parameters=[OpenApiParameter("days", int, description="The last N days, today included (1-366).")],
        responses=SpikeSerializer(many=True),
    )
    def get(self, request):
        days = _query(SpikeDaysSerializer, request)["days"]
        alerts = analytics.spikes_recent(days, departments=analytics.analytics_scope(request.user))
        return Response(SpikeSerializer(alerts, many=True).data)


class BlindSpotListApi(APIView):
    """Topics with many consultations whose answer is missing from the knowledge base or unclear."""

    permission_classes = [RolePermission]
    required_permission = "evaluation.view"

    @extend_schema(
        tags=["hotline"],
        summary="Blind spots",
        parameters=[
            OpenApiParameter("days", int, description="The last N days, today included (1-366)."),
            OpenApiParameter(
                "min_consultations", int, description="List topics with at least this many consultations."
            ),
        ],
        responses=BlindSpotSerializer(many=True),
    )
    def get(self, request):
        values = _query(BlindSpotFilterSerializer, request)
        rows = analytics.blind_spots(days=values["days"], min_consultations=values["min_consultations"])
        return Response(BlindSpotSerializer(rows, many=True).data)
