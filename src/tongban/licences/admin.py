"""Back office: licence types are edited here; licences and signing keys are only read (they change through
the services, which sign and audit)."""

from django.contrib import admin
from django.db import transaction

from tongban.core.audit import audit_record
from tongban.identity.selectors import actor_from_request

from .models import Licence, LicenceType, SigningKey


@admin.register(LicenceType)
class LicenceTypeAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name_zh",
        "name_en",
        "number_prefix",
        "department_code",
        "validity_years",
        "active",
    )
    list_filter = ("active", "department_code")
    search_fields = ("code", "name_zh", "name_en")

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=actor_from_request(request),
                action="licence_type.updated" if change else "licence_type.created",
                subject_type="licence_type",
                subject_id=obj.code,
                details={"changed": sorted(form.changed_data), "via": "admin"},
            )

    def has_delete_permission(self, request, obj=None):
        return False  # licences refer to their type; retire a type by making it inactive


class _ReadOnly:
    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SigningKey)
class SigningKeyAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("key_id", "department", "algorithm", "active", "created_at", "retired_at")
    list_filter = ("algorithm", "active")
    search_fields = ("key_id", "department__code")


@admin.register(Licence)
class LicenceAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("number", "type", "holder_name", "department", "issued_at", "status")
    list_filter = ("status", "type", "algorithm")
    search_fields = ("number",)
    list_select_related = ("type", "department")
