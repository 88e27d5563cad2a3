"""BPMN process definitions, their running instances, and the Tasks they put in department inboxes (待办).

The engine is SpiffWorkflow. A ProcessInstance keeps the serialised workflow (without its spec, which the
definition holds); a Task row mirrors one ready user task so that inboxes are plain indexed queries.
``workflow`` knows a case only by its id and a few denormalised labels: ``cases`` drives it, never the reverse.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.models.base import TimeStampedModel
from tongban.identity.models import Department


class ProcessDefinition(TimeStampedModel):
    """One version of a BPMN process; a running case keeps the version it started with."""

    key = models.SlugField(_("process key"), max_length=64, db_index=False)
    version = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=128)
    process_id = models.CharField(_("BPMN process id"), max_length=128)
    bpmn_xml = models.TextField(_("BPMN 2.0 XML"))
    checksum = models.CharField(_("SHA-256"), max_length=64)
    lanes = models.JSONField(
        _("lanes"), default=dict, help_text=_("{lane name: {department, role, district}}")
    )
    user_tasks = models.JSONField(_("user tasks"), default=list)
    uploaded_by = models.CharField(_("uploaded by"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("process definition")
        verbose_name_plural = _("process definitions")
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="workflow_definition_version_unique")
        ]

    def __str__(self):
        return f"{self.key} v{self.version}"


class ProcessInstance(TimeStampedModel):
    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUSPENDED = "suspended", _("Waiting for the applicant")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    definition = models.ForeignKey(ProcessDefinition, verbose_name=_("definition"), on_delete=models.PROTECT)
    case_id = models.UUIDField(_("case"), unique=True)
    district = models.CharField(_("district with jurisdiction"), max_length=12, blank=True)
    department = models.SlugField(_("implementing department"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    state = models.TextField(_("serialised workflow"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    revision = models.PositiveIntegerField(_("revision"), default=0)

    class Meta:
        verbose_name = _("process instance")
        verbose_name_plural = _("process instances")

    def __str__(self):
        return f"{self.definition} · {self.case_id}"


class Task(TimeStampedModel):
    """A user task waiting in a department role's inbox (待办)."""

    class State(models.TextChoices):
        READY = "ready", _("Waiting to be claimed")
        CLAIMED = "claimed", _("In hand")
        WAITING = "waiting", _("Waiting for the applicant")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    class Decision(models.TextChoices):
        APPROVE = "approve", _("Approve")
        REJECT = "reject", _("Refuse")
        RETURN = "return", _("Return to the previous step")

    OPEN_STATES = (State.READY, State.CLAIMED, State.WAITING)

    instance = models.ForeignKey(
        ProcessInstance, verbose_name=_("process"), on_delete=models.CASCADE, related_name="tasks"
    )
    # Indexed with the department (``workflow_task_case_dept``, below), not alone.
    case_id = models.UUIDField(_("case"))
    case_number = models.CharField(_("case number"), max_length=32)
    case_title = models.CharField(_("case"), max_length=200)
    spiff_id = models.UUIDField(_("engine task id"))
    bpmn_id = models.CharField(_("step id"), max_length=128)
    name = models.CharField(_("step"), max_length=200)
    # The step's English name from its process (``tongban:nameEn``), for English pages; ``name`` stays the record.
    name_en = models.CharField(_("step in English"), max_length=200, blank=True, default="", db_default="")
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="tasks",
        db_index=False,
    )
    # Not indexed (a SlugField is by default): the inbox filters by role within a department's open tasks (its own
    # indexes), and a handful of roles makes an index of no use to the admin's filter either (workflow/0006).
    role = models.SlugField(_("role"), max_length=32, db_index=False)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.READY)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.CharField(_("completed by"), max_length=200, blank=True)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    opinion = models.TextField(_("opinion"), blank=True)
    limit_days = models.PositiveSmallIntegerField(_("limit (working days)"), default=1)
    clock = models.JSONField(_("clock"), default=dict)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    warning = models.CharField(_("warning"), max_length=6, blank=True)  # "", "yellow", "red"
    revision = models.PositiveIntegerField(_("revision"), default=0)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_date", "created_at"]
        indexes = [
            models.Index(fields=["department", "state", "due_date"], name="workflow_task_inbox"),
            models.Index(fields=["state", "due_date"], name="workflow_task_due"),
            # A case's tasks, and whether a department has one: the staff case list's bundle and service sources
            # ask the latter for each case they walk (``cases.selectors.case_has_task_in``), and answer from this
            # index alone instead of reading each of the case's task rows.
            models.Index(fields=["case_id", "department"], name="workflow_task_case_dept"),
            # The open inbox in its keyset order; the condition must stay the one
            # workflow.selectors.OPEN_STATES_SQL states (a partial index serves only such queries).
            models.Index(
                fields=["department", "due_date", "created_at", "id"],
                name="workflow_task_open_inbox",
                condition=models.Q(state__in=("ready", "claimed", "waiting")),
            ),
        ]

    def __str__(self):
        return f"{self.case_number} · {self.name}"

    @property
    def is_open(self):
        return self.state in self.OPEN_STATES

    @property
    def display_name(self) -> str:
        """The step's name in the page's language (its English name on an English page when the process has one)."""
        from django.utils.translation import get_language

        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name
