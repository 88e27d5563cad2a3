"""Back office of the hotline: Open311 clients (a new client's api_key is shown once, when it is saved)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from tongban.identity.selectors import actor_for

from .models import FaqEntry, Open311Client, RoutingCorrection, SpikeAlert
from .open311 import open311_client_create


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "key_prefix", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "key_prefix"]
    readonly_fields = ["key_prefix", "created_at"]

    def get_fields(self, request, obj=None):
        return ["name", "active"] if obj is None else ["name", "key_prefix", "active", "created_at"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        client, key = open311_client_create(actor=actor_for(request.user), name=obj.name)
        client.active = obj.active
        client.save(update_fields=["active"])
        obj.pk, obj.key_prefix, obj.key_hash, obj.created_at = (
            client.pk,
            client.key_prefix,
            client.key_hash,
            client.created_at,
        )
        obj._state.adding = False
        self.message_user(
            request,
            _("The api_key of %(name)s is %(key)s — copy it now, it is not shown again.")
            % {"name": client.name, "key": key},
            level=messages.WARNING,
        )


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):
    """The knowledge base; saved through ``services.faq_save`` (checks, search tokens, audit)."""

    list_display = ["question", "department", "service_code", "active", "updated_at"]
    list_filter = ["active", "department"]
    search_fields = ["question", "keywords", "answer"]
    fields = ["question", "answer", "keywords", "department", "service_code", "active"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class CheckedForm(form):
            def clean(self):
                from .services import faq_errors

                data = super().clean()
                errors = faq_errors(
                    question=(data.get("question") or "").strip(),
                    answer=(data.get("answer") or "").strip(),
                    keywords=(data.get("keywords") or "").strip(),
                    department=(data.get("department") or "").strip(),
                    service_code=(data.get("service_code") or "").strip(),
                    entry=self.instance if self.instance.pk and not self.instance._state.adding else None,
                )
                for name, messages_ in errors.items():
                    self.add_error(name if name in self.fields else None, messages_)
                return data

        return CheckedForm

    def save_model(self, request, obj, form, change):
        from .services import faq_save

        entry = FaqEntry.objects.get(pk=obj.pk) if change else None
        saved = faq_save(
            user=request.user,
            entry=entry,
            question=obj.question,
            answer=obj.answer,
            keywords=obj.keywords,
            department=obj.department,
            service_code=obj.service_code,
            active=obj.active,
        )
        obj.pk, obj._state.adding = saved.pk, False


class _ReadOnly(admin.ModelAdmin):
    """Written by the services only; the back office reads."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RoutingCorrection)
class RoutingCorrectionAdmin(_ReadOnly):
    """The dispatchers' corrections of the routing, which ``tongban hotline train`` learns from."""

    list_display = ["at", "suggested", "department", "ticket"]
    list_filter = ["department", "suggested"]
    search_fields = ["text"]


@admin.register(SpikeAlert)
class SpikeAlertAdmin(_ReadOnly):
    list_display = ["day", "topic", "district", "count", "baseline", "raised_at"]
    list_filter = ["topic", "district"]
