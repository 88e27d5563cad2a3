"""The first endpoints of the REST API: who am I, and the public list of departments."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from tongban.identity.models import Department
from tongban.identity.permissions import RolePermission
from tongban.identity.selectors import department_list, person_for, roles_for, staff_for


class AdminUnitSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()


class DepartmentSerializer(serializers.Serializer):
    code = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    level = serializers.CharField()
    admin_unit = serializers.CharField(source="admin_unit.code")
    parent = serializers.CharField(source="parent.code", allow_null=True, default=None)


class RoleSerializer(serializers.Serializer):
    code = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()


class PersonSerializer(serializers.Serializer):
    """A citizen's own record, with the resident ID and phone masked (脱敏)."""

    name = serializers.CharField()
    masked_resident_id = serializers.CharField()
    masked_phone = serializers.CharField()
    household_district = AdminUnitSerializer(allow_null=True)


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    full_name = serializers.CharField()
    kind = serializers.ChoiceField(choices=["staff", "citizen", "user"])
    roles = serializers.ListField(child=serializers.CharField())
    department = DepartmentSerializer(allow_null=True)
    staff_roles = RoleSerializer(many=True)
    person = PersonSerializer(allow_null=True)


class MeApi(APIView):
    """Who am I: the signed-in user with their roles and department, or their own (masked) person record."""

    permission_classes = [RolePermission]
    required_permission = None  # any signed-in user, staff only with a verified second factor

    @extend_schema(responses=MeSerializer, summary="The signed-in user")
    def get(self, request):
        user = request.user
        staff = staff_for(user)
        person = person_for(user)
        staff_roles = list(staff.roles.all()) if staff else []
        roles = sorted(roles_for(user))
        kind = "staff" if staff else ("citizen" if person else "user")
        data = {
            "username": user.get_username(),
            "full_name": user.get_full_name() or (person.name if person else ""),
            "kind": kind,
            "roles": roles,
            "department": staff.department if staff else None,
            "staff_roles": staff_roles,
            "person": person,
        }
        return Response(MeSerializer(data).data)


class DepartmentFilterSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=Department.Level.choices, required=False)
    q = serializers.CharField(required=False, max_length=64, help_text=_("Part of a code or name."))


class DepartmentListApi(ListAPIView):
    """The public list of departments (municipal departments and their district branches)."""

    permission_classes = [AllowAny]
    serializer_class = DepartmentSerializer

    @extend_schema(
        summary="Departments",
        parameters=[DepartmentFilterSerializer],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = DepartmentFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return department_list(
            level=filters.validated_data.get("level"), search=filters.validated_data.get("q")
        )
