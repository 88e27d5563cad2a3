"""Back office of the integrations: API clients (scopes and limits), webhook subscribers and their deliveries."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tongban.identity.selectors import actor_from_request

from . import services
from .models import ApiClient, WebhookDelivery, WebhookSubscriber
from .scopes import scope_choices


class ApiClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"), choices=scope_choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    def clean(self):
        data = super().clean()
        errors = services.api_client_errors(
            scopes=data.get("scopes") or [],
            max_sensitivity=data.get("max_sensitivity") or "",
            rate=data.get("rate") or "",
        )
        for field, field_messages in errors.items():
            if field in self.fields:
                self.add_error(field, field_messages)
        return data

    class Meta:
        model = ApiClient
        fields = [
            "name",
            "department",
            "scopes",
            "departments",
            "service_items",
            "max_sensitivity",
            "rate",
            "active",
        ]


# The event families a subscriber may choose (none chosen: every event its client's scopes allow).
EVENT_FAMILIES = [
    ("case.*", _("Cases: submitted, accepted, supplement, refused, completed, withdrawn …")),
    ("task.*", _("Department tasks of cases")),
    ("ticket.*", _("12345 tickets")),
    ("licence.*", _("E-licences issued and revoked")),
]


class WebhookSubscriberForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        label=_("events"),
        choices=EVENT_FAMILIES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None chosen: every event the subscriber's system may receive."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kept = [(v, v) for v in (self.instance.event_types or []) if v not in dict(EVENT_FAMILIES)]
        self.fields["event_types"].choices = [*EVENT_FAMILIES, *kept]  # names set outside the admin stay

    class Meta:
        model = WebhookSubscriber
        fields = ["name", "url", "client", "event_types", "active"]


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """An API client is registered here: its OAuth client id and secret are made with it (the secret shown once)."""

    form = ApiClientForm
    list_display = ["name", "department", "scope_list", "max_sensitivity", "rate", "active", "client_id"]
    list_filter = ["active", "max_sensitivity"]
    search_fields = ["name", "application__client_id"]
    autocomplete_fields = ["department"]
    filter_horizontal = ["departments", "service_items"]
    readonly_fields = ["client_id", "service_account"]

    def get_fields(self, request, obj=None):
        fields = list(ApiClientForm.Meta.fields)
        return fields + self.readonly_fields if obj is not None else fields

    @admin.display(description=_("client id"))
    def client_id(self, obj):
        return obj.application.client_id if obj.pk else ""

    @admin.display(description=_("service account"))
    def service_account(self, obj):
        return obj.user.get_username() if obj.pk else ""

    @admin.display(description=_("scopes"))
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    def save_model(self, request, obj, form, change):
        actor = actor_from_request(request)
        if change:
            services.api_client_update(actor=actor, client=obj, changed=form.changed_data, save=True)
            return
        data = form.cleaned_data
        try:
            client, secret = services.api_client_create(
                actor=actor,
                name=data["name"],
                department=data["department"],
                scopes=data["scopes"],
                max_sensitivity=data["max_sensitivity"],
                rate=data["rate"],
            )
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        # The admin saves the chosen departments and items on ``obj`` next: make it the client just created.
        obj.pk, obj.application, obj.user = client.pk, client.application, client.user
        obj.created_at, obj.updated_at = client.created_at, client.updated_at
        obj._state.adding = False
        messages.warning(
            request,
            _(
                "Client id: %(id)s — client secret: %(secret)s. Give both to the system's operator now: the secret is "
                "kept only as a hash and cannot be shown again."
            )
            % {"id": client.application.client_id, "secret": secret},
        )


class WebhookDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = [
        "event_name",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
        "error",
    ]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    ordering = ["-created_at"]

    @admin.display(description=_("event"))
    def event_name(self, obj):
        return obj.event.name

    @admin.display(description=_("last error"))
    def error(self, obj):
        return Truncator(obj.last_error).chars(120)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("event")


@admin.register(WebhookSubscriber)
class WebhookSubscriberAdmin(admin.ModelAdmin):
    """Each subscriber with its deliveries and failures; a subscriber failing many times in a row is flagged."""

    form = WebhookSubscriberForm
    list_display = [
        "name",
        "url",
        "client",
        "active",
        "delivered",
        "pending",
        "dead",
        "consecutive_failures",
        "failing",
        "last_success_at",
    ]
    list_filter = ["active", ("failing_since", admin.EmptyFieldListFilter)]
    search_fields = ["name", "url"]
    fields = [
        "name",
        "url",
        "client",
        "event_types",
        "active",
        "secret",
        "consecutive_failures",
        "failing_since",
        "last_success_at",
    ]
    readonly_fields = ["secret", "consecutive_failures", "failing_since", "last_success_at"]
    inlines = [WebhookDeliveryInline]
    actions = ["replay_dead", "send_now"]

    def get_queryset(self, request):
        status = WebhookDelivery.Status
        return (
            super()
            .get_queryset(request)
            .select_related("client")
            .annotate(
                n_delivered=Count("deliveries", filter=Q(deliveries__status=status.DELIVERED)),
                n_pending=Count("deliveries", filter=Q(deliveries__status=status.PENDING)),
                n_dead=Count("deliveries", filter=Q(deliveries__status=status.DEAD)),
            )
        )

    @admin.display(description=_("delivered"), ordering="n_delivered")
    def delivered(self, obj):
        return obj.n_delivered

    @admin.display(description=_("pending"), ordering="n_pending")
    def pending(self, obj):
        return obj.n_pending

    @admin.display(description=_("dead"), ordering="n_dead")
    def dead(self, obj):
        return obj.n_dead

    @admin.display(description=_("failing"), ordering="failing_since")
    def failing(self, obj):
        if obj.failing_since is None:
            return "—"
        return format_html(
            '<strong style="color:#b00">{}</strong>',
            _("failing since %(when)s") % {"when": obj.failing_since.strftime("%Y-%m-%d %H:%M")},
        )

    def save_model(self, request, obj, form, change):
        actor = actor_from_request(request)
        if change:
            services.webhook_subscriber_update(actor=actor, subscriber=obj, changed=form.changed_data)
        else:
            created = services.webhook_subscriber_create(
                actor=actor, name=obj.name, url=obj.url, client=obj.client, event_types=obj.event_types
            )
            obj.pk, obj.secret, obj.created_at, obj.updated_at = (
                created.pk,
                created.secret,
                created.created_at,
                created.updated_at,
            )
            obj._state.adding = False

    @admin.action(description=_("Send the dead deliveries of the selected subscribers again"))
    def replay_dead(self, request, queryset):
        ids = WebhookDelivery.objects.filter(
            subscriber__in=queryset, status=WebhookDelivery.Status.DEAD
        ).values_list("pk", flat=True)
        count = services.webhook_replay(actor=actor_from_request(request), delivery_ids=list(ids))
        self.message_user(
            request,
            ngettext("%d delivery will be sent again.", "%d deliveries will be sent again.", count) % count,
        )

    @admin.action(description=_("Send the due deliveries of the selected subscribers now"))
    def send_now(self, request, queryset):
        count = 0
        for subscriber in queryset:
            count += services.webhooks_deliver(subscriber=subscriber)
        self.message_user(
            request, ngettext("%d delivery attempted.", "%d deliveries attempted.", count) % count
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "event_name",
        "subscriber",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    ]
    list_filter = ["status", "subscriber"]
    search_fields = ["event__name", "subscriber__name"]
    list_select_related = ["event", "subscriber"]
    readonly_fields = [
        "subscriber",
        "event",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
    ]
    actions = ["replay"]

    @admin.display(description=_("event"), ordering="event__name")
    def event_name(self, obj):
        return obj.event.name

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send the selected deliveries again"))
    def replay(self, request, queryset):
        count = services.webhook_replay(
            actor=actor_from_request(request), delivery_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(
            request,
            ngettext("%d delivery will be sent again.", "%d deliveries will be sent again.", count) % count,
        )
