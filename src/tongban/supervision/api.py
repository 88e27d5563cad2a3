"""REST endpoints of supervision: warnings, time-limit compliance, rectifications."""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from tongban.cases.models import Case
from tongban.cases.selectors import list_references
from tongban.core import calendar
from tongban.core.pagination import KeysetPagination
from tongban.core.rows import date_text, datetime_text, query_filters
from tongban.identity.permissions import RolePermission
from tongban.identity.selectors import actor_from_request

from . import selectors, services
from .models import Rectification, Warning

# --- serializers ------------------------------------------------------------------------------------------


class WarningSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.code")
    department_name = serializers.CharField(source="department.name_zh")

    class Meta:
        model = Warning
        fields = [
            "id",
            "level",
            "subject_type",
            "subject_id",
            "case_id",
            "case_number",
            "task_name",
            "department",
            "department_name",
            "due_date",
            "raised_at",
        ]


class WarningFilterSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=Warning.Level.choices, required=False)
    department = serializers.SlugField(required=False, max_length=64, help_text=_("A department code."))
    subject_type = serializers.ChoiceField(
        choices=Warning.SubjectType.choices,
        required=False,
        help_text=_("What was carded: a step, a case's time limit, a case's acceptance or a 12345 ticket."),
    )


class ComplianceRowSerializer(serializers.Serializer):
    department = serializers.CharField(source="department.code")
    department_name = serializers.CharField(source="department.name_zh")
    tasks_completed = serializers.IntegerField()
    tasks_on_time = serializers.IntegerField()
    tasks_on_time_pct = serializers.FloatField(allow_null=True)
    tasks_open = serializers.IntegerField()
    tasks_open_overdue = serializers.IntegerField()
    tasks_yellow = serializers.IntegerField()
    tasks_red = serializers.IntegerField()
    cases_completed = serializers.IntegerField()
    cases_on_time = serializers.IntegerField()
    cases_on_time_pct = serializers.FloatField(allow_null=True)


class ComplianceSerializer(serializers.Serializer):
    today = serializers.DateField()
    days = serializers.IntegerField()
    departments = ComplianceRowSerializer(many=True)


class ComplianceFilterSerializer(serializers.Serializer):
    days = serializers.IntegerField(
        min_value=1,
        max_value=366,
        required=False,
        default=selectors.COMPLIANCE_DAYS,
        help_text=_("Completions of the last N days."),
    )


class RectificationSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.code")
    department_name = serializers.CharField(source="department.name_zh")

    class Meta:
        model = Rectification
        fields = [
            "id",
            "case_id",
            "case_number",
            "rating_id",
            "department",
            "department_name",
            "reason",
            "due_date",
            "status",
            "response",
            "responded_by",
            "responded_at",
            "resolution",
            "closed_by",
            "closed_at",
            "created_at",
        ]


class RectificationFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Rectification.Status.choices, required=False)


class RectificationCloseSerializer(serializers.Serializer):
    resolution = serializers.CharField(max_length=2000)


class RectificationRespondSerializer(serializers.Serializer):
    response = serializers.CharField(max_length=2000)


class WatchedCaseSerializer(serializers.Serializer):
    """An open case under watch: where it stands against its time limit (no applicant's personal data)."""

    number = serializers.CharField()
    title = serializers.CharField()
    service_code = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=Case.Status.choices)
    status_label = serializers.CharField(source="get_status_display")
    lead_department = serializers.SerializerMethodField()
    lead_department_name = serializers.SerializerMethodField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)
    promised_limit_days = serializers.IntegerField()
    due_date = serializers.DateField(allow_null=True)
    warning = serializers.CharField(allow_blank=True, help_text=_('"", "yellow" or "red".'))

    # Named from the per-process reference table (the list query reads the case table alone).
    def get_service_code(self, case) -> str:
        refs = list_references()
        return refs["bundle"].get(case.bundle_id) or refs["item"].get(case.item_id) or ""

    def get_lead_department(self, case) -> str:
        return list_references()["department"].get(case.lead_department_id, ("", "", ""))[0]

    def get_lead_department_name(self, case) -> str:
        return list_references()["department"].get(case.lead_department_id, ("", "", ""))[1]


def watched_case_rows(cases) -> list[dict]:
    """What :class:`WatchedCaseSerializer` gives for ``cases`` (instances, or the named tuples of
    ``selectors.case_watch_page``), made directly: DRF's field-by-field machinery was a third of the request's CPU.
    Dates are formatted as DRF's fields do (``core.rows``: time zone, ISO 8601); a test holds the two equal."""
    refs = list_references()
    departments, items, bundles = refs["department"], refs["item"], refs["bundle"]
    moment, day = datetime_text(), date_text()
    labels = {value: str(label) for value, label in Case.Status.choices}
    none = ("", "", "")
    rows = []
    for case in cases:
        department = departments.get(case.lead_department_id, none)
        status = case.status
        rows.append(
            {
                "number": case.number,
                "title": case.title,
                "service_code": bundles.get(case.bundle_id) or items.get(case.item_id) or "",
                "status": status,
                "status_label": labels.get(status, status),
                "lead_department": department[0],
                "lead_department_name": department[1],
                "submitted_at": moment(case.submitted_at),
                "accepted_at": moment(case.accepted_at),
                "promised_limit_days": case.promised_limit_days,
                "due_date": day(case.due_date),
                "warning": case.warning,
            }
        )
    return rows


class WatchedCaseFilterSerializer(serializers.Serializer):
    warning = serializers.ChoiceField(choices=["yellow", "red"], required=False)
    department = serializers.SlugField(
        required=False, max_length=64, help_text=_("A department code (lead department).")
    )


# --- views ------------------------------------------------------------------------------------------------


class WarningListApi(ListAPIView):
    """Yellow warnings and red cards of the departments the caller watches, newest first."""

    permission_classes = [RolePermission]
    required_permission = "supervision.view"
    serializer_class = WarningSerializer

    @extend_schema(
        summary="Time-limit warnings",
        parameters=[WarningFilterSerializer],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = WarningFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        department = None
        if data.get("department"):
            department = selectors.departments_for(self.request.user).filter(code=data["department"]).first()
            if department is None:
                return Warning.objects.none()
        return selectors.warning_list(
            self.request.user,
            level=data.get("level"),
            department=department,
            subject_type=data.get("subject_type"),
        )


class WatchedCaseListApi(ListAPIView):
    """Open cases of the departments the caller watches, soonest due first (overdue ones at the top).

    Keyset pages (``next`` cursor, ``page_size`` up to 100, no total): see docs/api-cases.md.
    """

    permission_classes = [RolePermission]
    required_permission = "supervision.view"
    serializer_class = WatchedCaseSerializer
    pagination_class = KeysetPagination
    keyset = selectors.WATCH_KEYSET

    @extend_schema(
        summary="Open cases under watch",
        parameters=[WatchedCaseFilterSerializer],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(watched_case_rows(page))

    def get_queryset(self):
        data = query_filters(WatchedCaseFilterSerializer, self.request.query_params)
        department = None
        if data.get("department"):
            department = selectors.departments_for(self.request.user).filter(code=data["department"]).first()
            if department is None:
                return Case.objects.none()
        return selectors.case_watch_page(
            self.request.user, warning=data.get("warning"), department=department
        )


class ComplianceApi(APIView):
    """Per department: steps and cases completed in time, open steps, overdue ones and warnings now."""

    permission_classes = [RolePermission]
    required_permission = "supervision.view"

    @extend_schema(
        summary="Time-limit compliance by department",
        parameters=[ComplianceFilterSerializer],
        responses=ComplianceSerializer,
    )
    def get(self, request):
        filters = ComplianceFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        days = filters.validated_data["days"]
        today = calendar.today()
        rows = selectors.compliance_for(request.user, today=today, days=days)
        return Response(ComplianceSerializer({"today": today, "days": days, "departments": rows}).data)


class RectificationListApi(ListAPIView):
    """Rectifications of the departments the caller watches: open first, soonest due first."""

    permission_classes = [RolePermission]
    required_permission = "supervision.view"
    serializer_class = RectificationSerializer

    @extend_schema(summary="Rectifications", parameters=[RectificationFilterSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = RectificationFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.rectification_list(self.request.user, status=filters.validated_data.get("status"))


def _rectification(request, pk):
    rectification = selectors.rectification_get_for_user(request.user, pk)
    if rectification is None:
        raise Http404
    return rectification


class RectificationCloseApi(APIView):
    """A supervisor closes a rectification with its resolution."""

    permission_classes = [RolePermission]
    required_permission = "supervision.warn"

    @extend_schema(
        summary="Close a rectification",
        request=RectificationCloseSerializer,
        responses=RectificationSerializer,
    )
    def post(self, request, pk):
        rectification = _rectification(request, pk)
        body = RectificationCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.rectification_close(
            actor=actor_from_request(request),
            rectification=rectification,
            resolution=body.validated_data["resolution"],
        )
        return Response(RectificationSerializer(rectification).data)


class RectificationRespondApi(APIView):
    """The responsible department records its response to a rectification."""

    permission_classes = [RolePermission]
    required_permission = "rectification.handle"

    @extend_schema(
        summary="Respond to a rectification",
        request=RectificationRespondSerializer,
        responses=RectificationSerializer,
    )
    def post(self, request, pk):
        rectification = _rectification(request, pk)
        body = RectificationRespondSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.rectification_respond(
            actor=actor_from_request(request),
            rectification=rectification,
            response=body.validated_data["response"],
        )
        return Response(RectificationSerializer(rectification).data)
