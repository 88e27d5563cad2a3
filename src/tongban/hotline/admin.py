"""Back office of the hotline: Open311 clients (a new client's api_key is shown once, when it is saved)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from tongban.identity.selectors import actor_from_request

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
        client, key = open311_client_create(actor=actor_from_request(request), name=obj.name)
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
            actor=actor_from_request(request),
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

    def changelist_view(self, request, extra_context=None):
        """Above the corrections: the routing model's versions with their figures, and which is in use; a
        retrain that did worse on the check than the model in use is kept inactive, and says so here."""
        from django.contrib import messages

        for line in routing_versions_summary():
            messages.add_message(request, line["level"], line["text"])
        return super().changelist_view(request, extra_context)


def routing_versions_summary(limit=5) -> list[dict]:
    """One line per saved routing model version (newest first): version, in use or not, the check accuracy and,
    for a retrain kept inactive, the accuracy of the model it was compared with."""
    from django.contrib import messages
    from django.utils.translation import gettext as _

    from .routing import model_current, model_manifests

    try:
        manifests = model_manifests()[:limit]
        in_use = model_current().version if manifests else None
    except Exception:
        return []
    lines = []
    for manifest in manifests:
        figures = {
            "version": manifest.get("version"),
            "check": manifest.get("check_accuracy", manifest.get("validation_accuracy", "-")),
            "threshold": manifest.get("auto_dispatch_threshold", "-"),
            "corrections": manifest.get("corrections", 0),
        }
        if manifest.get("active", True) is False:
            compared = manifest.get("compared_with") or {}
            text = _(
                "Routing model v%(version)s kept inactive: check accuracy %(check)s, below v%(other)s's "
                "%(other_check)s (%(corrections)s corrections)."
            ) % {**figures, "other": compared.get("version"), "other_check": compared.get("check_accuracy")}
            lines.append({"level": messages.WARNING, "text": text})
        else:
            state = _("in use") if manifest.get("version") == in_use else _("active, superseded")
            text = _(
                "Routing model v%(version)s (%(state)s): check accuracy %(check)s, auto-dispatch threshold "
                "%(threshold)s (%(corrections)s corrections)."
            ) % {**figures, "state": state}
            lines.append({"level": messages.INFO, "text": text})
    return lines


@admin.register(SpikeAlert)
class SpikeAlertAdmin(_ReadOnly):
    list_display = ["day", "topic", "district", "count", "baseline", "raised_at"]
    list_filter = ["topic", "district"]
