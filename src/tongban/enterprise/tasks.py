"""Huey tasks of 法人一证通 (autodiscovered by huey.contrib.djhuey)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import certificates_expiry_warn


@db_periodic_task(crontab(minute="15", hour="*/6"))
def certificates_expiry_warn_job():
    """Four times a day: tell enterprises of certificates that expire soon (once a certificate)."""
    return certificates_expiry_warn()
