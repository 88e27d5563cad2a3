"""Cases (办件): one application for a service item or a bundle, from submission to result.

Status changes only through ``services``; every change writes a CaseStep (the applicant's timeline), an audit
entry and an event in one transaction.
"""

from django.conf import settings
from django.db import models
from django.db.models import JSONField, Value
from django.utils.translation import gettext_lazy as _

from tongban.catalog.models import Bundle, ServiceItem
from tongban.core.models.base import TimeStampedModel
from tongban.identity.models import AdminUnit, Department, Organisation, Person

# The open statuses as the partial list indexes name them (see Case.Meta.indexes).
LIST_OPEN_STATUSES = ("submitted", "accepted", "in_progress", "supplement", "resubmitted")
# The columns of the supervision list (supervision.selectors.case_watch_list) besides the keyset and the lead
# department: carried by the open-case indexes, so that the list never reads the table.
OPEN_LIST_COVERED = (
    "warning",
    "status",
    "number",
    "title",
    "item",
    "bundle",
    "promised_limit_days",
    "submitted_at",
    "accepted_at",
)


# 受理期限: an application is accepted, or told at once everything it lacks, within five working days of its
# submission; past them it counts as accepted from the day it arrived (《行政许可法》第三十二条、第八十二条).
ACCEPTANCE_WORKING_DAYS = 5


class Case(TimeStampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        ACCEPTED = "accepted", _("Accepted")
        IN_PROGRESS = "in_progress", _("In progress")
        SUPPLEMENT = "supplement", _("Supplement requested")  # 补正
        RESUBMITTED = "resubmitted", _("Resubmitted")
        REJECTED = "rejected", _("Refused")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        COMPLETED = "completed", _("Completed")

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online")
        WINDOW = "window", _("At a window")
        API = "api", _("Through the API")
        PROACTIVE = "proactive", _("Granted without application")  # 免申即享

    # The status sets, defined here once (cases.lifecycle's transition table and every other app use them).
    CLOSED_STATUSES = frozenset({Status.REJECTED, Status.WITHDRAWN, Status.COMPLETED})
    OPEN_STATUSES = frozenset(
        {Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS, Status.SUPPLEMENT, Status.RESUBMITTED}
    )
    # Open and running: its steps can be worked and its clock runs (not waiting for the applicant).
    WORKABLE_STATUSES = frozenset({Status.ACCEPTED, Status.IN_PROGRESS, Status.RESUBMITTED})

    number = models.CharField(_("case number"), max_length=32, unique=True)
    item = models.ForeignKey(
        ServiceItem,
        verbose_name=_("service item"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    bundle = models.ForeignKey(
        Bundle,
        verbose_name=_("bundle"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    title = models.CharField(_("title"), max_length=200)
    applicant_person = models.ForeignKey(
        Person,
        verbose_name=_("applicant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    applicant_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("applicant organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    applicant_name = models.CharField(_("applicant name"), max_length=200)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="submitted_cases",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    # 全市通办: where the case was accepted and who has jurisdiction are recorded apart.
    accepting_department = models.ForeignKey(
        Department,
        verbose_name=_("accepting unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    jurisdiction_district = models.ForeignKey(
        AdminUnit,
        verbose_name=_("district with jurisdiction"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lead_department = models.ForeignKey(
        Department,
        verbose_name=_("lead department"),
        on_delete=models.PROTECT,
        related_name="led_cases",
        db_index=False,
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    form_data = models.JSONField(_("form data"), default=dict)
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, blank=True)
    # SHA-256 of the submission (service, applicant, form, materials' hashes): a replayed key must match it.
    idempotency_fingerprint = models.CharField(_("idempotency fingerprint"), max_length=64, blank=True)
    promised_limit_days = models.PositiveSmallIntegerField(_("promised limit (working days)"))
    legal_limit_days = models.PositiveSmallIntegerField(_("legal limit (working days)"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    clock = models.JSONField(_("clock"), default=dict, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True, db_index=True)
    warning = models.CharField(_("warning"), max_length=6, blank=True)
    result = models.JSONField(_("result package"), default=list, blank=True)
    rejection_reason = models.TextField(_("reason for refusal"), blank=True)
    rejection_basis = models.TextField(_("legal basis for refusal"), blank=True)
    withdrawal_reason = models.TextField(_("reason for withdrawal"), blank=True)
    # Measures (kept as the case moves; final when it closes).
    natural_days = models.PositiveIntegerField(_("natural days"), null=True, blank=True)
    working_days = models.PositiveIntegerField(_("working days"), null=True, blank=True)
    paused_working_days = models.PositiveIntegerField(_("working days paused"), default=0)
    visits = models.PositiveSmallIntegerField(_("in-person visits"), default=0)
    materials_uploaded = models.PositiveSmallIntegerField(_("materials uploaded"), default=0)
    steps = models.PositiveSmallIntegerField(_("steps"), default=0)
    departments_involved = models.JSONField(_("departments involved"), default=list, blank=True)
    # A bundle case applied for part of its items: the codes of the items it does not take ("not now"), whose
    # materials are not asked, whose steps pass by and whose results are not issued (empty: the whole bundle).
    items_skipped = models.JSONField(
        _("service items not applied for"), default=list, blank=True, db_default=Value([], JSONField())
    )

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-submitted_at", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(item__isnull=False, bundle__isnull=True)
                    | models.Q(item__isnull=True, bundle__isnull=False)
                ),
                name="cases_case_item_xor_bundle",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(applicant_person__isnull=False) | models.Q(applicant_organisation__isnull=False)
                ),
                name="cases_case_has_applicant",
            ),
            models.UniqueConstraint(
                fields=["submitted_by", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="cases_case_idempotent_submit",
            ),
        ]
        indexes = [
            models.Index(fields=["applicant_person", "-created_at"], name="cases_case_person"),
            # The lists (see cases.selectors and supervision.selectors): each filter, then the keyset order.
            models.Index(fields=["lead_department", "created_at", "id"], name="cases_case_lead_list"),
            models.Index(
                fields=["accepting_department", "created_at", "id"], name="cases_case_accepting_list"
            ),
            models.Index(fields=["bundle", "created_at", "id"], name="cases_case_bundle_list"),
            models.Index(fields=["item", "created_at", "id"], name="cases_case_item_list"),
            models.Index(fields=["status", "created_at", "id"], name="cases_case_status_list"),
            # The same lists filtered by a status: one index range each, not a walk of the status's cases in
            # list order checking the department (hundreds of table rows a page for a rare status at a million).
            models.Index(
                fields=["lead_department", "status", "created_at", "id"], name="cases_case_lead_status"
            ),
            models.Index(
                fields=["accepting_department", "status", "created_at", "id"], name="cases_case_accept_status"
            ),
            models.Index(fields=["bundle", "status", "created_at", "id"], name="cases_case_bundle_status"),
            models.Index(fields=["item", "status", "created_at", "id"], name="cases_case_item_status"),
            # Open cases by due date. The condition must stay, constant for constant and in this order, the
            # one supervision.selectors.OPEN_CASES_SQL states (a partial index serves only such queries).
            # Both cover the supervision list (every column it shows is in the index, after the keyset's): a
            # page, or a department head's scope of several departments sorted by due date, is read from the
            # index alone, never from the table's pages scattered over the file. Open cases are a few percent
            # of the table, so the wide entries cost little.
            models.Index(
                fields=["due_date", "id", "lead_department", *OPEN_LIST_COVERED],
                name="cases_case_open_due_cover",
                condition=models.Q(status__in=LIST_OPEN_STATUSES),
            ),
            models.Index(
                fields=["lead_department", "due_date", "id", *OPEN_LIST_COVERED],
                name="cases_case_open_lead_cover",
                condition=models.Q(status__in=LIST_OPEN_STATUSES),
            ),
            # indicators.compute reads each day's cases by these times (the worker's hourly refresh): a range
            # of the index, not a scan of the city's history.
            models.Index(fields=["submitted_at"], name="cases_case_submitted_at"),
            models.Index(
                fields=["closed_at"], name="cases_case_closed_at", condition=models.Q(closed_at__isnull=False)
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("cases:detail", args=[self.number])

    @property
    def is_closed(self):
        return self.status in self.CLOSED_STATUSES

    @property
    def acceptance_clock(self):
        """The acceptance period as a clock: ``ACCEPTANCE_WORKING_DAYS`` working days from submission (the same
        calendar and warning policy as the handling limit; supervision cards a case left waiting past it). None
        before the case is submitted."""
        if self.submitted_at is None:
            return None
        from tongban.core.sla import SLAClock

        return SLAClock.start(self.submitted_at, ACCEPTANCE_WORKING_DAYS)

    @property
    def acceptance_due_on(self):
        """The last day to accept the case or refuse acceptance: ``ACCEPTANCE_WORKING_DAYS`` working days after
        its submission, on the working-day calendar; None before it is submitted."""
        clock = self.acceptance_clock
        return clock.due_date() if clock is not None else None

    @property
    def service(self):
        return self.bundle or self.item


class CaseMaterial(TimeStampedModel):
    """A material provided for a case, with where it came from and how far it can be trusted."""

    class Origin(models.TextChoices):
        UPLOAD = "upload", _("Uploaded by the applicant")
        WINDOW = "window", _("Checked at a window")
        LICENCE = "licence", _("From an e-licence")
        REGISTRY = "registry", _("From a department's registry")
        PLEDGE = "pledge", _("Personal pledge")

    class Trust(models.TextChoices):
        A = "A", _("A: issued by the authority")
        B = "B", _("B: checked at a window")
        C = "C", _("C: uploaded by the applicant")
        D = "D", _("D: personal pledge")

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="materials")
    item_code = models.CharField(_("service item"), max_length=40)
    code = models.SlugField(_("material"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices, default=Origin.UPLOAD)
    trust = models.CharField(_("trust level"), max_length=1, choices=Trust.choices, default=Trust.C)
    file = models.FileField(_("file"), upload_to="cases/%Y/%m/", blank=True)
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    size = models.PositiveIntegerField(_("size"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    reference = models.CharField(
        _("reference"), max_length=200, blank=True, help_text=_("Licence or record number.")
    )
    superseded = models.BooleanField(_("superseded"), default=False)

    class Meta:
        verbose_name = _("case material")
        verbose_name_plural = _("case materials")
        ordering = ["case", "item_code", "code", "created_at"]

    def __str__(self):
        return self.name

    @property
    def display_name(self) -> str:
        """The material's name in the page's language: the catalogue's English name of the material (by item and
        material code) on an English page; ``name`` (Chinese, as submitted) stays the record."""
        return material_name(self.item_code, self.code, self.name)


def material_name(item_code: str, code: str, name: str) -> str:
    """A case material's name in the page's language (see ``CaseMaterial.display_name``)."""
    from django.utils.translation import get_language

    if not (get_language() or "").startswith("en"):
        return name
    from tongban.catalog.selectors import material_names_en

    return material_names_en().get((item_code, code)) or name


class CaseStep(models.Model):
    """One line of a case's timeline: what happened, where, by which role, and what is awaited next."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(_("at"))
    # Not indexed (a SlugField is by default): no query selects timeline lines by kind or role, and every
    # transition writes a line (cases/0008).
    kind = models.SlugField(_("kind"), max_length=32, db_index=False)
    label = models.CharField(_("what happened"), max_length=200)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    role = models.SlugField(_("role"), max_length=32, blank=True, db_index=False)
    actor = models.CharField(_("by"), max_length=200, blank=True)
    task_id = models.UUIDField(_("task"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    awaiting = models.CharField(_("awaiting"), max_length=300, blank=True)
    # The label's msgid and arguments, so the timeline reads in the visitor's language, not the writer's.
    params = models.JSONField(_("label parameters"), default=dict, blank=True)

    class Meta:
        verbose_name = _("case step")
        verbose_name_plural = _("case steps")
        ordering = ["case", "at", "id"]

    def __str__(self):
        return f"{self.case_id} {self.kind}"

    @property
    def display_label(self):
        """The label in the active language (the stored ``label`` is in the language of whoever acted)."""
        return render_message(self.params, self.label)

    @property
    def display_awaiting(self):
        """What is awaited, in the active language: each task's department and step (``params["awaiting"]``, a
        list of ``[department code, step, step in English]``) or a message (``{"msgid", "args"}``); the stored
        ``awaiting`` (in the writer's language) when the line has neither."""
        spec = (self.params or {}).get("awaiting")
        return awaiting_render(spec, self.awaiting)


def _args_in_language(args) -> dict:
    """A message's arguments for the page's language: on an English page ``<name>_en`` replaces ``<name>`` when
    it is recorded (a step's or material's name is stored in Chinese, its English beside it)."""
    from django.utils.translation import get_language

    args = dict(args or {})
    if (get_language() or "").startswith("en"):
        for name in [n for n in args if not n.endswith("_en")]:
            if args.get(f"{name}_en"):
                args[name] = args[f"{name}_en"]
    return args


def render_message(params, fallback: str) -> str:
    """``{"msgid": ..., "args": {...}}`` rendered in the active language; ``fallback`` without one."""
    from django.utils.translation import gettext

    msgid = (params or {}).get("msgid")
    if not msgid:
        return fallback
    args = _args_in_language(params.get("args"))
    try:
        return gettext(msgid) % args if args else gettext(msgid)
    except (KeyError, TypeError, ValueError):
        return fallback


def awaiting_render(spec, fallback: str) -> str:
    """What a timeline line awaits, in the active language (see ``CaseStep.display_awaiting``)."""
    from django.utils.translation import get_language

    if isinstance(spec, dict):
        return render_message(spec, fallback)
    if not isinstance(spec, list) or not spec:
        return fallback
    from tongban.identity.selectors import department_names

    english = (get_language() or "").startswith("en")
    names = department_names()
    parts = []
    for department_code, step, step_en in spec:
        zh, en = names.get(department_code, ("", ""))
        name = en if english and en else zh
        step = step_en if english and step_en else step
        parts.append(f"{name}·{step}" if name else step)
    return ("; " if english else "；").join(parts)


# How many working days an applicant is given to answer a request for supplements (补正期限), by default.
SUPPLEMENT_WORKING_DAYS = 10


class SupplementRequest(TimeStampedModel):
    """补正: one complete list of everything missing, asked at once; the case clock stops until it is answered."""

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="supplements"
    )
    task_id = models.UUIDField(_("task"), null=True, blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.CharField(_("requested by"), max_length=200)
    materials = models.JSONField(
        _("materials"), default=list
    )  # [{"item": code, "code": code, "name": ..., "reason": ...}]
    fields = models.JSONField(_("form fields"), default=list)  # [{"field": name, "reason": ...}]
    note = models.TextField(_("note"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("supplement request")
        verbose_name_plural = _("supplement requests")
        ordering = ["case", "created_at"]

    def __str__(self):
        return f"{self.case_id} supplement"

    @property
    def due_on(self):
        """The day by which the applicant is asked to answer: ``TONGBAN_SUPPLEMENT_DAYS`` working days (10 by
        default) after the request, on the working-day calendar."""
        from tongban.core import calendar

        days = int(getattr(settings, "TONGBAN_SUPPLEMENT_DAYS", SUPPLEMENT_WORKING_DAYS))
        return calendar.add_working_days(calendar.as_local_date(self.created_at), days)
