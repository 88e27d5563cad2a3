"""Endpoints that fail in each way the API error handler knows, for ``test_exceptions``."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from tongban.core.exceptions import Conflict, DomainError


class ThingSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=5)
    size = serializers.IntegerField(min_value=1)


def raises(exc):
    class RaisingApi(APIView):
        permission_classes = [AllowAny]

        def get(self, request):
            raise exc

    return RaisingApi.as_view()


class ThingCreateApi(APIView):
    permission_classes = [AllowAny]

    def post(self, request):
        serializer = ThingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.data, status=201)


urlpatterns = [
    path(
        "field-errors/",
        raises(
            ValidationError({"resident_id": ["The check digit is wrong."], "__all__": ["Nothing matches."]})
        ),
    ),
    path("plain-error/", raises(ValidationError("The date is malformed."))),
    path("denied/", raises(PermissionDenied("You may not do this."))),
    path("missing/", raises(Http404("No Case matches the given query."))),
    path("conflict/", raises(Conflict("The case was already accepted.", code="case_already_accepted"))),
    path("rule/", raises(DomainError("A bundle needs two items."))),
    path("database-gone/", raises(InterfaceError("connection already closed"))),
    path("database-locked/", raises(OperationalError("database is locked"))),
    path("things/", ThingCreateApi.as_view()),
]
