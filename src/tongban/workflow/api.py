"""REST endpoints of the workflow app: department inboxes (待办) and BPMN process definitions.

The operations on a task (claim, complete, return, ask for a supplement) change the case too, so they live
with the case endpoints in ``cases.api``; ``workflow`` never drives a case.
"""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from tongban.core.pagination import KeysetPagination
from tongban.core.rows import date_text, datetime_text, query_filters
from tongban.identity.permissions import RolePermission
from tongban.identity.selectors import actor_from_request

from . import selectors, services
from .models import Task

MAX_PROCESS_BYTES = 1024 * 1024

# --- serializers ---------------------------------------------------------------------------------------------


class DepartmentNameSerializer(serializers.Serializer):
    code = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()


class TaskSerializer(serializers.Serializer):
    """A task in a department inbox; ``revision`` goes back with a completion to detect a stale view."""

    id = serializers.UUIDField()
    case_number = serializers.CharField()
    case_title = serializers.CharField()
    bpmn_id = serializers.CharField(help_text=_("The step's id in the process."))
    name = serializers.CharField()
    department = DepartmentNameSerializer()
    role = serializers.CharField()
    state = serializers.ChoiceField(choices=Task.State.choices)
    state_label = serializers.CharField(source="get_state_display")
    assignee = serializers.CharField(source="assignee.get_username", allow_null=True, default=None)
    claimed_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    decision = serializers.CharField(allow_blank=True)
    opinion = serializers.CharField(allow_blank=True)
    limit_days = serializers.IntegerField()
    due_date = serializers.DateField(allow_null=True)
    warning = serializers.CharField(allow_blank=True, help_text=_('"", "yellow" or "red".'))
    revision = serializers.IntegerField()
    created_at = serializers.DateTimeField()


def task_rows(tasks) -> list[dict]:
    """What :class:`TaskSerializer` gives for ``tasks`` (the named tuples of ``selectors.inbox_page_for``, with
    ``INBOX_RECORD_FIELDS``), made directly: an inbox page is 50 tasks of one index range, and DRF's field-by-field
    machinery (19 fields, a nested serializer) was a third of the request's CPU. Dates and times as DRF's fields
    give them (``core.rows``: time zone, ISO 8601); a test holds the two equal."""
    moment, day = datetime_text(), date_text()
    labels = {value: str(label) for value, label in Task.State.choices}
    rows = []
    for task in tasks:
        state = task.state
        rows.append(
            {
                "id": str(task.id),
                "case_number": task.case_number,
                "case_title": task.case_title,
                "bpmn_id": task.bpmn_id,
                "name": task.name,
                "department": {
                    "code": task.department__code,
                    "name_zh": task.department__name_zh,
                    "name_en": task.department__name_en,
                },
                "role": task.role,
                "state": state,
                "state_label": labels.get(state, state),
                "assignee": task.assignee__username if task.assignee_id is not None else None,
                "claimed_at": moment(task.claimed_at),
                "completed_at": moment(task.completed_at),
                "decision": task.decision,
                "opinion": task.opinion,
                "limit_days": task.limit_days,
                "due_date": day(task.due_date),
                "warning": task.warning,
                "revision": task.revision,
                "created_at": moment(task.created_at),
            }
        )
    return rows


class TaskFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=Task.State.choices, required=False)


class LaneSerializer(serializers.Serializer):
    name = serializers.CharField()
    department = serializers.CharField()
    role = serializers.CharField()
    district = serializers.BooleanField(
        help_text=_("Worked by the branch of the district with jurisdiction.")
    )


class UserTaskSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    lane = serializers.CharField()
    limit_days = serializers.IntegerField()


class ProcessDefinitionSerializer(serializers.Serializer):
    """One version of a process: its lanes (department roles) and user tasks."""

    key = serializers.CharField()
    version = serializers.IntegerField()
    name = serializers.CharField()
    process_id = serializers.CharField()
    checksum = serializers.CharField()
    lanes = serializers.SerializerMethodField()
    user_tasks = UserTaskSerializer(many=True)
    uploaded_by = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()

    @extend_schema_field(LaneSerializer(many=True))
    def get_lanes(self, definition):
        return [{"name": name, **lane} for name, lane in (definition.lanes or {}).items()]


class ProcessVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    checksum = serializers.CharField()
    uploaded_by = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class ProcessDetailSerializer(ProcessDefinitionSerializer):
    bpmn_xml = serializers.CharField()
    versions = ProcessVersionSerializer(many=True)


class ProcessUploadSerializer(serializers.Serializer):
    key = serializers.SlugField(max_length=64, help_text=_("The process key, e.g. newborn."))
    file = serializers.FileField(help_text=_("A BPMN 2.0 XML file."))

    def validate_file(self, upload):
        if upload.size > MAX_PROCESS_BYTES:
            raise serializers.ValidationError(_("The file is larger than 1 MB."))
        return upload


# --- inboxes -------------------------------------------------------------------------------------------------


class TaskListApi(ListAPIView):
    """My inbox: the open tasks of my department for the roles I hold (a department head sees them all)."""

    permission_classes = [RolePermission]
    required_permission = "task.work"
    serializer_class = TaskSerializer
    pagination_class = KeysetPagination  # soonest due first, a cursor to the next page, no total
    keyset = selectors.INBOX_KEYSET

    @extend_schema(
        summary="My inbox",
        parameters=[
            OpenApiParameter(
                "state",
                enum=[value for value, _label in Task.State.choices],
                description="Only tasks in this state (default: the open ones).",
            )
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        state = query_filters(TaskFilterSerializer, self.request.query_params).get("state")
        return selectors.inbox_page_for(self.request.user, states=[state] if state else None)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(task_rows(page))


class TaskDetailApi(APIView):
    """One task of my department (any task for city-wide supervisors); 404 for others."""

    permission_classes = [RolePermission]
    required_permission = "case.view"

    @extend_schema(
        summary="A task", responses={200: TaskSerializer, 404: OpenApiResponse(description="Not found")}
    )
    def get(self, request, task_id):
        task = selectors.task_get_for_user(request.user, task_id)
        if task is None:
            raise Http404
        return Response(TaskSerializer(task).data)


# --- process definitions -------------------------------------------------------------------------------------


class ProcessListUploadApi(APIView):
    """The processes (latest version of each key), and the upload of a new version of one.

    Declared as ``catalog.design`` (service designers): RolePermission names one permission per action, and
    platform administrators who also need this hold the service designer role as well.
    """

    permission_classes = [RolePermission]
    required_permissions = {"get": "catalog.design", "post": "catalog.design"}
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(summary="Process definitions", responses=ProcessDefinitionSerializer(many=True))
    def get(self, request):
        latest = {}
        for definition in selectors.definition_list():
            latest.setdefault(definition.key, definition)
        return Response(ProcessDefinitionSerializer(list(latest.values()), many=True).data)

    @extend_schema(
        summary="Upload a process version",
        request={"multipart/form-data": ProcessUploadSerializer},
        responses={
            201: OpenApiResponse(ProcessDefinitionSerializer, description="A new version was stored."),
            200: OpenApiResponse(
                ProcessDefinitionSerializer, description="Same content as the latest version."
            ),
            400: OpenApiResponse(description='A broken file: {"errors": {"bpmn": [reason]}}.'),
        },
    )
    def post(self, request):
        upload = ProcessUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        definition, created = services.definition_store(
            actor=actor_from_request(request),
            key=upload.validated_data["key"],
            xml=upload.validated_data["file"].read(),
        )
        return Response(
            ProcessDefinitionSerializer(definition).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ProcessDetailApi(APIView):
    """The latest version of a process with its BPMN, and the list of all its versions."""

    permission_classes = [RolePermission]
    required_permission = "catalog.design"

    @extend_schema(summary="A process definition", responses=ProcessDetailSerializer)
    def get(self, request, key):
        definition = selectors.definition_get(key)
        if definition is None:
            raise Http404
        definition.versions = list(selectors.definition_list().filter(key=key))
        return Response(ProcessDetailSerializer(definition).data)
