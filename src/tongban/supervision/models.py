"""Supervision (电子监察): time-limit warnings on cases and tasks, and rectifications of bad ratings.

A Warning (预警) is the record of a yellow warning (黄牌) or red card (红牌) raised once per subject and level.
A Rectification (整改) is the follow-up a bad rating opens for the responsible department; a supervisor closes
it. Both refer to cases and ratings by id only: supervision sits above ``cases`` and beside ``evaluation``.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.models.base import TimeStampedModel
from tongban.identity.models import Department


class Warning(TimeStampedModel):  # 预警; the name of DESIGN.md, though it shadows a builtin
    """A yellow warning or red card raised on a task or a case by the deadline job, on a case's acceptance (a case
    not accepted or refused within its acceptance period: the subject is the case, with its own cards, so that the
    handling limit's cards are still raised after a late acceptance), or on a 12345 ticket (whose number is kept
    in ``case_number`` and which has no ``case_id``)."""

    class SubjectType(models.TextChoices):
        CASE = "case", _("Case")
        ACCEPTANCE = "accept", _("Acceptance")  # 受理
        TASK = "task", _("Task")
        TICKET = "ticket", _("Ticket")

    class Level(models.TextChoices):
        YELLOW = "yellow", _("Yellow warning")  # 黄牌
        RED = "red", _("Red card")  # 红牌

    subject_type = models.CharField(_("subject type"), max_length=6, choices=SubjectType.choices)
    subject_id = models.UUIDField(_("subject"))
    case_id = models.UUIDField(_("case"), null=True, blank=True, db_index=True)
    case_number = models.CharField(_("case number"), max_length=32)
    task_name = models.CharField(_("step"), max_length=200, blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    level = models.CharField(_("level"), max_length=6, choices=Level.choices)
    raised_at = models.DateTimeField(_("raised at"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("warning")
        verbose_name_plural = _("warnings")
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "level"], name="supervision_warning_once_per_level"
            ),
        ]
        indexes = [
            models.Index(fields=["department", "-raised_at"], name="supervision_warning_dept"),
            models.Index(fields=["level", "-raised_at"], name="supervision_warning_level"),
            models.Index(fields=["raised_at"], name="supervision_warning_raised"),  # a day's, for indicators
        ]

    def __str__(self):
        label = f"{self.case_number} · {self.task_name}" if self.task_name else self.case_number
        return f"{label} · {self.level}"


class Rectification(TimeStampedModel):
    """整改: the follow-up of a bad rating by the responsible department, closed by a supervisor."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    class SubjectType(models.TextChoices):
        CASE = "case", _("Case")
        TICKET = "ticket", _("Ticket")

    subject_type = models.CharField(
        _("subject type"), max_length=6, choices=SubjectType.choices, default=SubjectType.CASE
    )
    # A ticket's rectification keeps the ticket's number in ``case_number`` and has no ``case_id``.
    case_id = models.UUIDField(_("case"), null=True, blank=True, db_index=True)
    case_number = models.CharField(_("case number"), max_length=32)
    # evaluation.Rating by id only: evaluation depends on supervision, never the reverse.
    rating_id = models.UUIDField(_("rating"), null=True, blank=True)
    # For a ticket: the ``ticket.closed`` event that carried the bad satisfaction (a replay finds it).
    event_id = models.UUIDField(_("event"), null=True, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("responsible department"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    reason = models.TextField(_("reason"), blank=True)
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=6, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    response = models.TextField(_("department's response"), blank=True)
    responded_by = models.CharField(_("responded by"), max_length=200, blank=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    closed_by = models.CharField(_("closed by"), max_length=200, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        ordering = ["status", "due_date", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["rating_id"],
                condition=models.Q(rating_id__isnull=False),
                name="supervision_rectification_one_per_rating",
            ),
            models.UniqueConstraint(
                fields=["event_id"],
                condition=models.Q(event_id__isnull=False),
                name="supervision_rectification_one_per_event",
            ),
            models.CheckConstraint(
                condition=models.Q(status="open") | models.Q(closed_at__isnull=False),
                name="supervision_rectification_closed_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "status", "due_date"], name="supervision_rect_dept"),
            # a day's openings and closings, for indicators.compute
            models.Index(fields=["created_at"], name="supervision_rect_created"),
            models.Index(
                fields=["closed_at"],
                name="supervision_rect_closed",
                condition=models.Q(closed_at__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.case_number} · {self.get_status_display()}"

    @property
    def is_open(self):
        return self.status == self.Status.OPEN
