"""Outbox: domain events written in the service's transaction and their deliveries to subscribers."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .base import TimeStampedModel, UUIDModel


class OutboxEvent(UUIDModel):
    """A domain event (领域事件) such as ``case.submitted``, recorded with the change that caused it."""

    name = models.CharField(_("name"), max_length=100, db_index=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    subject_type = models.CharField(_("subject type"), max_length=100, blank=True)
    subject_id = models.CharField(_("subject id"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="core_event_subject_idx")]

    def __str__(self):
        if self.subject_type:
            return f"{self.name} ({self.subject_type} {self.subject_id})"
        return self.name


class EventDelivery(TimeStampedModel):
    """The delivery of one event to one subscriber, retried on its own until delivered or dead."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        DEAD = "dead", _("dead")

    event = models.ForeignKey(
        OutboxEvent,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("event"),
        db_index=False,
    )
    subscriber = models.CharField(_("subscriber"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("event delivery")
        verbose_name_plural = _("event deliveries")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "subscriber"], name="core_delivery_event_subscriber_uniq"
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="core_delivery_due_idx")]
        permissions = [("replay_eventdelivery", _("Can replay dead event deliveries"))]

    def __str__(self):
        return f"{self.event.name} → {self.subscriber} ({self.get_status_display()})"
