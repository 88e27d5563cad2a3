"""The record of each demo city seeding, with what it created."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.models import TimeStampedModel


class SeedRun(TimeStampedModel):
    """One run of ``tongban seed``: its parameters and the counts it left in the database."""

    seed = models.BigIntegerField(_("random seed"))
    people = models.PositiveIntegerField(_("persons asked for"))
    organisations = models.PositiveIntegerField(_("organisations asked for"))
    counts = models.JSONField(_("counts"), default=dict)
    seconds = models.FloatField(_("duration (seconds)"))

    class Meta:
        verbose_name = _("demo city seeding")
        verbose_name_plural = _("demo city seedings")
        ordering = ["-created_at"]

    def __str__(self):
        return f"seed {self.seed}: {self.counts.get('persons', 0)} persons"
