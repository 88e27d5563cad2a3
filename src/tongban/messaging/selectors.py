"""Reads of messaging, filtered by who asks."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q

from tongban.core.db import fast
from tongban.identity.models import Organisation, Person
from tongban.identity.selectors import organisations_for, person_for

from .models import CHANNELS, MANDATORY_INBOX_TOPICS, TOPICS, Delivery, Message, NotificationPreference

__all__ = [
    "delivery_list_failed",
    "message_get_for_user",
    "message_list_for_user",
    "preference_table",
    "preferences_for",
    "recipients_for_user",
    "topic_allowed",
    "unread_count_for_user",
]


def _owner_filter(owner) -> Q:
    if isinstance(owner, Person):
        return Q(person=owner)
    if isinstance(owner, Organisation):
        return Q(organisation=owner)
    raise TypeError(f"a Person or an Organisation, not {type(owner).__name__}")


def topic_allowed(person_or_org, topic: str, channel: str = "inbox") -> bool:
    """Whether the person or organisation accepts ``topic`` messages on ``channel`` (default: yes).

    The inbox of a mandatory topic ("case") is always allowed.
    """
    if channel == "inbox" and topic in MANDATORY_INBOX_TOPICS:
        return True
    _owner_filter(person_or_org)  # a Person or an Organisation
    owner = "person_id" if isinstance(person_or_org, Person) else "organisation_id"
    # Hand-written (``core.db.fast``): every message sent asks it once per channel.
    row = fast.fetchone(
        f"SELECT enabled FROM {NotificationPreference._meta.db_table} "  # noqa: S608
        f"WHERE {owner} = %s AND topic = %s AND channel = %s ORDER BY id LIMIT 1",
        [fast.prep(NotificationPreference, owner, person_or_org.pk), topic, channel],
    )
    return row is None or bool(row[0])


def preferences_for(person_or_org) -> dict[tuple[str, str], bool]:
    """Every (topic, channel) with its setting, defaults included."""
    stored = {
        (topic, channel): enabled
        for topic, channel, enabled in NotificationPreference.objects.filter(
            _owner_filter(person_or_org)
        ).values_list("topic", "channel", "enabled")
    }
    table = {}
    for topic in TOPICS:
        for channel in CHANNELS:
            if channel == "inbox" and topic in MANDATORY_INBOX_TOPICS:
                table[(topic, channel)] = True
            else:
                table[(topic, channel)] = stored.get((topic, channel), True)
    return table


def preference_table(person_or_org, *, english: bool = False) -> list[dict]:
    """Rows for the settings page and the API: one a topic, with its channels."""
    table = preferences_for(person_or_org)
    return [
        {
            "topic": topic,
            "label": names[1] if english else names[0],
            "channels": [
                {
                    "channel": channel,
                    "enabled": table[(topic, channel)],
                    "locked": channel == "inbox" and topic in MANDATORY_INBOX_TOPICS,
                }
                for channel in CHANNELS
            ],
        }
        for topic, names in TOPICS.items()
    ]


def recipients_for_user(user) -> list:
    """The user's own Person (if any) followed by the organisations the user acts for."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    person = person_for(user)
    return ([person] if person is not None else []) + list(organisations_for(user))


def _recipient_q(user) -> Q:
    person = person_for(user)
    condition = Q(organisation__in=organisations_for(user))
    if person is not None:
        condition |= Q(person=person)
    return condition


def message_list_for_user(user):
    """The user's inbox: messages to their person and to the organisations they act for, newest first."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Message.objects.none()
    return (
        Message.objects.filter(_recipient_q(user), in_inbox=True)
        .select_related("person", "organisation")
        .order_by("-created_at")
    )


def message_get_for_user(user, message_id) -> Message | None:
    """One message of the user's inbox, or None (not theirs, hidden, unknown or a malformed id)."""
    try:
        return message_list_for_user(user).filter(pk=message_id).first()
    except (ValueError, TypeError, ValidationError):
        return None


def unread_count_for_user(user) -> int:
    return message_list_for_user(user).filter(read_at__isnull=True).count()


def delivery_list_failed():
    """Deliveries that failed after every attempt, newest first (for operators)."""
    return (
        Delivery.objects.filter(status=Delivery.Status.FAILED)
        .select_related("message", "message__person", "message__organisation")
        .order_by("-updated_at")
    )
