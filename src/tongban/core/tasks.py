"""Huey tasks of the core mechanisms (autodiscovered by huey.contrib.djhuey)."""

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from tongban.core.audit import audit_checkpoint_create
from tongban.core.events import event_deliver

# --- outbox delivery ---------------------------------------------------------


@db_task()
def deliver_event(event_id):
    """Deliver an event (or a list of them) right after the transaction that emitted it committed."""
    event_deliver(event_id=event_id)


@db_periodic_task(crontab(minute="*"))
def deliver_due_events():
    """Every minute: run every due delivery (retries, and events whose prompt task was lost)."""
    event_deliver()


# --- audit checkpoints -------------------------------------------------------


@db_periodic_task(crontab(minute=f"*/{settings.TONGBAN_AUDIT_CHECKPOINT_MINUTES}"))
def audit_checkpoint():
    """Every few minutes (``TONGBAN_AUDIT_CHECKPOINT_MINUTES``, default 5): sign the chain heads.

    Nothing is written while the log has not moved since the last checkpoint.
    """
    audit_checkpoint_create()
