"""Huey tasks of messaging (autodiscovered by huey.contrib.djhuey)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from tongban.messaging.services import deliveries_run


@db_task()
def deliver_message(message_id):
    """Send the deliveries of one message right after the transaction that sent it committed."""
    deliveries_run(message_id=message_id)


@db_periodic_task(crontab(minute="*"))
def deliver_pending():
    """Every minute: send every due delivery (retries, postponed SMS, messages whose prompt task was lost)."""
    deliveries_run()
