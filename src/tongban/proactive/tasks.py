"""Huey tasks of proactive services (autodiscovered by huey.contrib.djhuey)."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from huey.contrib.djhuey import HUEY, db_periodic_task

from .enterprise import policies_sweep
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


def at_half_past_six_local(moment: dt.datetime) -> bool:
    if HUEY.utc:
        moment = moment.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(settings.TIME_ZONE))
    return (moment.hour, moment.minute) == (6, 30)


@db_periodic_task(at_half_past_six_local)
def policies_sweep_daily():
    """Every day at 06:30: every enterprise's figures against the active policies (惠企政策)."""
    return policies_sweep()
