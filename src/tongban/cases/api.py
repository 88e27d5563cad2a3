"""REST endpoints of the cases app (统一受理).

Applicants submit, track, withdraw and resubmit their cases; window clerks submit on an applicant's behalf and
accept or refuse acceptance (全市通办); staff act on the tasks of a case (claim, complete, return, ask for a
supplement). The task operations live here rather than in ``workflow.api`` because each one moves its case:
``cases`` drives ``workflow``, never the reverse. Views parse with a serializer, call one service and
serialise the result; errors take the shape of ``tongban.api.exceptions``.
"""

from __future__ import annotations

import base64
import binascii

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import FileResponse, Http404
from django.http.request import RawPostDataException
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, renderers, serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser, get_encoding
from rest_framework.response import Response
from rest_framework.utils.json import strict_constant
from rest_framework.views import APIView

from tongban.catalog import selectors as catalog_selectors
from tongban.core.audit import audit_record
from tongban.core.pagination import KeysetPagination
from tongban.core.parsers import loads_limited, parse_error
from tongban.core.rows import date_text, datetime_text, query_filters
from tongban.identity.permissions import RolePermission
from tongban.identity.selectors import (
    actor_from_request,
    is_staff_user,
    organisation_list_for_user,
    organisations_for,
    person_for,
    person_get_by_resident_id,
    staff_for,
)
from tongban.workflow import selectors as workflow_selectors
from tongban.workflow.api import DepartmentNameSerializer, TaskSerializer
from tongban.workflow.models import Task

from . import selectors, services, signing
from .models import Case

MATERIAL_PREFIX = "material."
RECEIPT_URL = "/cases/{number}/receipt.pdf"
TRACKING_URL = "/cases/{number}/"
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "maxLength": 64},
    location=OpenApiParameter.HEADER,
    description="Any unique string (≤ 64 characters) per application: a retried request with the same key "
    "and the same body returns the case made the first time (200) instead of making a second one; the same "
    "key with a different body is a 409 `idempotency_key_reused`.",
)
SIGNATURE_HEADERS = [
    OpenApiParameter(
        signing.HEADER_SERIAL,
        {"type": "string", "maxLength": 40},
        location=OpenApiParameter.HEADER,
        description="法人一证通: the serial number (hex) of the agent certificate the submission is signed with; "
        f"with `{signing.HEADER_SIGNATURE}`, for an application made for an enterprise.",
    ),
    OpenApiParameter(
        signing.HEADER_SIGNATURE,
        {"type": "string", "maxLength": 200},
        location=OpenApiParameter.HEADER,
        description="The agent's ECDSA P-256 / SHA-256 signature (base64 DER) over the request body's bytes as "
        "sent (JSON), or, for multipart/form-data, over the canonical form text of `cases/signing.py` (fields "
        "and each file's name, size and SHA-256). Checked before the case is made (a refusal is a 400 on "
        "`signature`, nothing written) and kept with the case; staff see it verified.",
    ),
]
SUBMIT_DESCRIPTION = (
    "Send JSON, or multipart/form-data with `form_data` as a JSON string and each material as a file field "
    "named `material.<code>` (PDF, JPEG or PNG, up to 20 MB). In JSON, materials go in `materials` as "
    "`{<code>: {filename, content_type, content (base64)}}`; a JSON body may be up to "
    f"{settings.TONGBAN_API_JSON_SUBMISSION_MAX_MB} MB (larger is a 413 `request_too_large`). Invalid input "
    "gets 400 with one message list per form field and per `materials.<code>`, and nothing is written."
)


class SubmissionTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


class SubmissionJSONParser(BaseParser):
    """JSON for the endpoints that take base64 materials, up to ``TONGBAN_API_JSON_SUBMISSION_MAX_MB``.

    DRF's own JSON parser reads through ``request.body``, which stops at ``DATA_UPLOAD_MAX_MEMORY_SIZE``
    (2.5 MB, kept for every other request), far below a 20 MB material once encoded. This one reads the
    stream itself up to its own limit and refuses a larger body in the API's error shape.
    """

    media_type = "application/json"
    renderer_class = renderers.JSONRenderer

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        limit = settings.TONGBAN_API_JSON_SUBMISSION_MAX_MB * 1024 * 1024
        request = parser_context.get("request")
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        except ValueError:
            declared = 0
        body = b"" if declared > limit else stream.read(limit + 1)
        if declared > limit or len(body) > limit:
            raise SubmissionTooLarge(
                _(
                    "The request is larger than %(mb)s MB. Send large materials as multipart files "
                    "(material.<code>, up to 20 MB each)."
                )
                % {"mb": settings.TONGBAN_API_JSON_SUBMISSION_MAX_MB}
            )
        try:
            return loads_limited(body.decode(get_encoding(parser_context)), parse_constant=strict_constant)
        except ValueError as exc:  # also nesting deeper than TONGBAN_API_JSON_MAX_DEPTH
            raise parse_error(exc) from exc


SUBMISSION_PARSERS = [SubmissionJSONParser, MultiPartParser, FormParser]

# --- input ---------------------------------------------------------------------------------------------------


@extend_schema_field({"type": "object", "additionalProperties": True})
class JSONObjectField(serializers.Field):
    """A JSON object; in a multipart request, a string holding one."""

    default_error_messages = {"invalid": _("Give the form as a JSON object of fields.")}

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = loads_limited(data)
            except ValueError:
                self.fail("invalid")
        if not isinstance(data, dict):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class EncodedFileSerializer(serializers.Serializer):
    """A material file inside a JSON request."""

    filename = serializers.CharField(max_length=200)
    content_type = serializers.CharField(max_length=100)
    content = serializers.CharField(help_text=_("The file's bytes in base64."))


def _decode_materials(encoded: dict) -> dict:
    files, errors = {}, {}
    for code, value in encoded.items():
        try:
            content = base64.b64decode(value["content"], validate=True)
        except (binascii.Error, ValueError):
            errors[f"materials.{code}"] = [_("The content is not valid base64.")]
            continue
        files[code] = SimpleUploadedFile(value["filename"], content, content_type=value["content_type"])
    if errors:
        raise serializers.ValidationError(errors)
    return files


def uploads_from(request) -> dict:
    """Material files sent as multipart fields ``material.<code>``, by material code."""
    return {
        name[len(MATERIAL_PREFIX) :]: upload
        for name, upload in request.FILES.items()
        if name.startswith(MATERIAL_PREFIX)
    }


class MaterialsInputSerializer(serializers.Serializer):
    """Materials of a JSON request, merged with the multipart files the view passes in ``uploads``."""

    materials = serializers.DictField(
        child=EncodedFileSerializer(),
        required=False,
        help_text=_("JSON only: materials by code. In multipart, send files named material.<code>."),
    )

    def validate(self, attrs):
        files = _decode_materials(attrs.pop("materials", {}))
        files.update(self.context.get("uploads") or {})
        attrs["files"] = files
        return attrs


class CaseSubmitSerializer(MaterialsInputSerializer):
    service_type = serializers.ChoiceField(choices=["item", "bundle"])
    service_code = serializers.CharField(max_length=64)
    form_data = JSONObjectField(help_text=_("The application form: {field: value}."))
    applicant_organisation = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=18,
        help_text=_("Enterprise agents: the unified social credit code of the organisation that applies."),
    )

    def _service(self, attrs):
        code = attrs["service_code"].strip()
        if attrs["service_type"] == "bundle":
            service = catalog_selectors.bundle_get(code)
        else:
            service = catalog_selectors.item_get(code)
        if service is None:
            raise serializers.ValidationError({"service_code": [_("No published service has this code.")]})
        return service

    def validate(self, attrs):
        attrs = super().validate(attrs)
        attrs["service"] = self._service(attrs)
        code = (attrs.pop("applicant_organisation", "") or "").strip().upper()
        attrs["organisation"] = None
        if code:
            organisation = organisations_for(self.context["user"]).filter(credit_code=code).first()
            if organisation is None:
                raise serializers.ValidationError(
                    {"applicant_organisation": [_("You do not act for an organisation with this code.")]}
                )
            attrs["organisation"] = organisation
        return attrs


class WindowSubmitSerializer(CaseSubmitSerializer):
    applicant_organisation = None
    applicant_resident_id = serializers.CharField(required=False, allow_blank=True, max_length=18)
    applicant_credit_code = serializers.CharField(required=False, allow_blank=True, max_length=18)
    window_checked = serializers.ListField(
        child=serializers.SlugField(max_length=64),
        required=False,
        default=list,
        help_text=_(
            "Codes of the materials whose originals the clerk checked at the window (repeat the field "
            "in multipart)."
        ),
    )

    def validate(self, attrs):
        attrs = MaterialsInputSerializer.validate(self, attrs)
        attrs["service"] = self._service(attrs)
        resident_id = (attrs.pop("applicant_resident_id", "") or "").strip().upper()
        credit_code = (attrs.pop("applicant_credit_code", "") or "").strip().upper()
        attrs["person"] = attrs["organisation"] = None
        if bool(resident_id) == bool(credit_code):
            raise serializers.ValidationError(
                {"applicant": [_("Give the applicant's resident ID or credit code (one of them).")]}
            )
        if resident_id:
            attrs["person"] = person_get_by_resident_id(resident_id)
            if attrs["person"] is None:
                raise serializers.ValidationError(
                    {"applicant_resident_id": [_("No person with this resident ID is registered.")]}
                )
        else:
            attrs["organisation"] = (
                organisation_list_for_user(for_user=self.context["user"], search=credit_code)
                .filter(credit_code=credit_code)
                .first()
            )
            if attrs["organisation"] is None:
                raise serializers.ValidationError(
                    {"applicant_credit_code": [_("No organisation with this credit code is registered.")]}
                )
        return attrs


class CaseResubmitSerializer(MaterialsInputSerializer):
    form_data = JSONObjectField(
        required=False, help_text=_("The corrected form fields only: {field: value}.")
    )


# Limits the services enforce are stated here too, so that the schema documents them (non-blank reasons: the
# services' own checks stay, for every other caller).
class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text=_("Required: why."))


class RefusalSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    basis = serializers.CharField(max_length=2000, help_text=_("The legal basis."))


class TaskCompleteSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[Task.Decision.APPROVE, Task.Decision.REJECT])
    opinion = serializers.CharField(allow_blank=True, required=False, default="", max_length=4000)
    basis = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        max_length=2000,
        help_text=_("The legal basis; required to refuse."),
    )
    revision = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text=_("The task's revision as read; a stale one gets 409 task_changed."),
    )


class TaskReturnSerializer(serializers.Serializer):
    opinion = serializers.CharField(max_length=4000, help_text=_("Required: why the case goes back."))
    revision = serializers.IntegerField(required=False, min_value=0)


class SupplementMaterialInputSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=64)
    reason = serializers.CharField(max_length=500)


class SupplementFieldInputSerializer(serializers.Serializer):
    field = serializers.CharField(max_length=100)
    reason = serializers.CharField(max_length=500)


class SupplementRequestInputSerializer(serializers.Serializer):
    materials = SupplementMaterialInputSerializer(many=True, required=False, default=list)
    fields = SupplementFieldInputSerializer(many=True, required=False, default=list)
    note = serializers.CharField(allow_blank=True, required=False, default="", max_length=2000)


# --- output --------------------------------------------------------------------------------------------------


class CaseSummarySerializer(serializers.Serializer):
    number = serializers.CharField()
    title = serializers.CharField()
    service_type = serializers.SerializerMethodField()
    service_code = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=Case.Status.choices)
    status_label = serializers.CharField(source="get_status_display")
    channel = serializers.ChoiceField(choices=Case.Channel.choices)
    applicant_name = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    promised_limit_days = serializers.IntegerField()
    due_date = serializers.DateField(allow_null=True)
    warning = serializers.CharField(allow_blank=True)
    receipt_url = serializers.SerializerMethodField(help_text=_("The receipt (受理回执) as PDF."))
    tracking_url = serializers.SerializerMethodField(help_text=_("The case page; the receipt's QR code."))

    def get_service_type(self, case) -> str:
        return "bundle" if case.bundle_id else "item"

    def get_service_code(self, case) -> str:
        return case.service.code

    def get_receipt_url(self, case) -> str:
        return RECEIPT_URL.format(number=case.number)

    def get_tracking_url(self, case) -> str:
        return TRACKING_URL.format(number=case.number)


def case_rows(cases) -> list[dict]:
    """What :class:`CaseSummarySerializer` gives for a page of ``cases`` (instances loaded with
    ``CASE_ROW_FIELDS``, or the named tuples of the list pages), made directly: services named from the per-process
    reference table instead of joins, dates and times as DRF's fields give them (``core.rows``: time zone, ISO
    8601). DRF's field-by-field machinery was a third of a list request's CPU; a test holds the two equal."""
    refs = selectors.list_references()
    items, bundles = refs["item"], refs["bundle"]
    moment, day = datetime_text(), date_text()
    labels = {value: str(label) for value, label in Case.Status.choices}
    rows = []
    for case in cases:
        number, status = case.number, case.status
        rows.append(
            {
                "number": number,
                "title": case.title,
                "service_type": "bundle" if case.bundle_id else "item",
                "service_code": bundles.get(case.bundle_id) or items.get(case.item_id) or "",
                "status": status,
                "status_label": labels.get(status, status),
                "channel": case.channel,
                "applicant_name": case.applicant_name,
                "submitted_at": moment(case.submitted_at),
                "accepted_at": moment(case.accepted_at),
                "closed_at": moment(case.closed_at),
                "promised_limit_days": case.promised_limit_days,
                "due_date": day(case.due_date),
                "warning": case.warning,
                "receipt_url": RECEIPT_URL.format(number=number),
                "tracking_url": TRACKING_URL.format(number=number),
            }
        )
    return rows


class CaseStepSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    label = serializers.CharField(source="display_label")
    department = DepartmentNameSerializer(allow_null=True)
    role = serializers.CharField(allow_blank=True)
    actor = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True)
    awaiting = serializers.CharField(allow_blank=True)


class CaseMaterialSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    item_code = serializers.CharField()
    code = serializers.CharField()
    name = serializers.CharField()
    origin = serializers.CharField()
    trust = serializers.CharField()
    filename = serializers.CharField(allow_blank=True)
    content_type = serializers.CharField(allow_blank=True)
    size = serializers.IntegerField()
    sha256 = serializers.CharField(allow_blank=True)
    reference = serializers.CharField(allow_blank=True)
    file_url = serializers.SerializerMethodField(
        help_text=_("Only for the applicant and the staff working the case; null for anyone else.")
    )

    def get_file_url(self, material) -> str | None:
        if not material.file or not self.context.get("can_download"):
            return None
        return reverse("api:cases-api:case-material-file", args=[self.context["number"], material.pk])


class CaseTaskSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    department = DepartmentNameSerializer()
    role = serializers.CharField()
    state = serializers.CharField()
    state_label = serializers.CharField(source="get_state_display")
    decision = serializers.CharField(allow_blank=True)
    due_date = serializers.DateField(allow_null=True)
    warning = serializers.CharField(allow_blank=True)
    completed_at = serializers.DateTimeField(allow_null=True)


class SupplementMaterialSerializer(serializers.Serializer):
    item = serializers.CharField()
    code = serializers.CharField()
    name = serializers.CharField()
    reason = serializers.CharField()


class SupplementFieldSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    reason = serializers.CharField()


class SupplementSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    requested_at = serializers.DateTimeField(source="created_at")
    department = DepartmentNameSerializer()
    requested_by = serializers.CharField()
    materials = SupplementMaterialSerializer(many=True)
    fields = SupplementFieldSerializer(many=True)
    note = serializers.CharField(allow_blank=True)
    answered_at = serializers.DateTimeField(allow_null=True)


class ResultSerializer(serializers.Serializer):
    item = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    licence_type = serializers.CharField(allow_blank=True)
    number = serializers.CharField()
    department = serializers.CharField()
    issued_at = serializers.DateTimeField()


class MeasuresSerializer(serializers.Serializer):
    natural_days = serializers.IntegerField(allow_null=True)
    working_days = serializers.IntegerField(allow_null=True)
    paused_working_days = serializers.IntegerField()
    visits = serializers.IntegerField()
    materials_uploaded = serializers.IntegerField()
    steps = serializers.IntegerField()
    departments_involved = serializers.ListField(child=serializers.CharField())


class CaseDetailSerializer(CaseSummarySerializer):
    """A case with its timeline, materials, tasks, open supplement request, result and measures."""

    lead_department = DepartmentNameSerializer()
    accepting_department = DepartmentNameSerializer(allow_null=True)
    jurisdiction_district = serializers.CharField(
        source="jurisdiction_district.code", allow_null=True, default=None
    )
    legal_limit_days = serializers.IntegerField()
    form_data = JSONObjectField()
    rejection_reason = serializers.CharField(allow_blank=True)
    rejection_basis = serializers.CharField(allow_blank=True)
    withdrawal_reason = serializers.CharField(allow_blank=True)
    timeline = serializers.SerializerMethodField()
    materials = serializers.SerializerMethodField()
    tasks = serializers.SerializerMethodField()
    supplement = serializers.SerializerMethodField(help_text=_("The open supplement request (补正), if any."))
    result = ResultSerializer(many=True)
    measures = serializers.SerializerMethodField()

    @extend_schema_field(CaseStepSerializer(many=True))
    def get_timeline(self, case):
        return CaseStepSerializer(selectors.case_timeline(case), many=True).data

    @extend_schema_field(CaseMaterialSerializer(many=True))
    def get_materials(self, case):
        return CaseMaterialSerializer(
            selectors.case_materials(case), many=True, context={**self.context, "number": case.number}
        ).data

    @extend_schema_field(CaseTaskSummarySerializer(many=True))
    def get_tasks(self, case):
        return CaseTaskSummarySerializer(workflow_selectors.tasks_for_case(case.pk), many=True).data

    @extend_schema_field(SupplementSerializer(allow_null=True))
    def get_supplement(self, case):
        supplement = selectors.case_open_supplement(case)
        return SupplementSerializer(supplement).data if supplement is not None else None

    @extend_schema_field(MeasuresSerializer)
    def get_measures(self, case):
        return MeasuresSerializer(case).data


class TaskActionResultSerializer(serializers.Serializer):
    task = TaskSerializer(allow_null=True)
    case = CaseSummarySerializer(allow_null=True)


class SupplementResultSerializer(TaskActionResultSerializer):
    supplement = SupplementSerializer()


class CaseFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Case.Status.choices, required=False)
    q = serializers.CharField(
        required=False, max_length=64, help_text=_("Staff: part of a case number or title.")
    )


# --- helpers -------------------------------------------------------------------------------------------------


def _case_or_404(user, number: str) -> Case:
    case = selectors.case_get_for_user(user, number)
    if case is None:
        raise Http404
    return case


def _detail(request, case: Case) -> dict:
    user = request.user
    can_download = selectors.case_is_applicant(user, case) or is_staff_user(user)
    return CaseDetailSerializer(case, context={"request": request, "can_download": can_download}).data


def _idempotency_key(request) -> str:
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if len(key) > 64:  # cut short, two keys could meet: refuse instead
        raise serializers.ValidationError(
            {"Idempotency-Key": [_("Give an Idempotency-Key of at most 64 characters.")]}
        )
    return key


def _submitted(case: Case) -> Response:
    """201 with the new case, or 200 when the Idempotency-Key replayed an earlier submission."""
    replayed = getattr(case, "replayed", False)
    return Response(
        CaseSummarySerializer(case).data, status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED
    )


def _task_result(request, task_id, *, supplement=None) -> dict:
    """The task as it is now with its case, after an operation on it."""
    task = workflow_selectors.task_get_for_user(request.user, task_id)
    case = selectors.case_get_for_user(request.user, task.case_number) if task is not None else None
    body = {
        "task": TaskSerializer(task).data if task is not None else None,
        "case": CaseSummarySerializer(case).data if case is not None else None,
    }
    if supplement is not None:
        body["supplement"] = SupplementSerializer(supplement).data
    return body


def _acting_on_task(operation, **kwargs):
    """Run a task operation; a task id that does not exist is a 404 (one of another department a 403)."""
    try:
        return operation(**kwargs)
    except Task.DoesNotExist as exc:
        raise Http404 from exc


ERRORS = {
    400: OpenApiResponse(description="Invalid input: field messages under `errors`."),
    403: OpenApiResponse(description="Not signed in, or not allowed."),
    404: OpenApiResponse(description="No such case, or not yours to see."),
    409: OpenApiResponse(description="The case or task is not in a state for this (`code` says why)."),
}

SUBMIT_CONFLICT = OpenApiResponse(
    description="`idempotency_key_reused`: this Idempotency-Key was already used with a different body."
)
SUBMIT_TOO_LARGE = OpenApiResponse(description="`request_too_large`: a JSON body above the limit.")

# --- applicant -----------------------------------------------------------------------------------------------


class CaseListSubmitApi(ListAPIView):
    """My cases (an applicant's own; staff: the cases their department may see), and applying for a service."""

    permission_classes = [RolePermission]
    # Listing: any signed-in user, the selectors decide which cases. Submitting: citizens and agents.
    required_permissions = {"get": None, "post": "portal.apply"}
    parser_classes = SUBMISSION_PARSERS
    serializer_class = CaseSummarySerializer
    pagination_class = (
        KeysetPagination  # newest first, a cursor to the next page, no total (docs/api-cases.md)
    )
    keyset = selectors.CASE_KEYSET

    @extend_schema(
        summary="My cases",
        parameters=[CaseFilterSerializer],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = query_filters(CaseFilterSerializer, self.request.query_params)
        status_filter = filters.get("status")
        user = self.request.user
        if staff_for(user) is not None:
            pages = selectors.case_page_for_staff(
                user, status=status_filter, search=filters.get("q"), related=False
            )
            return pages if pages is not None else Case.objects.none()
        return selectors.case_page_for_applicant(user, status=status_filter)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(case_rows(page))

    @extend_schema(
        summary="Apply for a service",
        description=SUBMIT_DESCRIPTION,
        parameters=[IDEMPOTENCY_HEADER, *SIGNATURE_HEADERS],
        request={
            "application/json": CaseSubmitSerializer,
            "multipart/form-data": CaseSubmitSerializer,
        },
        responses={
            201: OpenApiResponse(CaseSummarySerializer, description="The case was made."),
            200: OpenApiResponse(
                CaseSummarySerializer, description="A replay of an earlier Idempotency-Key."
            ),
            400: ERRORS[400],
            403: ERRORS[403],
            409: SUBMIT_CONFLICT,
            413: SUBMIT_TOO_LARGE,
        },
        examples=[
            OpenApiExample(
                "Newborn bundle (JSON)",
                request_only=True,
                media_type="application/json",
                value={
                    "service_type": "bundle",
                    "service_code": "newborn",
                    "form_data": {"baby_name": "李小明", "birth_date": "2026-11-20"},
                    "materials": {
                        "parents-marriage-certificate": {
                            "filename": "marriage.pdf",
                            "content_type": "application/pdf",
                            "content": "JVBERi0xLjQK",
                        }
                    },
                },
            )
        ],
    )
    def post(self, request):
        key = _idempotency_key(request)
        signed_body = _signed_body(request)  # before the body is parsed
        submission = CaseSubmitSerializer(
            data=request.data, context={"user": request.user, "uploads": uploads_from(request)}
        )
        submission.is_valid(raise_exception=True)
        data = submission.validated_data
        organisation = data["organisation"]
        actor = actor_from_request(request)
        case = services.case_submit(
            actor=actor,
            on_created=_api_signature_keeper(request, actor, organisation, signed_body),
            service=data["service"],
            form_data=data["form_data"],
            files=data["files"],
            applicant_person=None if organisation else person_for(request.user),
            applicant_organisation=organisation,
            channel=Case.Channel.API,
            idempotency_key=key,
        )
        return _submitted(case)


def _signed_body(request) -> str | None:
    """The JSON body as sent, when the request is signed (法人一证通); read before DRF parses it."""
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    if not request.headers.get(signing.HEADER_SIGNATURE) or not content_type.endswith("json"):
        return None  # a form (multipart or urlencoded): signed as its canonical text
    try:
        return request.body.decode("utf-8")
    except (UnicodeDecodeError, RawPostDataException) as exc:
        raise exceptions.ValidationError({"signature": [_("A signed body must be UTF-8 JSON.")]}) from exc


def _api_signature_keeper(request, actor, organisation, signed_body: str | None) -> list:
    signature = (request.headers.get(signing.HEADER_SIGNATURE) or "").strip()
    if not signature:
        return []
    registered = signing.signer()
    if registered is None:
        raise exceptions.ValidationError({"signature": [_("Signed submissions are not accepted here.")]})
    payload = (
        signing.form_canonical(request._request.POST, request._request.FILES)
        if signed_body is None
        else signed_body
    )
    return [
        registered.prepare(
            actor=actor,
            organisation=organisation,
            payload=payload,
            serial=request.headers.get(signing.HEADER_SERIAL) or "",
            signature=signature,
            address=get_client_ip_address(request._request) or "",
        )
    ]


class CaseDetailApi(APIView):
    """A case with its timeline (each step, department, handler role, time, and what is awaited)."""

    permission_classes = [RolePermission]
    required_permission = None  # any signed-in user; the selector answers 404 for cases not theirs to see

    @extend_schema(
        summary="A case", responses={200: CaseDetailSerializer, 403: ERRORS[403], 404: ERRORS[404]}
    )
    def get(self, request, number):
        return Response(_detail(request, _case_or_404(request.user, number)))


class CaseMaterialFileApi(APIView):
    """The file of a material of a case, for the applicant and the staff who may see the case."""

    permission_classes = [RolePermission]
    required_permission = None  # the case selector decides; a staff read is audited

    @extend_schema(
        summary="A material's file",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: ERRORS[404]},
    )
    def get(self, request, number, material_id):
        case = _case_or_404(request.user, number)
        material = selectors.case_materials(case, include_superseded=True).filter(pk=material_id).first()
        if material is None or not material.file:
            raise Http404
        if not selectors.case_is_applicant(request.user, case):
            if not is_staff_user(request.user):
                raise Http404
            # A staff member opening an applicant's document is a read of personal data: on the record.
            with transaction.atomic():
                audit_record(
                    actor=actor_from_request(request),
                    action="case.material_read",
                    subject_type="case_material",
                    subject_id=str(material.pk),
                    case_id=str(case.pk),
                    purpose="case handling",
                    details={"number": case.number, "code": material.code},
                )
        return FileResponse(
            material.file.open("rb"),
            as_attachment=True,
            filename=material.filename or material.file.name.rsplit("/", 1)[-1],
            content_type=material.content_type or "application/octet-stream",
        )


class CaseWithdrawApi(APIView):
    """The applicant withdraws a case that has not closed, with the reason; its tasks are cancelled."""

    permission_classes = [RolePermission]
    required_permission = "portal.apply"

    @extend_schema(
        summary="Withdraw a case",
        request=ReasonSerializer,
        responses={200: CaseDetailSerializer, **ERRORS},
    )
    def post(self, request, number):
        case = _case_or_404(request.user, number)
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_withdraw(
            actor=actor_from_request(request), case=case, reason=data.validated_data["reason"]
        )
        return Response(_detail(request, _case_or_404(request.user, case.number)))


class CaseResubmitApi(APIView):
    """The applicant answers the open supplement request (补正) with everything it lists."""

    permission_classes = [RolePermission]
    required_permission = "portal.apply"
    parser_classes = SUBMISSION_PARSERS

    @extend_schema(
        summary="Answer a supplement request",
        description="Like applying: `form_data` holds the corrected fields, materials are `material.<code>` "
        "files (multipart) or base64 in `materials` (JSON).",
        request={
            "application/json": CaseResubmitSerializer,
            "multipart/form-data": CaseResubmitSerializer,
        },
        responses={200: CaseDetailSerializer, **ERRORS},
    )
    def post(self, request, number):
        case = _case_or_404(request.user, number)
        data = CaseResubmitSerializer(data=request.data, context={"uploads": uploads_from(request)})
        data.is_valid(raise_exception=True)
        case = services.case_resubmit(
            actor=actor_from_request(request),
            case=case,
            form_data=data.validated_data.get("form_data") or {},
            files=data.validated_data["files"],
        )
        return Response(_detail(request, _case_or_404(request.user, case.number)))


# --- window (一窗) ----------------------------------------------------------------------------------------------


class WindowCaseSubmitApi(APIView):
    """A window clerk submits on an applicant's behalf at any service centre (全市通办); accepted at once."""

    permission_classes = [RolePermission]
    required_permission = "case.accept"
    parser_classes = SUBMISSION_PARSERS

    @extend_schema(
        summary="Submit at a window",
        description=SUBMIT_DESCRIPTION
        + " Name the applicant by `applicant_resident_id` or `applicant_credit_code`; `window_checked` lists "
        "the materials whose originals were checked at the window (no upload needed for those).",
        parameters=[IDEMPOTENCY_HEADER],
        request={
            "application/json": WindowSubmitSerializer,
            "multipart/form-data": WindowSubmitSerializer,
        },
        responses={
            201: OpenApiResponse(CaseSummarySerializer, description="The case was made and accepted."),
            200: OpenApiResponse(
                CaseSummarySerializer, description="A replay of an earlier Idempotency-Key."
            ),
            400: ERRORS[400],
            403: ERRORS[403],
            409: SUBMIT_CONFLICT,
            413: SUBMIT_TOO_LARGE,
        },
    )
    def post(self, request):
        key = _idempotency_key(request)
        submission = WindowSubmitSerializer(
            data=request.data, context={"user": request.user, "uploads": uploads_from(request)}
        )
        submission.is_valid(raise_exception=True)
        data = submission.validated_data
        case = services.case_submit(
            actor=actor_from_request(request),
            service=data["service"],
            form_data=data["form_data"],
            files=data["files"],
            applicant_person=data["person"],
            applicant_organisation=data["organisation"],
            channel=Case.Channel.WINDOW,
            idempotency_key=key,
            window_checked=data["window_checked"],
        )
        return _submitted(case)


def _case_for_acceptance(user, number: str) -> Case:
    """A case waiting for acceptance (any window may accept it), or one the clerk can see; else 404."""
    case = selectors.case_awaiting_acceptance(user).filter(number=number).first()
    return case if case is not None else _case_or_404(user, number)


class CaseAcceptApi(APIView):
    """Accept a case submitted for manual acceptance (受理): its clock starts and its process begins."""

    permission_classes = [RolePermission]
    required_permission = "case.accept"

    @extend_schema(summary="Accept a case", request=None, responses={200: CaseSummarySerializer, **ERRORS})
    def post(self, request, number):
        case = services.case_accept(
            actor=actor_from_request(request), case=_case_for_acceptance(request.user, number)
        )
        return Response(CaseSummarySerializer(case).data)


class CaseRefuseAcceptanceApi(APIView):
    """Refuse to accept a submitted case (不予受理) with the reason and its legal basis."""

    permission_classes = [RolePermission]
    required_permission = "case.accept"

    @extend_schema(
        summary="Refuse acceptance",
        request=RefusalSerializer,
        responses={200: CaseSummarySerializer, **ERRORS},
    )
    def post(self, request, number):
        case = _case_for_acceptance(request.user, number)
        data = RefusalSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_refuse_acceptance(
            actor=actor_from_request(request),
            case=case,
            reason=data.validated_data["reason"],
            basis=data.validated_data["basis"],
        )
        return Response(CaseSummarySerializer(case).data)


# --- tasks (协同办理) -------------------------------------------------------------------------------------------

TASK_ERRORS = {
    400: ERRORS[400],
    403: OpenApiResponse(description="Not staff of the task's department with the lane's role."),
    404: OpenApiResponse(description="No such task."),
    409: OpenApiResponse(description="Taken, completed or changed by someone else, or the case is waiting."),
}


class TaskClaimApi(APIView):
    """Take a task of my department in hand (签收)."""

    permission_classes = [RolePermission]
    required_permission = "task.work"  # the service checks the task's department and lane role

    @extend_schema(
        summary="Claim a task", request=None, responses={200: TaskActionResultSerializer, **TASK_ERRORS}
    )
    def post(self, request, task_id):
        _acting_on_task(services.case_task_claim, actor=actor_from_request(request), task_id=task_id)
        return Response(_task_result(request, task_id))


class TaskCompleteApi(APIView):
    """Complete a task: approve, or refuse with the reason and its legal basis; the case moves on or closes."""

    permission_classes = [RolePermission]
    required_permission = "task.work"

    @extend_schema(
        summary="Complete a task",
        request=TaskCompleteSerializer,
        responses={200: TaskActionResultSerializer, **TASK_ERRORS},
    )
    def post(self, request, task_id):
        data = TaskCompleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _acting_on_task(
            services.case_task_complete,
            actor=actor_from_request(request),
            task_id=task_id,
            decision=data.validated_data["decision"],
            opinion=data.validated_data["opinion"],
            basis=data.validated_data["basis"],
            revision=data.validated_data.get("revision"),
        )
        return Response(_task_result(request, task_id))


class TaskReturnApi(APIView):
    """Send the case back to the previous step (退回) with the reason."""

    permission_classes = [RolePermission]
    required_permission = "task.work"

    @extend_schema(
        summary="Return a task to the previous step",
        request=TaskReturnSerializer,
        responses={200: TaskActionResultSerializer, **TASK_ERRORS},
    )
    def post(self, request, task_id):
        data = TaskReturnSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _acting_on_task(
            services.case_task_return,
            actor=actor_from_request(request),
            task_id=task_id,
            opinion=data.validated_data["opinion"],
            revision=data.validated_data.get("revision"),
        )
        return Response(_task_result(request, task_id))


class TaskSupplementApi(APIView):
    """Ask the applicant, once, for everything missing (补正); the case and its clock wait."""

    permission_classes = [RolePermission]
    required_permission = "task.work"  # the service also requires case.supplement in the task's department

    @extend_schema(
        summary="Request a supplement",
        request=SupplementRequestInputSerializer,
        responses={200: SupplementResultSerializer, **TASK_ERRORS},
    )
    def post(self, request, task_id):
        data = SupplementRequestInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        supplement = _acting_on_task(
            services.case_supplement_request,
            actor=actor_from_request(request),
            task_id=task_id,
            materials=[dict(entry) for entry in data.validated_data["materials"]],
            fields=[dict(entry) for entry in data.validated_data["fields"]],
            note=data.validated_data["note"],
        )
        return Response(_task_result(request, task_id, supplement=supplement))
