"""Evaluation (好差评): the applicant's five-level rating of a completed case.

A Rating refers to its case by id (``evaluation`` sits above ``cases``). A bad rating (不满意, 非常不满意)
opens a rectification through ``supervision.services``: evaluation depends on supervision, never the reverse.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.models.base import TimeStampedModel
from tongban.identity.models import Department


class Rating(TimeStampedModel):
    class Level(models.IntegerChoices):
        VERY_DISSATISFIED = 1, _("Very dissatisfied")  # 非常不满意
        DISSATISFIED = 2, _("Dissatisfied")  # 不满意
        FAIR = 3, _("Fairly satisfied")  # 基本满意
        SATISFIED = 4, _("Satisfied")  # 满意
        VERY_SATISFIED = 5, _("Very satisfied")  # 非常满意

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online")
        WINDOW = "window", _("At a window")

    # The sub-items rated on each channel, each from 1 to 5.
    SUB_ITEMS = {
        Channel.ONLINE: {
            "efficiency": _("Efficiency"),
            "guide_accuracy": _("Accuracy of the service guide"),
            "convenience": _("Convenience"),
            "ease_of_use": _("Ease of use"),
        },
        Channel.WINDOW: {
            "efficiency": _("Efficiency"),
            "service_level": _("Service level"),
            "attitude": _("Attitude"),
        },
    }
    BAD_LEVELS = (Level.VERY_DISSATISFIED, Level.DISSATISFIED)

    case_id = models.UUIDField(_("case"), unique=True)
    case_number = models.CharField(_("case number"), max_length=32)
    department = models.ForeignKey(
        Department,
        verbose_name=_("responsible department"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    level = models.PositiveSmallIntegerField(_("rating"), choices=Level.choices)
    channel = models.CharField(_("channel"), max_length=6, choices=Channel.choices)
    scores = models.JSONField(_("sub-item scores"), default=dict, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rated by"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=5), name="evaluation_rating_level_1_5"
            ),
        ]
        indexes = [
            models.Index(fields=["department", "-created_at"], name="evaluation_rating_dept"),
            models.Index(fields=["created_at"], name="evaluation_rating_created"),  # a day's, for indicators
        ]

    def __str__(self):
        return f"{self.case_number} · {self.level}"

    @property
    def is_bad(self):
        return self.level in self.BAD_LEVELS

    def score_items(self):
        """``(label, score)`` for each sub-item of the rating's channel, in their order."""
        return [(label, self.scores.get(key)) for key, label in self.SUB_ITEMS[self.channel].items()]
