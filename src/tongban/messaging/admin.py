"""Back office: templates are edited here (placeholders validated); messages and deliveries are only read.

Failed deliveries are found with the status filter; the "send again" action queues them once more.
"""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tongban.core.audit import audit_record
from tongban.identity.selectors import actor_from_request

from . import services
from .models import PLACEHOLDERS, Delivery, Message, MessageTemplate, NotificationPreference


class MessageTemplateForm(forms.ModelForm):
    """The model's ``clean()`` refuses unknown or malformed placeholders, naming them."""

    class Meta:
        model = MessageTemplate
        fields = ["code", "topic", "subject_zh", "body_zh", "subject_en", "body_en", "active"]
        help_texts = {
            "body_zh": _("Placeholders: %(names)s")
            % {"names": ", ".join(f"{{{n}}}" for n in sorted(PLACEHOLDERS))},
        }


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ("code", "topic", "subject_zh", "subject_en", "active", "updated_at")
    list_filter = ("topic", "active")
    search_fields = ("code", "subject_zh", "subject_en")

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=actor_from_request(request),
                action="message_template.updated" if change else "message_template.created",
                subject_type="message_template",
                subject_id=obj.code,
                details={"changed": sorted(form.changed_data), "via": "admin"},
            )

    def has_delete_permission(self, request, obj=None):
        return False  # retire a template by making it inactive


class _ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = (
        "channel",
        "masked_address",
        "status",
        "reason",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("address"))
    def masked_address(self, obj):
        return obj.masked_address


@admin.register(Message)
class MessageAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("subject", "recipient", "topic", "template_code", "in_inbox", "created_at", "read_at")
    list_filter = ("topic", "template_code", "in_inbox", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("subject", "template_code", "dedupe_key")
    list_select_related = ("person", "organisation")
    date_hierarchy = "created_at"
    exclude = ("person", "organisation")
    readonly_fields = (
        "recipient",
        "topic",
        "template_code",
        "subject",
        "body",
        "subject_en",
        "body_en",
        "link",
        "context",
        "in_inbox",
        "read_at",
        "dedupe_key",
        "created_at",
    )
    inlines = [DeliveryInline]

    @admin.display(description=_("recipient"))
    def recipient(self, obj):
        return obj.person.name if obj.person_id else obj.organisation.name


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = (
        "created_at",
        "channel",
        "masked_address",
        "status",
        "reason",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "message",
    )
    list_filter = ("status", "channel", "reason")
    search_fields = ("message__subject", "provider_id")
    list_select_related = ("message",)
    date_hierarchy = "created_at"
    exclude = ("address",)
    readonly_fields = (
        "message",
        "channel",
        "masked_address",
        "status",
        "reason",
        "attempts",
        "next_attempt_at",
        "last_error",
        "sent_at",
        "provider_id",
        "created_at",
    )
    actions = ["send_again"]

    @admin.display(description=_("address"))
    def masked_address(self, obj):
        return obj.masked_address

    @admin.action(description=_("Send the selected failed deliveries again"))
    def send_again(self, request, queryset):
        count = services.delivery_retry(
            actor=actor_from_request(request), delivery_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(request, _("%(n)s deliveries queued again.") % {"n": count}, messages.SUCCESS)

    def has_change_permission(self, request, obj=None):
        # Allowed for the list action only; every field stays read-only.
        return request.user.is_superuser or request.user.has_perm("messaging.change_delivery")


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("person", "organisation", "topic", "channel", "enabled", "updated_at")
    list_filter = ("topic", "channel", "enabled")
    list_select_related = ("person", "organisation")
