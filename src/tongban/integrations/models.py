"""A platform others can join (接入): API clients of other systems, webhook subscribers and their deliveries."""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tongban.catalog.models import ServiceItem
from tongban.core.models import OutboxEvent
from tongban.core.models.base import TimeStampedModel
from tongban.identity.models import Department
from tongban.identity.selectors import SENSITIVITIES

SENSITIVITY_CHOICES = [
    ("public", _("public")),
    ("internal", _("internal")),
    ("personal", _("personal")),
    ("sensitive", _("sensitive")),
]
assert [code for code, _label in SENSITIVITY_CHOICES] == list(SENSITIVITIES)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class ApiClient(TimeStampedModel):
    """Another department's or district's system (接入系统) calling the API with OAuth 2 client credentials.

    Its OAuth application holds the client id and the hashed secret; this entry holds what it may do: the scopes
    its tokens may carry, the departments whose cases and tickets it may touch (its own always), the service items
    (none: all) and the highest data sensitivity it may receive, and its rate limit.
    """

    name = models.CharField(_("name"), max_length=200, unique=True)
    application = models.OneToOneField(
        "oauth2_provider.Application",
        verbose_name=_("OAuth application"),
        on_delete=models.PROTECT,
        related_name="tongban_client",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("service account"),
        on_delete=models.PROTECT,
        related_name="api_client",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The department this system works for: its data lookups use this department's grants."),
    )
    departments = models.ManyToManyField(
        Department,
        verbose_name=_("also for departments"),
        blank=True,
        related_name="+",
        help_text=_("Other departments whose cases and tickets the system may read (a district's branches)."),
    )
    service_items = models.ManyToManyField(
        ServiceItem,
        verbose_name=_("service items"),
        blank=True,
        related_name="+",
        help_text=_("Only cases of these service items; none chosen: every item."),
    )
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    max_sensitivity = models.CharField(
        _("highest data sensitivity"), max_length=10, choices=SENSITIVITY_CHOICES, default="internal"
    )
    rate = models.CharField(
        _("rate limit"),
        max_length=20,
        blank=True,
        help_text=_("Requests per period, e.g. 120/minute; empty: the platform's default."),
    )
    active = models.BooleanField(pgettext_lazy("switched on", "enabled"), default=True)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]

    def __str__(self):
        return self.name


class WebhookSubscriber(TimeStampedModel):
    """A system that receives the platform's events (CloudEvents 1.0 over HTTP POST), signed with its secret.

    Tied to an API client, it receives only the events that client's scopes and limits allow; without one (the
    platform's own systems) every event its types name. It receives events recorded after it was created.
    """

    name = models.CharField(_("name"), max_length=200, unique=True)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=100, default=new_secret)
    client = models.ForeignKey(
        ApiClient,
        verbose_name=_("API client"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subscribers",
    )
    event_types = models.JSONField(
        _("event types"),
        default=list,
        blank=True,
        help_text=_('Event names or prefixes ending in * (["case.*", "ticket.created"]); empty: all.'),
    )
    active = models.BooleanField(pgettext_lazy("switched on", "enabled"), default=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook subscriber")
        verbose_name_plural = _("webhook subscribers")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        types = self.event_types
        if not isinstance(types, list) or not all(isinstance(t, str) and t.strip() for t in types):
            raise ValidationError({"event_types": _('Give a list of event names or prefixes: ["case.*"].')})


class WebhookDelivery(TimeStampedModel):
    """One event sent to one subscriber, retried with backoff until delivered or dead (then replayable)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        DEAD = "dead", _("dead")

    subscriber = models.ForeignKey(
        WebhookSubscriber,
        verbose_name=_("subscriber"),
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
    )
    event = models.ForeignKey(
        OutboxEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "event"], name="integrations_delivery_once"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="integrations_delivery_due_idx")]

    def __str__(self):
        return f"{self.event.name} → {self.subscriber}"


class RelayCursor(models.Model):
    """How far the relay has read the outbox (one row): events up to ``position`` were offered to subscribers."""

    key = models.CharField(max_length=32, primary_key=True)
    position = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("relay position")
        verbose_name_plural = _("relay positions")

    def __str__(self):
        return f"{self.key}: {self.position}"
