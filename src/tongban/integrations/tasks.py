"""Huey tasks of the integrations (autodiscovered by huey.contrib.djhuey)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import webhooks_deliver, webhooks_relay


@db_periodic_task(crontab(minute="*"))
def relay_and_deliver_webhooks():
    """Every minute: offer the outbox's new events to the webhook subscribers, then send what is due."""
    webhooks_relay()
    webhooks_deliver()
