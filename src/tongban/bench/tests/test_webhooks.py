"""``tongban bench webhooks`` relays and delivers every event to every subscriber, and reports both rates."""

import io

import pytest

from tongban.bench.webhooks import bench_webhooks
from tongban.integrations.models import WebhookDelivery, WebhookSubscriber


@pytest.mark.django_db
def test_bench_webhooks_delivers_every_event_to_every_subscriber():
    figures = bench_webhooks(stdout=io.StringIO(), options={"events": 5, "subscribers": 2})
    assert figures["events"] == 5
    assert figures["relay_deliveries_per_s"] > 0 and figures["delivered_per_s"] > 0
    assert WebhookDelivery.objects.filter(status=WebhookDelivery.Status.DELIVERED).count() == 10
    assert not WebhookSubscriber.objects.filter(active=True).exists()  # its receiver is gone
