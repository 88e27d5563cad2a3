"""Huey tasks of the indicators (autodiscovered by huey.contrib.djhuey)."""

import datetime as dt
import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tongban.core import calendar

from .compute import indicators_refresh
from .models import MonthlyReport
from .report import monthly_report_make

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="17"))
def indicators_refresh_hourly():
    """Every hour: yesterday's and today's rows from the raw records, their months, the catalogue snapshot."""
    return indicators_refresh()


def first_working_day(month: dt.date) -> dt.date:
    day = month.replace(day=1)
    while not calendar.is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def monthly_report_due(today: dt.date) -> dt.date | None:
    """The month whose report is due today: the past month, from the first working day of this one on, until
    it is written."""
    if today < first_working_day(today):
        return None
    previous = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    if MonthlyReport.objects.filter(month=previous).exists():
        return None
    return previous


@db_periodic_task(crontab(minute="37"))
def monthly_report_when_due():
    """Every hour: the past month's report, once, on the first working day of the month (or the next run)."""
    month = monthly_report_due(calendar.today())
    if month is None:
        return None
    indicators_refresh()  # the month's last day is final by now
    report = monthly_report_make(month=month, by="worker")
    logger.info("monthly report %s written", report.month)
    return str(report.month)
