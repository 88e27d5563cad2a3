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


@db_periodic_task(crontab(minute="7"))
def hotline_spikes():
    """Every hour: spike alerts for the topics that jump in a district today; in the first hour of a day also
    for yesterday, whose last hour the previous run did not see."""
    import datetime as dt

    from django.utils import timezone

    from tongban.core.calendar import SHANGHAI

    from .analytics import spikes_detect

    now = timezone.now().astimezone(SHANGHAI)
    alerts = spikes_detect(today=now.date())
    if now.hour == 0:
        alerts += spikes_detect(today=now.date() - dt.timedelta(days=1))
    for alert in alerts:
        logger.info("hotline spike: %s", alert)
