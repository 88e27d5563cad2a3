"""``tongban bench webhooks`` relays and delivers every event to every subscriber, and reports both rates."""

import io
import json

import pytest
from django.core.management import call_command

from tongban.integrations.models import WebhookDelivery


@pytest.mark.django_db
def test_bench_webhooks_delivers_every_event_to_every_subscriber(capsys):
    call_command("bench", "webhooks", "--events", "5", "--subscribers", "2", stdout=io.StringIO())
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["bench"] == "webhooks" and figures["events"] == 5
    assert figures["relay_deliveries_per_s"] > 0 and figures["delivered_per_s"] > 0
    assert WebhookDelivery.objects.filter(status=WebhookDelivery.Status.DELIVERED).count() == 10
