"""REST endpoints of evaluation: rate a case, read its rating, and the summary by department."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from tongban.cases.selectors import case_get_for_user
from tongban.identity.permissions import RolePermission
from tongban.identity.selectors import actor_from_request

from . import selectors, services
from .models import Rating


class RatingSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.code")
    level_label = serializers.CharField(source="get_level_display")

    class Meta:
        model = Rating
        fields = [
            "id",
            "case_number",
            "department",
            "level",
            "level_label",
            "channel",
            "scores",
            "comment",
            "created_at",
        ]


class RatingSubmitSerializer(serializers.Serializer):
    level = serializers.IntegerField(
        min_value=1, max_value=5, help_text="1 非常不满意, 2 不满意, 3 基本满意, 4 满意, 5 非常满意"
    )
    scores = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=5),
        help_text=(
            "Online: efficiency, guide_accuracy, convenience, ease_of_use; "
            "at a window: efficiency, service_level, attitude; each 1-5."
        ),
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=500)


class DepartmentRatingsSerializer(serializers.Serializer):
    department = serializers.CharField(source="department.code")
    department_name = serializers.CharField(source="department.name_zh")
    count = serializers.IntegerField()
    average = serializers.FloatField()
    bad = serializers.IntegerField()
    distribution = serializers.DictField(child=serializers.IntegerField())


class RatingSummarySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    average = serializers.FloatField(allow_null=True)
    bad = serializers.IntegerField()
    distribution = serializers.DictField(child=serializers.IntegerField())
    departments = DepartmentRatingsSerializer(many=True)


class CaseRatingApi(APIView):
    """The applicant rates a completed case once (POST); the applicant or evaluators read the rating (GET)."""

    permission_classes = [RolePermission]
    required_permissions = {"get": None, "post": "portal.rate"}

    def _case(self, request, number):
        case = case_get_for_user(request.user, number)
        if case is None:
            raise Http404
        return case

    @extend_schema(summary="A case's rating", responses=RatingSerializer)
    def get(self, request, number):
        case = self._case(request, number)
        rating = selectors.rating_for_case(case)
        if rating is None:
            raise Http404
        if not selectors.rating_visible_to(request.user, rating, case):
            raise PermissionDenied
        return Response(RatingSerializer(rating).data)

    @extend_schema(
        summary="Rate a completed case (好差评)",
        request=RatingSubmitSerializer,
        responses={201: RatingSerializer},
    )
    def post(self, request, number):
        case = self._case(request, number)
        body = RatingSubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rating = services.rating_submit(
            actor=actor_from_request(request),
            case=case,
            level=body.validated_data["level"],
            scores=body.validated_data["scores"],
            comment=body.validated_data.get("comment", ""),
        )
        return Response(RatingSerializer(rating).data, status=status.HTTP_201_CREATED)


class RatingSummaryApi(APIView):
    """Ratings by department: count, average level and distribution, for those who may evaluate."""

    permission_classes = [RolePermission]
    required_permission = "evaluation.view"

    @extend_schema(summary="Ratings by department", responses=RatingSummarySerializer)
    def get(self, request):
        summary = selectors.rating_summary(request.user)
        return Response(RatingSummarySerializer(summary).data)
