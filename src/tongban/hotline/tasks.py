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


@db_periodic_task(crontab(minute="3"))
def hotline_blind_spots_warm():
    """Every hour: compute the blind spots of each period the page offers, so that with a cache shared by the
    processes (Redis) no one's first view of the day searches the knowledge base for some 90 questions (7–16 s
    cold; docs/performance.md). Cheap when nothing changed: the searches are cached per text."""
    from .analytics import blind_spots
    from .views_analytics import DAY_CHOICES

    for days in DAY_CHOICES:
        blind_spots(days=days)
