"""One exception handler for the whole API, so every error has the same shape.

Every error body is ``{"status": <int>, "code": <str>, "detail": <str>, "errors": {<field>: [<message>]}}``:
``errors`` holds field messages for invalid input (and is ``{}`` otherwise), with messages that are not
about one field under ``non_field_errors``. Django's ``ValidationError`` and DRF's map to 400, a
domain ``Conflict`` to 409, another ``DomainError`` to 400, ``PermissionDenied`` to 403, ``Http404`` to
404, a body over Django's size limit to 413, a lost or refused database connection to 503 with ``Retry-After``
(nothing was committed: the request's transaction died with its connection; the next request opens a new one,
``CONN_HEALTH_CHECKS``). Anything else is a bug and is left to Django's 500 handler (which answers JSON under ``/api/``).
"""

import logging

from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from tongban.core.exceptions import (
    DATABASE_RETRY_AFTER,
    DATABASE_UNAVAILABLE_MESSAGE,
    Conflict,
    DomainError,
    database_unavailable,
)

logger = logging.getLogger("tongban.errors")


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = DATABASE_UNAVAILABLE_MESSAGE
    default_code = "database_unavailable"
    retry_after = DATABASE_RETRY_AFTER


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the resource.")
    default_code = "conflict"


class DomainRuleError(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("The request cannot be carried out.")
    default_code = "domain_error"


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is larger than this endpoint accepts.")
    default_code = "request_too_large"


INVALID_DETAIL = _("The request has invalid data; see the messages for each field.")


def django_validation_errors(exc):
    """Field messages of a Django ``ValidationError`` as ``{field: [message, ...]}``."""
    if hasattr(exc, "error_dict"):
        errors = {}
        for field, messages in exc.message_dict.items():
            key = api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field
            errors.setdefault(key, []).extend(messages)
        return errors
    return {api_settings.NON_FIELD_ERRORS_KEY: list(exc.messages)}


def as_api_exception(exc):
    """Translate Django's and the domain's exceptions into DRF's, leaving others unchanged."""
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(detail=django_validation_errors(exc))
    if isinstance(exc, Conflict):
        return ConflictError(detail=exc.message, code=exc.code)
    if isinstance(exc, DomainError):
        return DomainRuleError(detail=exc.message, code=exc.code)
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, RequestDataTooBig):  # Django's body limit: an API error, not its HTML 400 page
        return RequestTooLarge()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(*exc.args)
    if database_unavailable(exc):
        logger.warning("database unavailable: %s", exc, exc_info=exc)
        return DatabaseUnavailable()
    return exc


def error_body(exc):
    """The body of an error response for a DRF ``APIException``."""
    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError):
        if isinstance(detail, dict):
            errors = detail
        else:
            errors = {api_settings.NON_FIELD_ERRORS_KEY: detail if isinstance(detail, list) else [detail]}
        return {"status": exc.status_code, "code": "invalid", "detail": str(INVALID_DETAIL), "errors": errors}
    code = getattr(detail, "code", None) or exc.default_code
    return {"status": exc.status_code, "code": code, "detail": str(detail), "errors": {}}


def exception_handler(exc, context):
    """DRF's ``EXCEPTION_HANDLER``: the one place that turns exceptions into API error responses."""
    exc = as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    response.data = error_body(exc)
    if isinstance(exc, DatabaseUnavailable):
        response["Retry-After"] = str(exc.retry_after)
    return response
