"""Core models. Each mechanism keeps its models in its own module, re-exported here."""

from .audit import AuditCheckpoint, AuditEntry
from .base import TimeStampedModel, UUIDModel
from .calendar import CalendarYear, WorkdayOverride
from .outbox import EventDelivery, OutboxEvent

__all__ = [
    "AuditCheckpoint",
    "AuditEntry",
    "CalendarYear",
    "EventDelivery",
    "OutboxEvent",
    "TimeStampedModel",
    "UUIDModel",
    "WorkdayOverride",
]
