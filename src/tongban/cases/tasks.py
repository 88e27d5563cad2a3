"""Huey tasks of the cases app (autodiscovered by huey.contrib.djhuey)."""

import datetime as dt
import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import files

logger = logging.getLogger(__name__)

SWEEP_LOOKBACK = dt.timedelta(
    days=2
)  # each hourly run sees every file many times before it leaves the window


@db_periodic_task(crontab(minute="23"))
def case_files_sweep():
    """Every hour: remove material files that no case names (left by a crash between the write and the commit)."""
    result = files.sweep(lookback=SWEEP_LOOKBACK)
    if result.removed:
        logger.info("material files swept: %d of %d checked", len(result.removed), result.checked)
