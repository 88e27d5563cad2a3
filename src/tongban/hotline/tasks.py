"""Huey tasks of the hotline (autodiscovered by huey.contrib.djhuey).

Ticket time limits are watched by supervision's deadline job, with the cases' and tasks' policy."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

logger = logging.getLogger(__name__)


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
