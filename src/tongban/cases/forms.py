"""Application forms of the portal: a service's JSON Schema form as HTML inputs, and the answers back as data.

The schema is the service's (``catalog``); the service layer validates the answers (``case_submit``,
``case_resubmit``). This module only shapes input: it turns a POST into typed ``form_data`` (numbers as
numbers, ticked boxes as ``true``) and keeps what the applicant typed to show it again beside the messages.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from tongban.catalog.models import Material
from tongban.catalog.schema import (
    field_choice_names,
    field_description,
    field_order,
    field_title,
    section_title,
)

MATERIAL_PREFIX = "materials."
ACCEPT_UPLOADS = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
NON_FIELD = "__all__"

# Common enumerated answers in the catalogue's forms, so a select shows words rather than codes.
ENUM_LABELS = {
    "male": _("Male"),
    "female": _("Female"),
    "father": _("With the father"),
    "mother": _("With the mother"),
    "yes": _("Yes"),
    "no": _("No"),
}


# The browser's first check of an identifier (the shape only; the service checks the check character).
IDENTIFIER_INPUTS = {
    "resident-id": {
        "pattern": "[0-9]{17}[0-9Xx]",
        "maxlength": "18",
        "autocomplete": "off",
        "spellcheck": "false",
    },
    "credit-code": {
        "pattern": "[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}",
        "maxlength": "18",
        "autocomplete": "off",
        "autocapitalize": "characters",
        "spellcheck": "false",
    },
}


@dataclass
class FormField:
    """One input of a service form, ready for ``cases/_field.html``."""

    name: str
    label: str
    kind: str  # text, textarea, date, select, checkbox, number
    required: bool = False
    value: str = ""
    checked: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)
    help: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return "field-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.name)

    @property
    def describedby(self) -> str:
        """The ids of the help text and the error messages, for ``aria-describedby``."""
        ids = [f"{self.id}-help"] if self.help else []
        if self.errors:
            ids.append(f"{self.id}-error")
        return " ".join(ids)


@dataclass
class FormSection:
    title: str
    fields: list[FormField]


@dataclass
class MaterialInput:
    """A material the applicant may upload, with whether it is needed and when."""

    code: str
    name: str
    necessity: str
    condition: str = ""
    note: str = ""
    item_names: list[str] = field(default_factory=list)
    reason: str = ""
    errors: list[str] = field(default_factory=list)
    from_data: bool = False  # 免提交: the platform obtains it from a registry or an e-licence

    @property
    def input_name(self) -> str:
        return MATERIAL_PREFIX + self.code

    @property
    def id(self) -> str:
        return "material-" + self.code

    @property
    def required(self) -> bool:
        """Whether the file input is required: never for a material the platform obtains itself."""
        return self.necessity == Material.Necessity.REQUIRED and not self.from_data

    @property
    def conditional(self) -> bool:
        return self.necessity == Material.Necessity.CONDITIONAL


def _type(prop: dict) -> str:
    kind = prop.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return kind


def _enum_choices(prop: dict, widget: dict) -> list[tuple[str, str]]:
    labels = widget.get("labels") or {}
    names = field_choice_names(prop)
    choices = []
    for position, value in enumerate(prop["enum"]):
        if value is None:
            continue
        key = _display(value)
        if key in labels:
            label = labels[key]
        elif position < len(names):
            label = names[position]
        else:
            label = ENUM_LABELS.get(key, key)
        choices.append((key, str(label)))
    return choices


def _display(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _field(name: str, prop: dict, ui: dict, *, required: bool, raw: dict, data: dict, errors) -> FormField:
    widget = ((ui or {}).get("widgets") or {}).get(name) or {}
    kind = _type(prop)
    attrs: dict[str, str] = {}
    if "enum" in prop:
        widget_kind = "select"
    elif kind == "boolean":
        widget_kind = "checkbox"
    elif kind in ("integer", "number"):
        widget_kind = "number"
        attrs["step"] = "1" if kind == "integer" else "any"
        attrs["inputmode"] = "numeric" if kind == "integer" else "decimal"
        for keyword, attr in (("minimum", "min"), ("maximum", "max")):
            if keyword in prop:
                attrs[attr] = _display(prop[keyword])
    elif prop.get("format") == "date":
        widget_kind = "date"
    elif widget.get("widget") == "textarea":
        widget_kind = "textarea"
    else:
        widget_kind = "text"
    if widget_kind in ("text", "textarea"):
        if "maxLength" in prop:
            attrs["maxlength"] = str(prop["maxLength"])
        if "minLength" in prop and required:
            attrs["minlength"] = str(prop["minLength"])
        if "pattern" in prop and widget_kind == "text":
            attrs["pattern"] = str(prop["pattern"])
        if widget_kind == "text" and prop.get("format") in IDENTIFIER_INPUTS:
            attrs.update(IDENTIFIER_INPUTS[prop["format"]])
    value = raw[name] if name in raw else _display(data.get(name, prop.get("default")))
    checked = value in ("true", "on", "1") if widget_kind == "checkbox" else False
    help_text = widget.get("help") or field_description(prop)
    return FormField(
        name=name,
        label=field_title(prop, name),
        kind=widget_kind,
        required=required and widget_kind != "checkbox",
        value="" if widget_kind == "checkbox" else value,
        checked=checked,
        choices=_enum_choices(prop, widget) if widget_kind == "select" else [],
        attrs=attrs,
        help=str(help_text),
        errors=list(errors.get(name, [])),
    )


def form_sections(
    schema: dict,
    ui: dict | None,
    *,
    raw: dict | None = None,
    data: dict | None = None,
    errors: dict | None = None,
    only: list[str] | None = None,
) -> list[FormSection]:
    """The form's inputs in display order, grouped in the UI's sections (a bundle's items) when it has them.

    ``raw`` holds what the applicant typed (shown again as typed), ``data`` stored answers (a supplement's
    current values), ``errors`` the messages by field name, ``only`` a subset of fields (a supplement).
    """
    schema, ui, raw, data, errors = schema or {}, ui or {}, raw or {}, data or {}, errors or {}
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    names = [n for n in field_order(schema, ui) if only is None or n in only]

    def build(name):
        return _field(
            name, properties[name], ui, required=name in required, raw=raw, data=data, errors=errors
        )

    sections = []
    placed: set[str] = set()
    for section in ui.get("sections", []) if only is None else []:
        fields = [build(n) for n in section.get("fields", []) if n in properties and n not in placed]
        placed.update(f.name for f in fields)
        if fields:
            sections.append(FormSection(title=section_title(section), fields=fields))
    rest = [build(n) for n in names if n not in placed]
    if rest:
        sections.append(FormSection(title="", fields=rest))
    return sections


def _coerce(prop: dict, value: str):
    """A typed answer, or the text as typed when it does not parse (the schema's validator then says why)."""
    kind = _type(prop)
    if "enum" in prop:
        for choice in prop["enum"]:
            if _display(choice) == value:
                return choice
        return value
    if kind == "integer":
        try:
            return int(value)
        except ValueError:
            return value
    if kind == "number":
        try:
            number = float(value)
        except ValueError:
            return value
        if not math.isfinite(number):
            return value
        return (
            int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
        )
    return value


def form_data_from_post(schema: dict, post, *, only: list[str] | None = None) -> tuple[dict, dict]:
    """``(form_data, raw)`` from a POST: typed answers for the service, and the text as typed for redisplay.

    A blank answer is left out (the schema's ``required`` reports it); an unticked box is ``false``.
    """
    data, raw = {}, {}
    for name, prop in ((schema or {}).get("properties") or {}).items():
        if only is not None and name not in only:
            continue
        if _type(prop) == "boolean" and "enum" not in prop:
            ticked = post.get(name, "") in ("true", "on", "1")
            data[name] = ticked
            raw[name] = "true" if ticked else ""
            continue
        value = (post.get(name, "") or "").replace("\x00", "").strip()
        raw[name] = value
        if value != "":
            data[name] = _coerce(prop, value)
    return data, raw


def material_inputs(materials, *, errors: dict | None = None) -> list[MaterialInput]:
    """Upload inputs for catalogue materials (each with ``item_names`` when a bundle asks for it)."""
    errors = errors or {}
    inputs = []
    for material in materials:
        inputs.append(
            MaterialInput(
                code=material.code,
                name=getattr(material, "display_name", material.name),
                necessity=material.necessity,
                condition=getattr(material, "display_condition", material.condition),
                note=getattr(material, "display_note", material.note),
                item_names=list(getattr(material, "item_names", []) or []),
                errors=list(errors.get(MATERIAL_PREFIX + material.code, [])),
                from_data=getattr(material, "satisfied_by", "upload") in ("registry", "licence"),
            )
        )
    return inputs


def files_from_request(files, codes) -> dict:
    """The uploaded files by material code, for the codes the page offered."""
    found = {}
    for code in codes:
        upload = files.get(MATERIAL_PREFIX + code)
        if upload is not None:
            found[code] = upload
    return found


def choice_list(prop: dict, widget: dict | None = None) -> list[tuple[str, str]]:
    """The (value, label) choices of an enumerated form field ([] when it has none)."""
    return _enum_choices(prop, widget or {}) if "enum" in (prop or {}) else []


def value_label(prop: dict, widget: dict | None, value) -> str:
    """A form value in words: a choice's label, 是/否 for a yes-or-no field, else the value."""
    label = choice_label(prop, widget or {}, value)
    if label is not None:
        return label
    if isinstance(value, bool):
        return str(_("Yes")) if value else str(_("No"))
    return "" if value is None else str(value)


def choice_label(prop: dict, widget: dict, value) -> str | None:
    """The label of ``value`` among the choices of a form field (``male`` → 男), or None when it has none."""
    if "enum" not in (prop or {}) or value in (None, ""):
        return None
    key = _display(value)
    return dict(_enum_choices(prop, widget or {})).get(key)
