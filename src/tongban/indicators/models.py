"""Indicators (指标): daily and monthly aggregate rows kept by the worker, and the monthly reports.

The rows are counters, never personal data: how many cases were submitted, completed, completed in time, their
summed working days, visits and materials, ratings by level, warnings, hotline tickets, proactive offers, per day
(``grain`` "d") or per calendar month (``grain`` "m", the sum of the month's day rows). ``compute`` writes them
from the raw records of the owning apps; ``selectors`` sums them for the dashboards and ``formulas`` turns the
sums into the indicators of docs/indicators.md. A counter belongs to the day of the event that produced it (a
case's submission, its closing, a rating, a warning, a reply), so a past day's row does not change once the day is
over and the worker only refreshes yesterday and today.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.models.base import TimeStampedModel


class Grain(models.TextChoices):
    DAY = "d", _("day")
    MONTH = "m", _("month")


# The counters of cases (by lead department), kept per department and district and per service.
CASE_COUNTERS = (
    "cases_submitted",
    "cases_online",  # submitted online, through the API or granted without application
    "cases_full_online_item",  # submitted for a service item handled fully online (全程网办)
    "item_modes_sum",  # summed number of handling modes offered by the services applied for
    "cases_completed",
    "completed_on_time",
    "completed_no_visit",
    "completed_supplemented",
    "cases_refused",
    "cases_withdrawn",
    "legal_days_sum",
    "promised_days_sum",
    "working_days_sum",
    "visits_sum",
    "materials_sum",
    "materials_data_sum",  # materials obtained from registries and e-licences (免提交)
    "steps_sum",
)
# 好差评, rectifications, warnings and the 12345 hotline (per department and district only).
OTHER_COUNTERS = (
    "ratings",
    "ratings_1",
    "ratings_2",
    "ratings_3",
    "ratings_4",
    "ratings_5",
    "ratings_online",
    "ratings_online_good",
    "ratings_window",
    "ratings_window_good",
    "guide_score_sum",
    "guide_score_count",
    "rectifications_opened",
    "rectifications_closed",
    "rectifications_closed_on_time",
    "warnings_yellow",
    "warnings_red",
    "tickets",
    "tickets_first_contact",
    "tickets_replied",
    "tickets_replied_on_time",
    "tickets_closed",
    "satisfaction_sum",
    "satisfaction_count",
    "tickets_reopened",
    "tickets_merged",
)
STAT_COUNTERS = CASE_COUNTERS + OTHER_COUNTERS
PROACTIVE_COUNTERS = (
    "offers",
    "offers_notified",
    "offers_offered",
    "offers_granted",
    "offers_accepted",
    "offers_declined",
    "lead_days_sum",
    "lead_count",
)


class StatBase(models.Model):
    grain = models.CharField(_("grain"), max_length=1, choices=Grain.choices)
    period = models.DateField(_("day or first day of the month"))

    class Meta:
        abstract = True


class CaseCounters(models.Model):
    """The counters of CASE_COUNTERS (a test holds the two lists equal)."""

    cases_submitted = models.PositiveIntegerField(default=0)
    cases_online = models.PositiveIntegerField(default=0)
    cases_full_online_item = models.PositiveIntegerField(default=0)
    item_modes_sum = models.PositiveIntegerField(default=0)
    cases_completed = models.PositiveIntegerField(default=0)
    completed_on_time = models.PositiveIntegerField(default=0)
    completed_no_visit = models.PositiveIntegerField(default=0)
    completed_supplemented = models.PositiveIntegerField(default=0)
    cases_refused = models.PositiveIntegerField(default=0)
    cases_withdrawn = models.PositiveIntegerField(default=0)
    legal_days_sum = models.PositiveIntegerField(default=0)
    promised_days_sum = models.PositiveIntegerField(default=0)
    working_days_sum = models.PositiveIntegerField(default=0)
    visits_sum = models.PositiveIntegerField(default=0)
    materials_sum = models.PositiveIntegerField(default=0)
    materials_data_sum = models.PositiveIntegerField(default=0)
    steps_sum = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class OtherCounters(models.Model):
    """The counters of OTHER_COUNTERS."""

    ratings = models.PositiveIntegerField(default=0)
    ratings_1 = models.PositiveIntegerField(default=0)
    ratings_2 = models.PositiveIntegerField(default=0)
    ratings_3 = models.PositiveIntegerField(default=0)
    ratings_4 = models.PositiveIntegerField(default=0)
    ratings_5 = models.PositiveIntegerField(default=0)
    ratings_online = models.PositiveIntegerField(default=0)
    ratings_online_good = models.PositiveIntegerField(default=0)
    ratings_window = models.PositiveIntegerField(default=0)
    ratings_window_good = models.PositiveIntegerField(default=0)
    guide_score_sum = models.PositiveIntegerField(default=0)
    guide_score_count = models.PositiveIntegerField(default=0)
    rectifications_opened = models.PositiveIntegerField(default=0)
    rectifications_closed = models.PositiveIntegerField(default=0)
    rectifications_closed_on_time = models.PositiveIntegerField(default=0)
    warnings_yellow = models.PositiveIntegerField(default=0)
    warnings_red = models.PositiveIntegerField(default=0)
    tickets = models.PositiveIntegerField(default=0)
    tickets_first_contact = models.PositiveIntegerField(default=0)
    tickets_replied = models.PositiveIntegerField(default=0)
    tickets_replied_on_time = models.PositiveIntegerField(default=0)
    tickets_closed = models.PositiveIntegerField(default=0)
    satisfaction_sum = models.PositiveIntegerField(default=0)
    satisfaction_count = models.PositiveIntegerField(default=0)
    tickets_reopened = models.PositiveIntegerField(default=0)
    tickets_merged = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class Stat(StatBase, CaseCounters, OtherCounters):
    """Counters of one department and one district (either may be empty) on one day or month."""

    department = models.ForeignKey(
        "identity.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    district = models.ForeignKey(
        "identity.AdminUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("indicator row")
        verbose_name_plural = _("indicator rows")
        indexes = [
            models.Index(fields=["grain", "period"], name="indicators_stat_period"),
            models.Index(fields=["department", "grain", "period"], name="indicators_stat_dept"),
        ]

    def __str__(self):
        return f"{self.grain} {self.period} {self.department_id} {self.district_id}"


class ServiceStat(StatBase, CaseCounters):
    """Case counters of one service item or bundle (by its lead department) on one day or month."""

    service_kind = models.CharField(_("kind"), max_length=6)  # "item" or "bundle"
    service_code = models.CharField(_("service"), max_length=64)
    department = models.ForeignKey(
        "identity.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("service indicator row")
        verbose_name_plural = _("service indicator rows")
        indexes = [
            models.Index(fields=["grain", "period"], name="indicators_svc_period"),
            models.Index(fields=["service_code", "grain", "period"], name="indicators_svc_code"),
        ]

    def __str__(self):
        return f"{self.grain} {self.period} {self.service_code}"


class ProactiveStat(StatBase):
    """Offers of one proactive rule on one day or month."""

    rule_code = models.CharField(_("rule"), max_length=64)
    offers = models.PositiveIntegerField(default=0)
    offers_notified = models.PositiveIntegerField(default=0)
    offers_offered = models.PositiveIntegerField(default=0)
    offers_granted = models.PositiveIntegerField(default=0)
    offers_accepted = models.PositiveIntegerField(default=0)
    offers_declined = models.PositiveIntegerField(default=0)
    lead_days_sum = models.PositiveIntegerField(default=0)
    lead_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("proactive indicator row")
        verbose_name_plural = _("proactive indicator rows")
        indexes = [models.Index(fields=["grain", "period"], name="indicators_pro_period")]

    def __str__(self):
        return f"{self.grain} {self.period} {self.rule_code}"


class CatalogSnapshot(models.Model):
    """The catalogue of one department as it stood on one day (a state, taken by the worker each day)."""

    day = models.DateField(_("day"))
    department = models.ForeignKey("identity.Department", on_delete=models.PROTECT, related_name="+")
    items_published = models.PositiveIntegerField(default=0)
    items_online_apply = models.PositiveIntegerField(default=0)  # online depth 3 or 4
    items_full_online = models.PositiveIntegerField(default=0)  # online depth 4
    items_multi_channel = models.PositiveIntegerField(default=0)  # online and at least one other mode
    items_guide_complete = models.PositiveIntegerField(default=0)
    materials = models.PositiveIntegerField(default=0)
    materials_from_data = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("catalogue snapshot")
        verbose_name_plural = _("catalogue snapshots")
        constraints = [
            models.UniqueConstraint(fields=["day", "department"], name="indicators_snapshot_once_a_day")
        ]

    def __str__(self):
        return f"{self.day} {self.department_id}"


class ServiceVersion(models.Model):
    """One version of a service item or bundle as far as the reform measures go (time limits, visits,
    materials, steps): a new row when any of them changed since the previous version."""

    service_kind = models.CharField(_("kind"), max_length=6)
    service_code = models.CharField(_("service"), max_length=64)
    number = models.PositiveSmallIntegerField(_("version"))
    valid_from = models.DateField(_("valid from"))
    legal_limit_days = models.PositiveSmallIntegerField(_("legal limit (working days)"))
    promised_limit_days = models.PositiveSmallIntegerField(_("promised limit (working days)"))
    visits_required = models.PositiveSmallIntegerField(_("visits required"))
    materials = models.PositiveSmallIntegerField(_("materials asked"))
    materials_from_data = models.PositiveSmallIntegerField(_("materials obtained from data"))
    steps = models.PositiveSmallIntegerField(_("steps"))
    online_depth = models.PositiveSmallIntegerField(_("online depth"))

    class Meta:
        verbose_name = _("service version")
        verbose_name_plural = _("service versions")
        ordering = ["service_code", "number"]
        constraints = [
            models.UniqueConstraint(fields=["service_code", "number"], name="indicators_version_unique")
        ]

    def __str__(self):
        return f"{self.service_code} v{self.number}"

    MEASURES = (
        "legal_limit_days",
        "promised_limit_days",
        "visits_required",
        "materials",
        "materials_from_data",
        "steps",
        "online_depth",
    )

    def measures(self) -> tuple:
        return tuple(getattr(self, name) for name in self.MEASURES)


class MonthlyReport(TimeStampedModel):
    """The monthly report (月度报告) as a PDF, with the headline figures it was made from."""

    month = models.DateField(_("month"), unique=True)
    file = models.FileField(_("file"), upload_to="indicators/reports/")
    figures = models.JSONField(_("figures"), default=dict)
    generated_by = models.CharField(_("generated by"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        ordering = ["-month"]

    def __str__(self):
        return f"{self.month:%Y-%m}"
