"""Huey tasks of supervision (autodiscovered by huey.contrib.djhuey)."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import deadlines_check

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/15"))
def deadlines():
    """Every 15 minutes: raise the yellow warnings and red cards that fall due (idempotent)."""
    counts = deadlines_check()
    if any(value for key, value in counts.items() if not key.endswith("_checked")):
        logger.info("deadline warnings raised: %s", counts)
