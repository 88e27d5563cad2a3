"""Reads for the staff pages, filtered by who is asking.

The pages read other apps only through their selectors; what is here shapes those answers for the pages
(inbox counts, the fields and materials of a service's form, the applicant a clerk serves).
"""

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.urls import reverse

from tongban.cases.forms import choice_label
from tongban.cases.models import ACCEPTANCE_WORKING_DAYS
from tongban.cases.selectors import case_awaiting_acceptance, case_numbers
from tongban.catalog import selectors as catalog
from tongban.catalog.models import Bundle, ServiceObject
from tongban.catalog.schema import field_description, field_order, field_title, section_title
from tongban.core import calendar
from tongban.core.labels import audit_action_label, subject_type_label
from tongban.core.selectors import audit_entry_list
from tongban.hotline.selectors import ticket_numbers
from tongban.identity.models import Organisation
from tongban.identity.permissions import PERMISSIONS, has_permission
from tongban.identity.selectors import actor_for, organisation_list_for_user, person_list, staff_for
from tongban.workflow.selectors import inbox_for


def audit_entries_for(user, *, limit=20):
    """The latest audit entries ``user`` may see, and whether they are the whole department's.

    Those with ``audit.view`` for their department (its head, supervisors, data stewards) see the
    department's entries; everyone else sees only their own actions.
    """
    staff = staff_for(user)
    department_wide = staff is not None and has_permission(user, "audit.view", department=staff.department)
    if department_wide:
        return audit_entry_list(department=staff.department.code, limit=limit), True
    return audit_entry_list(actor=actor_for(user), limit=limit), False


def audit_subjects_named(entries) -> list:
    """Give each audit entry words for its action and subject, and a link where the subject has a page.

    ``entry.action_label`` is the action's name (not ``case.accepted``); ``entry.subject_text`` names the
    subject by its number where it has one (a case, a ticket, a licence), its kind otherwise; ``entry.subject_url``
    is the staff page of a case or a ticket. The link is only a link: the page checks who may open it.
    """
    entries = list(entries)
    case_ids = {e.case_id or e.subject_id for e in entries if e.subject_type in ("case", "task") or e.case_id}
    ticket_ids = {e.ticket_id or e.subject_id for e in entries if e.subject_type == "ticket" or e.ticket_id}
    cases = case_numbers(case_ids)
    tickets = ticket_numbers(ticket_ids)
    for entry in entries:
        entry.action_label = audit_action_label(entry.action)
        kind = subject_type_label(entry.subject_type)
        entry.subject_text, entry.subject_url = kind, ""
        case_number = cases.get(entry.case_id or (entry.subject_id if entry.subject_type == "case" else ""))
        ticket_number = tickets.get(
            entry.ticket_id or (entry.subject_id if entry.subject_type == "ticket" else "")
        )
        if entry.subject_type == "permission" and entry.subject_id in PERMISSIONS:
            entry.subject_text = f"{kind}: {PERMISSIONS[entry.subject_id].label}"
        elif entry.subject_type == "licence" and entry.subject_id:
            entry.subject_text = f"{kind} {entry.subject_id}"
        elif case_number:
            entry.subject_text = (
                f"{kind} {case_number}" if entry.subject_type == "case" else f"{kind} · {case_number}"
            )
            entry.subject_url = reverse("workbench:case", args=[case_number])
        elif ticket_number:
            entry.subject_text = f"{kind} {ticket_number}"
            entry.subject_url = reverse("hotline:ticket", args=[ticket_number])
    return entries


# --- inbox and time limits ----------------------------------------------------------------------------------


def _red_q(today):
    return Q(warning="red") | Q(due_date__lt=today)


def _yellow_q(today):
    return (Q(warning="yellow") | Q(due_date=today)) & ~_red_q(today)


def due_level(task, today=None) -> str:
    """``red`` for an overdue task (or one carrying a red card), ``yellow`` on its last working day, else ""."""
    today = today or calendar.today()
    if task.warning == "red" or (task.due_date and task.due_date < today):
        return "red"
    if task.warning == "yellow" or (task.due_date and task.due_date == today):
        return "yellow"
    return ""


def acceptance_level(case, today=None) -> str:
    """For a case awaiting acceptance: ``late`` past its acceptance day (``Case.acceptance_due_on``), ``today`` on
    it, else "" (the window's awaiting list)."""
    today = today or calendar.today()
    due = case.acceptance_due_on
    if due is None or today < due:
        return ""
    return "today" if today == due else "late"


def inbox_summary(user, *, today=None) -> dict:
    """Counts for the workbench home: my inbox, near due (yellow), overdue (red), awaiting acceptance."""
    today = today or calendar.today()
    counts = (
        inbox_for(user)
        .order_by()
        .aggregate(
            total=Count("pk"),
            yellow=Count("pk", filter=_yellow_q(today)),
            red=Count("pk", filter=_red_q(today)),
        )
    )
    awaiting = awaiting_late = None
    if has_permission(user, "case.accept"):
        waiting = case_awaiting_acceptance(user).order_by()
        awaiting = waiting.count()
        awaiting_late = (
            waiting.filter(
                submitted_at__lt=calendar.start_of_day(_last_day_now_late(today) + dt.timedelta(days=1))
            ).count()
            if awaiting
            else 0
        )
    return {**counts, "awaiting": awaiting, "awaiting_late": awaiting_late}


def _last_day_now_late(today) -> dt.date:
    """The last day of submission whose acceptance day (``Case.acceptance_due_on``) is before ``today``: a case
    submitted on it or before, still waiting, is past its acceptance day."""
    day = today - dt.timedelta(days=1)
    while calendar.add_working_days(day, ACCEPTANCE_WORKING_DAYS) >= today:
        day -= dt.timedelta(days=1)
    return day


def inbox_page_for(user, *, state=None):
    """The inbox, optionally narrowed to one open state."""
    states = [state] if state else None
    return inbox_for(user, states=states)


# --- the applicant at a window ------------------------------------------------------------------------------


def applicant_find(user, *, kind: str, identifier: str):
    """The person (by resident ID) or organisation (by credit code) a clerk may look up, or None."""
    identifier = (identifier or "").replace("\x00", "").strip().upper()
    if len(identifier) != 18:
        return None
    if kind == "organisation":
        return (
            organisation_list_for_user(for_user=user, search=identifier)
            .filter(credit_code=identifier)
            .first()
        )
    return person_list(for_user=user, search=identifier).filter(resident_id=identifier).first()


def applicant_token(applicant) -> str:
    """How the pages carry the chosen applicant from step to step: ``person:<uuid>``."""
    kind = "organisation" if isinstance(applicant, Organisation) else "person"
    return f"{kind}:{applicant.pk}"


def applicant_from_token(user, token: str):
    """The applicant a token names, if ``user`` may look them up; else None."""
    kind, _sep, pk = (token or "").partition(":")
    try:
        if kind == "person":
            return person_list(for_user=user).filter(pk=pk).first()
        if kind == "organisation":
            return organisation_list_for_user(for_user=user).filter(pk=pk).first()
    except (ValidationError, ValueError):  # not a UUID
        return None
    return None


# --- services, their forms and materials --------------------------------------------------------------------


def _serves(service, applicant) -> bool:
    if applicant is None:
        return True
    wanted = ServiceObject.ORGANISATION if isinstance(applicant, Organisation) else ServiceObject.PERSON
    return service.service_object in (wanted, ServiceObject.BOTH)


def window_services(query: str = "", *, applicant=None, limit: int = 30) -> list[dict]:
    """Published bundles and items for a window clerk to choose from: search hits, or the whole catalogue."""
    query = (query or "").strip()
    if query:
        found = [(hit.kind, hit.object) for hit in catalog.catalog_search(query, limit=limit)]
    else:
        found = [("bundle", b) for b in catalog.bundle_list()] + [("item", i) for i in catalog.item_list()]
    rows = []
    for kind, service in found:
        if "window" not in getattr(service, "handling_modes", ["window"]) or not _serves(service, applicant):
            continue
        rows.append({"kind": kind, "service": service})
        if len(rows) >= limit:
            break
    return rows


def service_get(kind: str, code: str):
    """A published bundle or item by kind and code, or None."""
    if kind == "bundle":
        return catalog.bundle_get(code)
    if kind == "item":
        return catalog.item_get(code)
    return None


def service_kind(service) -> str:
    return "bundle" if isinstance(service, Bundle) else "item"


@dataclass
class FormField:
    """One field of a service's form as the workbench renders it."""

    name: str
    title: str
    type: str = "string"
    format: str = ""
    enum: list = field(default_factory=list)
    required: bool = False
    widget: str = ""
    help: str = ""
    value: object = ""
    errors: list = field(default_factory=list)
    choice_labels: dict = field(default_factory=dict)

    @property
    def display_value(self):
        """The answer as a person reads it: a choice's label rather than its code (``male`` → 男)."""
        if isinstance(self.value, str) and self.value in self.choice_labels:
            return self.choice_labels[self.value]
        return self.value

    @property
    def input_type(self) -> str:
        if self.type in ("integer", "number"):
            return "number"
        return {"date": "date", "email": "email", "date-time": "datetime-local"}.get(self.format, "text")

    @property
    def input_id(self) -> str:
        return f"field-{self.name}"


def _choice_labels(prop: dict, hint: dict) -> dict:
    if "enum" not in prop:
        return {}
    labels = {}
    for value in prop["enum"]:
        label = choice_label(prop, hint, value)
        if label is not None and isinstance(value, str):
            labels[value] = label
    return labels


def form_fields(service, values=None, errors=None) -> list[FormField]:
    """The fields of ``service``'s form in display order, with the values and errors given."""
    schema = service.form_schema or {}
    ui = service.form_ui or {}
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    widgets = ui.get("widgets", {})
    values, errors = values or {}, errors or {}
    fields = []
    for name in field_order(schema, ui):
        prop = properties[name]
        hint = widgets.get(name, {})
        fields.append(
            FormField(
                name=name,
                title=field_title(prop, name),
                type=prop.get("type", "string") if isinstance(prop.get("type"), str) else "string",
                format=prop.get("format", ""),
                enum=list(prop.get("enum", [])),
                required=name in required,
                widget=hint.get("widget", ""),
                help=hint.get("help") or field_description(prop),
                value=values.get(name, ""),
                errors=list(errors.get(name, [])),
                choice_labels=_choice_labels(prop, hint),
            )
        )
    return fields


def service_materials(service) -> list:
    """Every material ``service`` may ask for, once per code, each with ``item_code``."""
    if isinstance(service, Bundle):
        materials = catalog.bundle_materials_list(service)
        for material in materials:
            material.item_code = material.item_codes[0]
        return materials
    materials = list(service.materials.all())
    for material in materials:
        material.item_code = service.code
    return materials


def form_sections(service, values=None, errors=None) -> list[dict]:
    """The form's fields grouped as the UI hints' sections say (a bundle: one per item); one group otherwise."""
    fields = form_fields(service, values, errors)
    sections = (service.form_ui or {}).get("sections") or []
    by_name = {f.name: f for f in fields}
    groups, placed = [], set()
    for section in sections:
        members = [by_name[n] for n in section.get("fields", []) if n in by_name and n not in placed]
        placed.update(f.name for f in members)
        if members:
            groups.append({"title": section_title(section), "fields": members})
    rest = [f for f in fields if f.name not in placed]
    if rest:
        groups.append({"title": "", "fields": rest})
    return groups
