"""Messaging (消息): templates, the in-app inbox, SMS and e-mail deliveries, notification preferences.

A Message is the inbox row of one recipient (a person, or an organisation whose agents read it). It is always
written, even when the recipient switched the topic's inbox off (it is then hidden from the inbox), because
the SMS and e-mail Deliveries refer to it: nothing sent is ever lost. A Delivery is one attempt chain of one
channel; skipped deliveries stay, with the reason, so anyone can see why a message did not go out.
"""

import string

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tongban.core.masking import mask_phone
from tongban.core.models.base import TimeStampedModel
from tongban.identity.models import Organisation, Person

__all__ = [
    "CHANNELS",
    "PLACEHOLDERS",
    "TOPICS",
    "Delivery",
    "Message",
    "MessageTemplate",
    "NotificationPreference",
    "mask_address",
    "template_placeholders",
]

# Notification topics (通知主题): code -> (Chinese, English). People opt out per topic and channel.
TOPICS = {
    "newborn": ("新生儿", "Newborn"),
    "vaccination": ("疫苗接种", "Vaccinations"),
    "education": ("入园入学", "Kindergarten and school"),
    "enterprise": ("企业服务", "Enterprise services"),
    "elderly": ("养老服务", "Elderly services"),
    "licence-expiry": ("证照到期", "Licence expiry"),
    "case": ("办件进度", "Case progress"),
}
# The topic whose inbox cannot be switched off: a person must always be able to see what happens to a case.
MANDATORY_INBOX_TOPICS = frozenset({"case"})

CHANNELS = {"inbox": ("站内信", "Inbox"), "sms": ("短信", "SMS"), "email": ("电子邮件", "E-mail")}

# The placeholders a template may use; the sender fills them from the context it passes.
PLACEHOLDERS = {
    "name": "the recipient's name (a person or an organisation)",
    "baby_name": "the child's name",
    "child_name": "the child's name (alias of baby_name)",
    "service": "the service or bundle name",
    "link": "a link to the offer, case or page",
    "licence": "the licence's name",
    "licence_number": "the licence's number",
    "expires": "a date something expires",
    "date": "a date",
    "deadline": "a date by which to act",
    "vaccine": "the vaccine's name",
    "age": "an age in years or months",
    "organisation": "an organisation's name",
    "amount": "an amount of money",
    "case_number": "a case's number",
    "status": "a case's status",
    "school": "a kindergarten's or school's name",
    "service_en": "the service or bundle's English name (its Chinese name when it has none)",
    "items": "the materials and form fields asked for, one a line with the reason",
    "reason": "the reason given (for a refusal or a withdrawal)",
    "basis": "the legal basis of a decision",
    "results": "a case's result package, one result a line",
    "new_date": "the new date by which something is expected",
    "received": "the day an application's materials were received",
    "licence_en": "the licence's English name (its Chinese name when it has none)",
    "holder": "the name of a licence's holder",
}


def template_placeholders(text: str) -> list[str]:
    """The placeholder names in a ``str.format`` text, in order; ValidationError when the text is malformed.

    Only plain names are allowed: no attribute or index access (``{name.x}``, ``{name[0]}``), no positional
    fields, no conversions, so a template can never reach into the objects it is filled with.
    """
    names = []
    try:
        parsed = list(string.Formatter().parse(text or ""))
    except ValueError as exc:
        raise ValidationError(_("The text is malformed: %(error)s.") % {"error": exc}) from exc
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier():
            raise ValidationError(
                _("Placeholder {%(field)s} is not a plain name.") % {"field": field}, code="placeholder"
            )
        if spec or conversion:
            raise ValidationError(
                _("Placeholder {%(field)s} may not carry a format or conversion.") % {"field": field},
                code="placeholder",
            )
        names.append(field)
    return names


def mask_address(channel: str, address: str) -> str:
    """A phone number as ``138****5678``, an e-mail address as ``l***@example.cn``."""
    if not address:
        return ""
    if channel == "sms":
        return mask_phone(address)
    local, _at, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


class MessageTemplate(TimeStampedModel):
    """A message in both languages (消息模板) with ``{placeholders}`` from ``PLACEHOLDERS``."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    topic = models.CharField(_("topic"), max_length=32, choices=[(k, v[1]) for k, v in TOPICS.items()])
    subject_zh = models.CharField(_("Chinese subject"), max_length=200)
    body_zh = models.TextField(_("Chinese text"))
    subject_en = models.CharField(_("English subject"), max_length=200)
    body_en = models.TextField(_("English text"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code}: {self.subject_zh}"

    def clean(self):
        errors = {}
        for field in ("subject_zh", "body_zh", "subject_en", "body_en"):
            try:
                names = template_placeholders(getattr(self, field))
            except ValidationError as exc:
                errors[field] = exc.messages
                continue
            unknown = [name for name in dict.fromkeys(names) if name not in PLACEHOLDERS]
            if unknown:
                errors[field] = [
                    _("Unknown placeholder {%(name)s}; known: %(known)s.")
                    % {"name": name, "known": ", ".join(sorted(PLACEHOLDERS))}
                    for name in unknown
                ]
        if errors:
            raise ValidationError(errors)

    def placeholders(self) -> list[str]:
        """Every placeholder the template uses, once each."""
        found = []
        for field in ("subject_zh", "body_zh", "subject_en", "body_en"):
            found.extend(template_placeholders(getattr(self, field)))
        return list(dict.fromkeys(found))


class Message(TimeStampedModel):
    """One message in one recipient's inbox (站内信), rendered in Chinese and English when sent."""

    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="messages",
        db_index=False,
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="messages",
        db_index=False,
    )
    topic = models.CharField(_("topic"), max_length=32)
    template_code = models.SlugField(_("template"), max_length=64)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"))
    subject_en = models.CharField(_("English subject"), max_length=300, blank=True)
    body_en = models.TextField(_("English text"), blank=True)
    context = models.JSONField(_("context"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    in_inbox = models.BooleanField(
        _("shown in the inbox"),
        default=True,
        help_text=_(
            "False when the recipient switched this topic's inbox off; the row is kept all the same."
        ),
    )
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    dedupe_key = models.CharField(_("de-duplication key"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["person", "-created_at"], name="messaging_msg_person_idx"),
            models.Index(fields=["organisation", "-created_at"], name="messaging_msg_org_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False, organisation__isnull=True)
                | Q(person__isnull=True, organisation__isnull=False),
                name="messaging_message_one_recipient",
            ),
            models.UniqueConstraint(
                fields=["person", "dedupe_key"],
                condition=Q(person__isnull=False) & ~Q(dedupe_key=""),
                name="messaging_message_person_dedupe",
            ),
            models.UniqueConstraint(
                fields=["organisation", "dedupe_key"],
                condition=Q(organisation__isnull=False) & ~Q(dedupe_key=""),
                name="messaging_message_org_dedupe",
            ),
        ]

    def __str__(self):
        return self.subject

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("messaging:detail", args=[self.pk])

    @property
    def recipient(self):
        return self.person if self.person_id else self.organisation

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    def _english(self) -> bool:
        return (get_language() or "").startswith("en")

    @property
    def subject_display(self) -> str:
        return self.subject_en if self._english() and self.subject_en else self.subject

    @property
    def body_display(self) -> str:
        return self.body_en if self._english() and self.body_en else self.body


class Delivery(TimeStampedModel):
    """One message sent over one outside channel (SMS or e-mail), with its attempts and outcome."""

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("E-mail")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("skipped")

    message = models.ForeignKey(
        Message, verbose_name=_("message"), on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    address = models.CharField(_("address"), max_length=254, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    reason = models.CharField(
        _("reason"), max_length=64, blank=True, help_text=_("Why it was skipped: opted out, daily cap ...")
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=128, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="messaging_delivery_due_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=["sms", "email"]), name="messaging_delivery_channel"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "sent", "failed", "skipped"]),
                name="messaging_delivery_status",
            ),
        ]

    def __str__(self):
        return f"{self.channel} {self.masked_address} {self.status}"

    @property
    def masked_address(self) -> str:
        return mask_address(self.channel, self.address)


class NotificationPreference(TimeStampedModel):
    """A recipient's choice for one topic and channel (通知设置). No row means enabled."""

    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    topic = models.CharField(_("topic"), max_length=32, choices=[(k, v[1]) for k, v in TOPICS.items()])
    channel = models.CharField(_("channel"), max_length=8, choices=[(k, v[1]) for k, v in CHANNELS.items()])
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False, organisation__isnull=True)
                | Q(person__isnull=True, organisation__isnull=False),
                name="messaging_preference_one_owner",
            ),
            models.UniqueConstraint(
                fields=["person", "topic", "channel"],
                condition=Q(person__isnull=False),
                name="messaging_preference_person_unique",
            ),
            models.UniqueConstraint(
                fields=["organisation", "topic", "channel"],
                condition=Q(organisation__isnull=False),
                name="messaging_preference_org_unique",
            ),
            models.CheckConstraint(
                condition=~Q(topic__in=sorted(MANDATORY_INBOX_TOPICS), channel="inbox", enabled=False),
                name="messaging_preference_case_inbox_on",
            ),
        ]

    def __str__(self):
        return f"{self.topic}/{self.channel}: {'on' if self.enabled else 'off'}"
