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
    if counts["tasks_yellow"] + counts["tasks_red"] + counts["cases_yellow"] + counts["cases_red"]:
        logger.info("deadline warnings raised: %s", counts)
