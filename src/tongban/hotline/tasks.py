"""Huey tasks of the hotline (autodiscovered by huey.contrib.djhuey)."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import ticket_deadlines_check

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/15"))
def ticket_deadlines():
    """Every 15 minutes: yellow warnings and red cards on tickets that reach their warning day or run late."""
    counts = ticket_deadlines_check()
    if counts["yellow"] + counts["red"]:
        logger.info("ticket warnings raised: %s", counts)
