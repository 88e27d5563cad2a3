"""Reads of the integrations app: the webhook subscribers' deliveries and failures."""

from django.db.models import Count, Q

from .models import WebhookDelivery, WebhookSubscriber


def subscriber_summaries():
    """Each subscriber with its deliveries counted by status."""
    status = WebhookDelivery.Status
    return list(
        WebhookSubscriber.objects.annotate(
            delivered=Count("deliveries", filter=Q(deliveries__status=status.DELIVERED)),
            pending=Count("deliveries", filter=Q(deliveries__status=status.PENDING)),
            dead=Count("deliveries", filter=Q(deliveries__status=status.DEAD)),
        )
        .order_by("name")
        .values(
            "name", "url", "active", "delivered", "pending", "dead", "consecutive_failures", "failing_since"
        )
    )


def replayable_deliveries(*, subscriber: str | None = None, since=None, delivered: bool = False) -> list:
    """Ids of the dead deliveries (and delivered ones if asked), of one subscriber (by name) and since a moment."""
    statuses = [WebhookDelivery.Status.DEAD] + ([WebhookDelivery.Status.DELIVERED] if delivered else [])
    query = WebhookDelivery.objects.filter(status__in=statuses)
    if subscriber:
        query = query.filter(subscriber__name=subscriber)
    if since is not None:
        query = query.filter(event__created_at__gte=since)
    return list(query.values_list("pk", flat=True))
