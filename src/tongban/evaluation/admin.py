"""Back office view of ratings: read only (ratings are the applicants' own words)."""

from django.contrib import admin

from .models import Rating


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ["case_number", "department", "level", "channel", "created_at"]
    list_filter = ["level", "channel"]
    search_fields = ["case_number"]
    list_select_related = ["department"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
