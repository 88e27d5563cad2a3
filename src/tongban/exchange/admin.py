"""Back office of the sharing layer: the catalogue (synced from the registries' specs, read only), grants (read;
actions go through the services, audited) and data uses (read only)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongban.core.exceptions import Conflict
from tongban.identity.selectors import actor_from_request

from . import services
from .models import DataResource, DataUse, SharingGrant


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DataResource)
class DataResourceAdmin(ReadOnlyAdmin):
    list_display = ["code", "name_zh", "owner", "subject", "sharing", "frequency", "active"]
    list_filter = ["sharing", "subject", "active", "owner"]
    search_fields = ["code", "name_zh", "name_en"]
    list_select_related = ["owner"]


def _each(request, queryset, call, done):
    count = 0
    for grant in queryset.select_related("resource", "department", "resource__owner"):
        try:
            call(grant)
        except (ValidationError, Conflict, PermissionDenied) as error:
            messages.error(request, f"{grant}: {' '.join(getattr(error, 'messages', [str(error)]))}")
        else:
            count += 1
    if count:
        messages.success(request, done % {"count": count})


def _with_reason(modeladmin, request, queryset, *, title, service, done):
    """An action that asks for a reason on an intermediate page, then calls ``service`` for each grant."""
    reason = request.POST.get("reason", "").strip()
    if request.POST.get("confirm") and reason:
        _each(
            request,
            queryset,
            lambda g: service(actor=actor_from_request(request), grant=g, reason=reason),
            done,
        )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "grants": queryset,
        "action": request.POST.get("action", ""),
        "opts": modeladmin.model._meta,
        "missing_reason": bool(request.POST.get("confirm")),
    }
    return TemplateResponse(request, "exchange/admin_grant_reason.html", context)


@admin.register(SharingGrant)
class SharingGrantAdmin(ReadOnlyAdmin):
    list_display = ["department", "resource", "purpose", "status", "valid_from", "valid_until", "decided_by"]
    list_filter = ["status", "resource__owner", "resource"]
    search_fields = ["purpose", "department__code", "resource__code"]
    list_select_related = ["department", "resource", "resource__owner"]
    date_hierarchy = "created_at"
    actions = ["approve", "refuse", "revoke"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields]

    @admin.action(description=gettext_lazy("Approve the selected requests"))
    def approve(self, request, queryset):
        _each(
            request,
            queryset,
            lambda g: services.grant_approve(actor=actor_from_request(request), grant=g),
            _("%(count)d grant(s) approved."),
        )

    @admin.action(description=gettext_lazy("Refuse the selected requests (with a reason)"))
    def refuse(self, request, queryset):
        return _with_reason(
            self,
            request,
            queryset,
            title=_("Refuse grant requests"),
            service=services.grant_refuse,
            done=_("%(count)d request(s) refused."),
        )

    @admin.action(description=gettext_lazy("Revoke the selected grants (with a reason)"))
    def revoke(self, request, queryset):
        return _with_reason(
            self,
            request,
            queryset,
            title=_("Revoke grants"),
            service=services.grant_revoke,
            done=_("%(count)d grant(s) revoked."),
        )


@admin.register(DataUse)
class DataUseAdmin(ReadOnlyAdmin):
    list_display = ["at", "department", "resource_code", "purpose", "case_number", "allowed"]
    list_filter = ["allowed", "resource_code"]
    search_fields = ["case_number", "resource_code"]
    list_select_related = ["department"]
    date_hierarchy = "at"
    raw_id_fields = ["person", "organisation"]
