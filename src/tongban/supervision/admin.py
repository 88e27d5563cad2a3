"""Back office views of warnings and rectifications: read only (the deadline job and the services write)."""

from django.contrib import admin

from .models import Rectification, Warning


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Warning)
class WarningAdmin(ReadOnlyAdmin):
    list_display = ["case_number", "task_name", "department", "level", "due_date", "raised_at"]
    list_filter = ["level", "subject_type"]
    search_fields = ["case_number"]
    list_select_related = ["department"]
    date_hierarchy = "raised_at"


@admin.register(Rectification)
class RectificationAdmin(ReadOnlyAdmin):
    list_display = ["case_number", "department", "status", "due_date", "closed_at"]
    list_filter = ["status"]
    search_fields = ["case_number"]
    list_select_related = ["department"]
