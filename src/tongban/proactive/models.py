"""Proactive services (主动服务): life events, the rules they trigger, and what the platform offers or grants.

A ``LifeEvent`` (事件) is something that happened to a person or an organisation: a registry event (a birth,
a marriage, a business registered, a licence issued) or a date-driven milestone found by the daily sweep (a
child turns 3, a person turns 65, a licence expires within 90 days). A ``ProactiveRule`` (主动服务规则) says
which life events it answers, a condition over the subject's data in a safe typed expression language
(``rule-engine``), and an action: notify, offer a prefilled case, or grant without application (免申即享).
What a rule did for a recipient is an ``Offer`` (推送), at most one per rule, recipient and occurrence;
a rule that failed or was skipped for a recipient leaves a ``RuleRun`` row.
"""

from django.conf import settings
from django.db import models
from django.db.models import JSONField, Q, Value
from django.utils.translation import gettext_lazy as _

from tongban.core.models.base import TimeStampedModel, UUIDModel


class LifeEventKind(models.TextChoices):
    # From registry events.
    BIRTH_REGISTERED = "birth_registered", _("birth registered")
    HOUSEHOLD_REGISTERED = "household_registered", _("household registered")
    MARRIAGE_REGISTERED = "marriage_registered", _("marriage registered")
    BUSINESS_REGISTERED = "business_registered", _("business registered")
    LICENCE_ISSUED = "licence_issued", _("licence issued")
    UNEMPLOYMENT_REGISTERED = "unemployment_registered", _("unemployment registered")
    DEATH_REGISTERED = "death_registered", _("death registered")
    # Date-driven milestones (the daily sweep).
    CHILD_2_MONTHS = "child_2_months", _("child reaches 2 months")
    CHILD_3_YEARS = "child_3_years", _("child reaches 3 years")
    CHILD_6_YEARS = "child_6_years", _("child reaches 6 years")
    AGE_16 = "age_16", _("reaches 16")
    AGE_60 = "age_60", _("reaches 60")
    AGE_65 = "age_65", _("reaches 65")
    LICENCE_EXPIRING = "licence_expiring", _("licence expires within 90 days")
    # An enterprise's figures read from the registers (a register changed, or the daily sweep): 惠企政策.
    ENTERPRISE_PROFILE = "enterprise_profile", _("enterprise figures checked")


class LifeEvent(TimeStampedModel):
    """事件: one occurrence of a life event for one person or organisation.

    ``key`` names the occurrence (a birth record, a marriage, a milestone date, a licence and its expiry), so
    that a replayed registry event or a second sweep of the same day records nothing twice.
    """

    Kind = LifeEventKind

    person = models.ForeignKey(
        "identity.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="life_events",
    )
    organisation = models.ForeignKey(
        "identity.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="life_events",
    )
    kind = models.CharField(_("kind"), max_length=32, choices=LifeEventKind.choices)
    key = models.CharField(_("occurrence key"), max_length=100)
    occurred_on = models.DateField(_("occurred on"))
    source_id = models.UUIDField(
        _("source"), null=True, blank=True, help_text=_("The outbox event or the sweep run that found it.")
    )
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("life event")
        verbose_name_plural = _("life events")
        ordering = ["-occurred_on", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False, organisation__isnull=True)
                | Q(person__isnull=True, organisation__isnull=False),
                name="proactive_lifeevent_one_subject",
            ),
            models.UniqueConstraint(
                fields=["person", "kind", "key"],
                condition=Q(person__isnull=False),
                name="proactive_lifeevent_once_person",
            ),
            models.UniqueConstraint(
                fields=["organisation", "kind", "key"],
                condition=Q(organisation__isnull=False),
                name="proactive_lifeevent_once_org",
            ),
        ]
        indexes = [models.Index(fields=["kind", "occurred_on"], name="proactive_lifeevent_kind_on")]

    def __str__(self):
        return f"{self.kind} {self.key}"

    @property
    def subject(self):
        return self.person if self.person_id else self.organisation


class ProactiveRule(TimeStampedModel):
    """主动服务规则: when a life event of ``trigger`` happens and ``condition`` holds, do ``action``."""

    class Action(models.TextChoices):
        NOTIFY = "notify", _("notify")
        OFFER = "offer", _("offer a prefilled application")
        GRANT = "grant", _("grant without application (免申即享)")

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    trigger = models.CharField(_("trigger"), max_length=32, choices=LifeEventKind.choices)
    condition = models.TextField(
        _("condition"),
        blank=True,
        help_text=_('A rule-engine expression, e.g. age >= 65 and district == "310106"; empty: always.'),
    )
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    topic = models.CharField(_("notification topic"), max_length=32)
    template = models.CharField(_("message template"), max_length=64)
    service = models.CharField(
        _("service"), max_length=64, blank=True, help_text=_("Bundle or service item code (offer, grant).")
    )
    once_per_subject = models.BooleanField(
        _("once per recipient"),
        default=False,
        help_text=_("At most one offer ever per recipient (otherwise one per life event)."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("proactive rule")
        verbose_name_plural = _("proactive rules")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=["notify", "offer", "grant"]), name="proactive_rule_action_valid"
            ),
            models.CheckConstraint(
                condition=Q(action="notify") | ~Q(service=""), name="proactive_rule_service_for_offer"
            ),
        ]
        indexes = [models.Index(fields=["trigger", "active"], name="proactive_rule_trigger")]

    def __str__(self):
        return f"{self.code} {self.name_zh}"

    @property
    def name(self):
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "").startswith("en") and self.name_en else self.name_zh


class Offer(TimeStampedModel):
    """推送: what one rule did for one recipient on one occurrence (a notice, an offer, or a grant)."""

    class Status(models.TextChoices):
        NOTIFIED = "notified", _("notified")
        OFFERED = "offered", _("offered")
        ACCEPTED = "accepted", _("accepted")
        DECLINED = "declined", _("declined")
        GRANTED = "granted", _("granted")
        EXPIRED = "expired", _("expired")

    rule = models.ForeignKey(
        ProactiveRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="offers", db_index=False
    )
    person = models.ForeignKey(
        "identity.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="offers",
        db_index=False,
    )
    organisation = models.ForeignKey(
        "identity.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="offers",
        db_index=False,
    )
    life_event = models.ForeignKey(
        LifeEvent, verbose_name=_("life event"), on_delete=models.PROTECT, related_name="offers"
    )
    occurrence = models.CharField(
        _("occurrence"),
        max_length=64,
        help_text=_("The life event's id, or 'once' for once-per-recipient rules."),
    )
    action = models.CharField(_("action"), max_length=8, choices=ProactiveRule.Action.choices)
    service = models.CharField(_("service"), max_length=64, blank=True)
    service_name = models.CharField(_("service name"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    prefilled = models.JSONField(_("prefilled form"), default=dict, blank=True)
    case_id = models.UUIDField(_("case"), null=True, blank=True)
    message_id = models.UUIDField(_("message"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # A bundle offer accepted in part: the codes of the bundle's items the recipient left for later ("not now");
    # the case takes the others, and the offer's page offers these to apply for later.
    items_later = models.JSONField(
        _("items left for later"), default=list, blank=True, db_default=Value([], JSONField())
    )

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False, organisation__isnull=True)
                | Q(person__isnull=True, organisation__isnull=False),
                name="proactive_offer_one_recipient",
            ),
            # Never twice: one offer per rule, recipient and occurrence, whatever retries or replays happen.
            models.UniqueConstraint(
                fields=["rule", "person", "occurrence"],
                condition=Q(person__isnull=False),
                name="proactive_offer_once_person",
            ),
            models.UniqueConstraint(
                fields=["rule", "organisation", "occurrence"],
                condition=Q(organisation__isnull=False),
                name="proactive_offer_once_org",
            ),
        ]
        indexes = [
            models.Index(fields=["person", "-created_at"], name="proactive_offer_person"),
            models.Index(fields=["organisation", "-created_at"], name="proactive_offer_org"),
            models.Index(fields=["rule", "status"], name="proactive_offer_rule_status"),
            # a day's offers made and decided, for indicators.compute
            models.Index(fields=["created_at"], name="proactive_offer_created"),
            models.Index(
                fields=["decided_at"],
                name="proactive_offer_decided",
                condition=models.Q(decided_at__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.rule.code} → {self.status}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("proactive:offer", args=[self.pk])

    @property
    def is_open(self):
        return self.status in (self.Status.OFFERED, self.Status.GRANTED)

    @property
    def display_service_name(self) -> str:
        """The offered service's name in the page's language (``service_name`` is the Chinese name it was offered
        under); the rule's name when the offer names no service."""
        from tongban.catalog.selectors import service_name_get

        return service_name_get(self.service) or self.service_name or self.rule.name


class RuleRun(UUIDModel):
    """A rule that failed or was skipped for one recipient: logged, and the sweep goes on."""

    class Outcome(models.TextChoices):
        FAILED = "failed", _("failed")
        OPTED_OUT = "opted_out", _("skipped: opted out")
        NO_RECIPIENT = "no_recipient", _("skipped: nobody to address")
        ALREADY_APPLIED = "already_applied", _("skipped: applied already")

    rule = models.ForeignKey(
        ProactiveRule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="runs"
    )
    life_event = models.ForeignKey(
        LifeEvent,
        verbose_name=_("life event"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    person = models.ForeignKey(
        "identity.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    organisation = models.ForeignKey(
        "identity.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("rule run")
        verbose_name_plural = _("rule runs")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.rule_id} {self.outcome}"


class EnterprisePolicy(TimeStampedModel):
    """惠企政策: a policy item for enterprises whose eligibility is its rule's condition on the enterprise's
    figures (trigger ``enterprise_profile``); the rule's action says whether eligible enterprises are told,
    offered a prefilled application, or granted without application (免申即享)."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    department = models.ForeignKey(
        "identity.Department",
        verbose_name=_("issuing department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    summary = models.TextField(_("what it gives"), blank=True)
    legal_basis = models.CharField(_("policy basis"), max_length=300, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    rule = models.OneToOneField(
        ProactiveRule, verbose_name=_("eligibility rule"), on_delete=models.PROTECT, related_name="policy"
    )

    class Meta:
        verbose_name = _("enterprise policy")
        verbose_name_plural = _("enterprise policies")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name_zh}"

    @property
    def name(self):
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "").startswith("en") and self.name_en else self.name_zh
