"""Back office of the hotline: Open311 clients (a new client's api_key is shown once, when it is saved)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from tongban.identity.selectors import actor_for

from .models import Open311Client
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
