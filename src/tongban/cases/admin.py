"""Back-office view of cases: read-only. Every state change of a case goes through ``cases.services``
(audited, with its events); the admin only looks."""

from django.contrib import admin

from .models import Case, CaseMaterial, CaseStep, SupplementRequest


class _ReadOnly:
    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CaseMaterialInline(_ReadOnly, admin.TabularInline):
    model = CaseMaterial
    extra = 0
    fields = ("item_code", "code", "name", "origin", "trust", "file", "filename", "size", "superseded")


class CaseStepInline(_ReadOnly, admin.TabularInline):
    model = CaseStep
    extra = 0
    fields = ("at", "kind", "label", "department", "role", "actor", "note", "awaiting")
    ordering = ("at", "id")


class SupplementRequestInline(_ReadOnly, admin.TabularInline):
    model = SupplementRequest
    extra = 0
    fields = ("created_at", "department", "requested_by", "materials", "fields", "note", "answered_at")


@admin.register(Case)
class CaseAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = (
        "number",
        "title",
        "applicant_name",
        "status",
        "channel",
        "lead_department",
        "accepting_department",
        "submitted_at",
        "due_date",
        "warning",
    )
    list_filter = ("status", "channel", "lead_department", "warning")
    search_fields = ("number",)
    list_select_related = ("lead_department", "accepting_department")
    date_hierarchy = "submitted_at"
    inlines = (CaseMaterialInline, CaseStepInline, SupplementRequestInline)
