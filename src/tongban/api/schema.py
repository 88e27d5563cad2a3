"""The OpenAPI schema states every error an operation can answer, in the API's one error shape.

``AutoSchema`` (``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``) adds to each operation the refusals that its view's
policy makes possible, unless the operation declares that status itself (a 403 with the missing grant, a 413 with
the submission limit; one declared with a description only gets the error shape as its body):

* 400 ``invalid``/``parse_error``: the operation takes a body or query parameters;
* 401: an authentication that answers with a challenge (the API clients' bearer token: unknown or expired);
* 403: a permission class other than ``AllowAny`` (not signed in, no second factor, not allowed), or a session
  on an unsafe method (CSRF);
* 404: a path parameter (no such object, or not yours to see) or a page number;
* 409: a write (the object is not in a state for it);
* 413: a body (Django's 2.5 MB, the case submission's own limit);
* 429: a throttle;
* 503 ``database_unavailable``: every operation (the database connection was lost; nothing was saved; retry
  after ``Retry-After``).
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.permissions import AllowAny

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
BODIES = {"POST", "PUT", "PATCH"}


@extend_schema_field(
    {
        "oneOf": [
            {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "object"}]}},
            {"type": "object", "additionalProperties": True},
        ]
    }
)
class FieldMessagesField(serializers.JSONField):
    """A field's messages: a list of strings; for a nested object, the same mapping for its own fields; for a
    list of objects, one mapping per item."""


class ApiErrorSerializer(serializers.Serializer):
    """The one error shape (``tongban.api.exceptions``)."""

    status = serializers.IntegerField(help_text=_("The HTTP status, repeated."))
    code = serializers.CharField(help_text=_("A machine-readable code: invalid, parse_error, not_found, ..."))
    detail = serializers.CharField(help_text=_("A message for people, in the caller's language."))
    errors = serializers.DictField(
        child=FieldMessagesField(),
        help_text=_(
            "Messages per field (non_field_errors for the others); empty unless the input is invalid."
        ),
    )

    class Meta:
        ref_name = "Error"


DESCRIPTIONS = {
    "400": _(
        "Invalid input (`invalid`, with messages per field) or a body that is not JSON (`parse_error`)."
    ),
    "401": _("No valid access token (unknown, expired or revoked): get a new one."),
    "403": _("Not signed in, no second factor (staff), or not allowed; refusals are audited."),
    "404": _("No such object, or not yours to see."),
    "409": _("The object is not in a state for this."),
    "413": _("The request body is larger than this endpoint accepts (`request_too_large`)."),
    "429": _("Too many requests (`throttled`); see `Retry-After`."),
    "503": _(
        "The database is briefly unavailable (`database_unavailable`); nothing was saved: retry after "
        "`Retry-After` seconds (with the same Idempotency-Key, where the operation takes one)."
    ),
}


class AutoSchema(SpectacularAutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        """A text field that may not be blank says so (``minLength: 1``); drf-spectacular leaves it out."""
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and not field.allow_blank
            and schema.get("type") == "string"
            and not schema.get("minLength")
            and "enum" not in schema
        ):
            schema["minLength"] = 1
        return schema

    def _error_statuses(self, operation) -> list[str]:
        view = self.view
        parameters = operation.get("parameters", [])
        statuses = []
        if "requestBody" in operation or self.method in BODIES or any(p["in"] == "query" for p in parameters):
            statuses.append("400")
        if any(
            type(auth).authenticate_header is not BaseAuthentication.authenticate_header
            for auth in view.get_authenticators()
        ):
            statuses.append("401")
        guarded = any(not isinstance(permission, AllowAny) for permission in view.get_permissions())
        session = any(isinstance(auth, SessionAuthentication) for auth in view.get_authenticators())
        if guarded or (session and self.method in WRITES):
            statuses.append("403")
        if any(p["in"] == "path" for p in parameters) or any(p["name"] == "page" for p in parameters):
            statuses.append("404")
        if self.method in WRITES:
            statuses.append("409")
        if self.method in BODIES:
            statuses.append("413")
        if view.get_throttles():
            statuses.append("429")
        statuses.append("503")
        return statuses

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        statuses = [code for code in self._error_statuses(operation) if code not in responses]
        # An error the view declared with a description only has the error shape as its body too.
        bare = [code for code, response in responses.items() if code[0] in "45" and "content" not in response]
        if statuses or bare:
            error = {
                "application/json": {"schema": self.resolve_serializer(ApiErrorSerializer, "response").ref}
            }
            for code in statuses:
                responses[code] = {"content": error, "description": str(DESCRIPTIONS[code])}
            for code in bare:
                responses[code]["content"] = error
        return operation
