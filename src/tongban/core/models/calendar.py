"""Working-day calendar overrides kept by administrators (工作日历调整).

The ``chinesecalendar`` package knows the official schedule of the years it was released for. For a day it
gets wrong, and for the years it does not know yet, an administrator records a ``WorkdayOverride``; once a
year's official schedule (国务院办公厅关于节假日安排的通知) has been entered completely, a ``CalendarYear``
row declares it, so the calendar stops warning that it is guessing that year from weekends.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _

from .base import TimeStampedModel

# Years outside this range are almost certainly typing mistakes (2207 for 2027), not schedules.
OVERRIDE_MIN_YEAR = 2000
OVERRIDE_MAX_YEAR = 2100


def validate_calendar_year(year):
    if year is None:
        return
    if not OVERRIDE_MIN_YEAR <= year <= OVERRIDE_MAX_YEAR:
        raise ValidationError(
            _("The year %(year)s is outside %(min)s–%(max)s; check for a typing mistake."),
            code="year_out_of_range",
            params={"year": year, "min": OVERRIDE_MIN_YEAR, "max": OVERRIDE_MAX_YEAR},
        )


class WorkdayOverride(TimeStampedModel):
    """One day whose working status an administrator sets, winning over the package (调休/放假)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("holiday (no work)")
        WORKDAY = "workday", _("working day")

    date = models.DateField(
        _("date"),
        unique=True,
        error_messages={"unique": _("This date already has an override; change that one instead.")},
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(
        _("name"),
        max_length=100,
        blank=True,
        help_text=_("The holiday this day belongs to, e.g. 元旦 or 春节."),
    )
    note = models.TextField(
        _("note"), blank=True, help_text=_("Source of the decision, e.g. the notice number.")
    )
    changed_by = models.CharField(_("changed by"), max_length=150, blank=True, editable=False)

    class Meta:
        verbose_name = _("working-day override")
        verbose_name_plural = _("working-day overrides")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["holiday", "workday"]), name="core_workdayoverride_kind_valid"
            ),
        ]

    def __str__(self):
        return f"{self.date.isoformat()} {self.get_kind_display()} {self.name}".rstrip()

    def clean(self):
        super().clean()
        if self.date is not None:
            try:
                validate_calendar_year(self.date.year)
            except ValidationError as error:
                raise ValidationError({"date": error}) from None


class CalendarYear(TimeStampedModel):
    """A declaration that a year's official schedule has been entered completely as overrides.

    For a year the package does not know, days without an override are then ordinary weekdays and weekends
    by decision, not by guess, and the calendar stops warning about that year.
    """

    year = models.PositiveSmallIntegerField(_("year"), unique=True, validators=[validate_calendar_year])
    note = models.TextField(
        _("note"), blank=True, help_text=_("Source of the schedule, e.g. the notice number.")
    )
    declared_by = models.CharField(_("declared by"), max_length=150, blank=True, editable=False)

    class Meta:
        verbose_name = _("declared calendar year")
        verbose_name_plural = _("declared calendar years")
        ordering = ["year"]

    def __str__(self):
        return str(self.year)


def _calendar_changed(sender, **kwargs):
    # The admin, a shell or a fixture may change these rows without the services: drop the cached calendar.
    from tongban.core.calendar import invalidate_cache_now_and_on_commit

    invalidate_cache_now_and_on_commit()


for _model in (WorkdayOverride, CalendarYear):
    post_save.connect(_calendar_changed, sender=_model, dispatch_uid=f"calendar-{_model.__name__}-saved")
    post_delete.connect(_calendar_changed, sender=_model, dispatch_uid=f"calendar-{_model.__name__}-deleted")
