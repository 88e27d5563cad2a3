"""Back-office views of process definitions, running processes and tasks: read-only.

Definitions are uploaded through the workbench (``definition_store`` checks and versions them) and tasks move
only through the cases and workflow services, so nothing here adds, changes or deletes a row.
"""

from django.contrib import admin

from .models import ProcessDefinition, ProcessInstance, Task


class ReadOnlyAdmin(admin.ModelAdmin):
    """Every field read-only; no add, change or delete (superusers may still look)."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProcessDefinition)
class ProcessDefinitionAdmin(ReadOnlyAdmin):
    list_display = ("key", "version", "name", "process_id", "uploaded_by", "created_at")
    list_filter = ("key",)
    search_fields = ("key", "name", "process_id")
    ordering = ("key", "-version")


@admin.register(ProcessInstance)
class ProcessInstanceAdmin(ReadOnlyAdmin):
    list_display = ("case_id", "definition", "status", "district", "department", "created_at", "completed_at")
    list_filter = ("status", "definition__key")
    search_fields = ("case_id",)
    list_select_related = ("definition",)
    exclude = ("state",)  # the serialised engine state is large and unreadable

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields if f.name != "state"]


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = (
        "case_number",
        "name",
        "department",
        "role",
        "state",
        "assignee",
        "due_date",
        "warning",
        "decision",
    )
    list_filter = ("state", "department", "warning", "role")
    search_fields = ("case_number", "case_title", "name")
    list_select_related = ("department", "assignee")
    date_hierarchy = "created_at"
