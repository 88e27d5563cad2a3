"""Huey tasks of proactive services (autodiscovered by huey.contrib.djhuey)."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from huey.contrib.djhuey import HUEY, db_periodic_task

from .services import milestones_sweep

SWEEP_AT = (6, 0)  # 06:00 in the city's time zone


def at_six_local(moment: dt.datetime) -> bool:
    """Huey's schedule check: 06:00 in ``TIME_ZONE`` (Huey passes naive UTC times unless ``utc=False``)."""
    if HUEY.utc:
        moment = moment.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(settings.TIME_ZONE))
    return (moment.hour, moment.minute) == SWEEP_AT


@db_periodic_task(at_six_local)
def proactive_sweep_daily():
    """Every day at 06:00: life-event milestones reached today and licences expiring, then the rules."""
    return milestones_sweep()
