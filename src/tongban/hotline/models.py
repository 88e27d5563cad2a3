"""The 12345 hotline's tickets (工单) and their closed loop: 受理 → 派单 → 办理 → 回复 → 督办 → 办结 → 回访 → 评价.

State changes go through ``services``; each writes a ``TicketStep`` (the ticket's timeline), an audit entry and
an event in one transaction. Dispatcher corrections of the classifier's routing are kept for retraining.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.models.base import TimeStampedModel
from tongban.identity.models import AdminUnit, Department, Person


class Ticket(TimeStampedModel):
    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone (operator)")
        WEB = "web", _("Web")
        APP = "app", _("App")
        MINI_PROGRAM = "mini_program", _("Mini-program")
        OPEN311 = "open311", _("Open311")

    class Type(models.TextChoices):
        CONSULT = "consult", _("Consultation")
        COMPLAINT = "complaint", _("Complaint")
        SUGGESTION = "suggestion", _("Suggestion")
        HELP = "help", _("Help request")
        REPORT = "report", _("Report")

    class Urgency(models.TextChoices):
        GENERAL = "general", _("General")
        URGENT = "urgent", _("Urgent")
        VERY_URGENT = "very_urgent", _("Very urgent")

    class Status(models.TextChoices):
        ANSWERED = "answered", _("Answered at first contact")
        DISPATCHING = "dispatching", _("Waiting for a dispatcher")
        DISPATCHED = "dispatched", _("Dispatched")
        IN_HAND = "in_hand", _("Being handled")
        REPLIED = "replied", _("Replied")
        CLOSED = "closed", _("Closed")
        REOPENED = "reopened", _("Reopened")
        MERGED = "merged", _("Merged into another ticket")

    class Extension(models.TextChoices):
        REQUESTED = "requested", _("Extension requested")
        APPROVED = "approved", _("Extension approved")
        REFUSED = "refused", _("Extension refused")

    OPEN = (Status.DISPATCHING, Status.DISPATCHED, Status.IN_HAND, Status.REOPENED)

    number = models.CharField(_("ticket number"), max_length=24, unique=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    ticket_type = models.CharField(_("type"), max_length=12, choices=Type.choices)
    urgency = models.CharField(_("urgency"), max_length=12, choices=Urgency.choices, default=Urgency.GENERAL)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, db_index=True)
    text = models.TextField(_("what the caller says"))
    district = models.ForeignKey(
        AdminUnit,
        verbose_name=_("district"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    street = models.ForeignKey(
        AdminUnit, verbose_name=_("street"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    caller = models.ForeignKey(
        Person,
        verbose_name=_("caller"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    contact_name = models.CharField(_("contact name"), max_length=64, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("taken by"), null=True, blank=True, on_delete=models.PROTECT
    )
    # Routing: what the classifier suggested, and where the ticket is now.
    suggested_department = models.SlugField(_("suggested department"), max_length=64, blank=True)
    suggestion_confidence = models.FloatField(_("confidence"), null=True, blank=True)
    # The classifier's three best departments at intake, ``[[code, probability], ...]`` best first: what a
    # dispatcher chooses among when the ticket was not dispatched automatically.
    suggested_top3 = models.JSONField(_("suggested top three"), default=list, blank=True)
    model_version = models.CharField(_("routing model"), max_length=16, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,
    )
    answer = models.TextField(_("answer at first contact"), blank=True)
    reply = models.TextField(_("department's reply"), blank=True)
    limit_days = models.PositiveSmallIntegerField(_("limit (working days)"), default=5)
    clock = models.JSONField(_("clock"), default=dict, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True, db_index=True)
    warning = models.CharField(_("warning"), max_length=6, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # What the ticket is about (a topic of the routing corpus, predicted at intake): hotspots and spikes count it.
    topic = models.SlugField(_("topic"), max_length=32, blank=True)
    # A ticket that looks like an open one about the same problem at the same place, proposed for merging.
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("possible duplicate of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # 督办: a supervisor presses the department about this ticket.
    supervised_at = models.DateTimeField(_("supervised since"), null=True, blank=True)
    supervision_note = models.TextField(_("supervision note"), blank=True)
    supervision_due = models.DateField(_("supervision due"), null=True, blank=True)
    # A complex ticket's extension to 15 working days, asked by the department, decided by a supervisor.
    extension = models.CharField(_("extension"), max_length=10, choices=Extension.choices, blank=True)
    extension_reason = models.TextField(_("reason for the extension"), blank=True)
    faq = models.ForeignKey(
        "FaqEntry",
        verbose_name=_("answered with"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    service_code = models.SlugField(_("service item"), max_length=64, blank=True)
    case_number = models.CharField(_("case"), max_length=32, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["department", "status", "due_date"], name="hotline_ticket_inbox"),
            # Duplicates: a district's open tickets, newest first (whatever their topic: issue 12). Partial, so that
            # the closed history of a year (hundreds of thousands a district) is neither kept in it nor walked.
            models.Index(
                fields=["district", "created_at"],
                name="hotline_ticket_open_place",
                # Ticket.OPEN, in its order (SQLite uses a partial index when the query's term is the same).
                condition=models.Q(status__in=["dispatching", "dispatched", "in_hand", "reopened"]),
            ),
            # a day's tickets taken and closed, for indicators.compute
            models.Index(fields=["created_at"], name="hotline_ticket_created"),
            models.Index(
                fields=["closed_at"],
                name="hotline_ticket_closed",
                condition=models.Q(closed_at__isnull=False),
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def is_open(self):
        return self.status in self.OPEN


class FaqEntry(TimeStampedModel):
    """A question and its answer in the hotline's knowledge base (知识库), beside the catalogue's service guides.

    ``search_text`` holds the jieba search tokens of the question, the answer and the keywords (kept by
    ``services.faq_save``); the console finds entries with the catalogue's token search.
    """

    question = models.CharField(_("question"), max_length=200)
    answer = models.TextField(_("answer"))
    question_en = models.CharField(_("question in English"), max_length=300, blank=True)
    answer_en = models.TextField(_("answer in English"), blank=True)
    keywords = models.CharField(_("keywords"), max_length=200, blank=True)
    department = models.SlugField(_("department"), max_length=64, blank=True)
    service_code = models.SlugField(_("service item"), max_length=64, blank=True)
    active = models.BooleanField(_("active"), default=True)
    search_text = models.TextField(_("search tokens"), blank=True, editable=False)

    class Meta:
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ entries")
        ordering = ["question"]
        constraints = [models.UniqueConstraint(fields=["question"], name="hotline_faq_question_unique")]

    def __str__(self):
        return self.question


class TicketStep(models.Model):
    """One line of a ticket's timeline."""

    KINDS = {
        "taken": _("Taken"),
        "dispatched": _("Dispatched"),
        "returned": _("Returned by the department"),
        "accepted": _("Taken in hand"),
        "replied": _("Replied"),
        "called_back": _("Called back"),
        "reopened": _("Reopened"),
        "merged": _("Merged into another ticket"),
        "merged_in": _("Duplicate merged in"),
        "not_duplicate": _("Not a duplicate"),
        "supervised": _("Supervised (督办)"),
        "extension_requested": _("Extension requested"),
        "extension_approved": _("Extension approved"),
        "extension_refused": _("Extension refused"),
    }

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="steps")
    at = models.DateTimeField(_("at"))
    kind = models.SlugField(_("kind"), max_length=32)
    actor = models.CharField(_("by"), max_length=200, blank=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("ticket step")
        verbose_name_plural = _("ticket steps")
        ordering = ["ticket", "at", "id"]
        indexes = [models.Index(fields=["at"], name="hotline_ticketstep_at")]  # a day's steps, for indicators

    def __str__(self):
        return f"{self.ticket_id} {self.kind}"

    @property
    def kind_label(self):
        return self.KINDS.get(self.kind, self.kind)


class RoutingCorrection(models.Model):
    """A dispatcher's correction of the routing: the text and the department that really handles it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="corrections")
    text = models.TextField(_("text"))
    suggested = models.SlugField(_("suggested"), max_length=64, blank=True)
    department = models.SlugField(_("department"), max_length=64)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("routing correction")
        verbose_name_plural = _("routing corrections")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.suggested} → {self.department}"


class Open311Client(models.Model):
    """A client of the Open311 GeoReport v2 endpoint (an app, a partner's system) and its api_key.

    Only the SHA-256 hash of the key is kept; its first characters (``key_prefix``) find the row, the hash
    is compared in constant time. The key itself is shown once, when it is made.
    """

    name = models.CharField(_("name"), max_length=100)
    key_prefix = models.CharField(_("key prefix"), max_length=12, unique=True)
    key_hash = models.CharField(_("key hash"), max_length=64)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"


class Open311Request(models.Model):
    """What an Open311 POST said beyond the ticket: the client, the service code and the position."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="open311")
    client = models.ForeignKey(Open311Client, on_delete=models.PROTECT, related_name="requests")
    service_code = models.SlugField(_("Open311 service code"), max_length=64, db_index=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    long = models.FloatField(_("longitude"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 request")
        verbose_name_plural = _("Open311 requests")

    def __str__(self):
        return f"{self.service_code} {self.ticket_id}"


class SpikeAlert(models.Model):
    """A spike (突发): on ``day`` a topic in a district drew far more tickets than its usual level.

    Raised once per topic, district and day by the analytics job (``analytics``), for supervisors to look into.
    """

    topic = models.SlugField(_("topic"), max_length=32, db_index=False)
    district = models.ForeignKey(
        AdminUnit, verbose_name=_("district"), on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(_("day"))
    count = models.PositiveIntegerField(_("tickets that day"))
    baseline = models.FloatField(_("usual level (tickets a day)"))
    raised_at = models.DateTimeField(_("raised at"))

    class Meta:
        verbose_name = _("spike alert")
        verbose_name_plural = _("spike alerts")
        ordering = ["-day", "-count"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "district", "day"], name="hotline_spike_once_a_day")
        ]

    def __str__(self):
        return f"{self.day} {self.topic} {self.district_id}: {self.count}"


class TicketAttachment(models.Model):
    """A file the caller sent with a ticket (a photo of the problem, a receipt): JPEG, PNG or PDF, checked by
    its first bytes; served only to staff who may see the ticket, each download audited."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to="hotline/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["ticket", "uploaded_at", "pk"]

    def __str__(self):
        return self.name
