"""Application forms as JSON Schema (draft 2020-12): checking a schema, validating answers, merging forms.

An item's ``form_schema`` is an object schema: ``properties`` with a Chinese ``title`` each, ``required``.
Its ``form_ui`` gives hints for rendering::

    {"order": ["baby_name", "birth_date"],                 # field order (PostgreSQL's jsonb sorts keys)
     "widgets": {"address": {"widget": "textarea", "help": "..."}},
     "sections": [{"item": "<code>", "title": "...", "fields": [...]}]}   # merged bundle forms only

A bundle's form is the merge of its items' forms (:func:`form_merge`): properties of the same name must
have the same rules (annotations such as ``title`` and ``description`` may differ; the first item's win),
``required`` is the union, and ``form_ui`` gets one section per item holding the fields that item brings.
"""

import copy
import json

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from tongban.core.ids import parse_credit_code, parse_resident_id

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
NON_FIELD = "__all__"
# Keywords that only describe a property: two items may word them differently and still share the field.
ANNOTATIONS = frozenset(
    {
        "title",
        "title_en",
        "description",
        "description_en",
        "enumNames_en",
        "$comment",
        "examples",
        "default",
        "readOnly",
        "writeOnly",
        "deprecated",
    }
)


def field_title(prop: dict, name: str = "") -> str:
    """A form field's title in the page's language: ``title_en`` (an annotation beside ``title``, the Chinese one)
    on an English page when the form gives one, else ``title``, else the field's name."""
    from django.utils.translation import get_language

    prop = prop or {}
    if (get_language() or "").startswith("en") and prop.get("title_en"):
        return str(prop["title_en"])
    return str(prop.get("title") or name)


def _english() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "").startswith("en")


def section_title(section: dict) -> str:
    """A merged form's section heading (a bundle's item) in the page's language."""
    if _english() and section.get("title_en"):
        return str(section["title_en"])
    return str(section.get("title", ""))


def field_description(prop: dict) -> str:
    """A field's description in the page's language (``description_en`` beside the Chinese ``description``)."""
    prop = prop or {}
    if _english() and prop.get("description_en"):
        return str(prop["description_en"])
    return str(prop.get("description") or "")


def field_choice_names(prop: dict) -> list:
    """The labels of a field's choices in the page's language (``enumNames_en`` beside ``enumNames``)."""
    prop = prop or {}
    if _english() and prop.get("enumNames_en"):
        return list(prop["enumNames_en"])
    return list(prop.get("enumNames") or prop.get("x-enumNames") or [])


def schema_check(schema, *, field: str = "form_schema") -> None:
    """Refuse a form schema that is not a valid JSON Schema object form (ValidationError on ``field``)."""
    if schema in (None, {}):
        return
    if not isinstance(schema, dict):
        raise ValidationError({field: _("The form schema must be a JSON object.")})
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        raise ValidationError(
            {
                field: _("The form schema is not valid JSON Schema (at %(where)s): %(message)s")
                % {"where": f"/{where}", "message": exc.message}
            }
        ) from None
    if schema.get("type", "object") != "object":
        raise ValidationError({field: _('The form schema must describe an object ("type": "object").')})
    properties = schema.get("properties", {})
    missing = [name for name in schema.get("required", []) if name not in properties]
    if missing:
        raise ValidationError(
            {field: _("Required fields without a property: %(names)s.") % {"names": ", ".join(missing)}}
        )


def ui_check(ui, schema, *, field: str = "form_ui") -> None:
    """Refuse UI hints that are not an object or name fields the schema does not have."""
    if ui in (None, {}):
        return
    if not isinstance(ui, dict):
        raise ValidationError({field: _("The UI hints must be a JSON object.")})
    properties = (schema or {}).get("properties", {})
    named = list(ui.get("order", [])) + list(ui.get("widgets", {}))
    for section in ui.get("sections", []):
        named.extend(section.get("fields", []))
    unknown = sorted({name for name in named if name not in properties})
    if unknown:
        raise ValidationError(
            {
                field: _("The UI hints name fields the form does not have: %(names)s.")
                % {"names": ", ".join(unknown)}
            }
        )


def field_order(schema: dict, ui: dict | None) -> list[str]:
    """The form's fields in display order: ``ui["order"]`` first, then any others by name."""
    properties = list((schema or {}).get("properties", {}))
    order = [name for name in (ui or {}).get("order", []) if name in properties]
    return order + [name for name in properties if name not in order]


# --- validating answers ------------------------------------------------------------------------------

# The identifier formats a form may name besides JSON Schema's own: a resident ID number (GB 11643) and a
# unified social credit code (GB 32100), checked by ``core.ids`` (python-stdnum's arithmetic plus our own
# structural checks and the credit-code allow-list), whose message names the wrong part.
RESIDENT_ID_FORMAT = "resident-id"
CREDIT_CODE_FORMAT = "credit-code"
IDENTIFIER_FORMATS = {RESIDENT_ID_FORMAT: parse_resident_id, CREDIT_CODE_FORMAT: parse_credit_code}


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)  # the draft's own, then ours
    for name, parse in IDENTIFIER_FORMATS.items():

        def check(value, parse=parse):
            if not isinstance(value, str):  # a format applies to strings only; "type" reports the rest
                return True
            parsed = parse(value)  # raises ValidationError with the message the applicant sees
            normal = getattr(parsed, "number", None) or parsed.code
            if normal != value.upper():  # full-width digits, spaces or hyphens: stored as typed, so refused
                raise ValidationError(_("Enter the 18 characters only, without spaces or separators."))
            return True

        checker.checks(name, raises=ValidationError)(check)
    return checker


FORMAT_CHECKER = _format_checker()


def _type_label(name):
    labels = {
        "string": _("text"),
        "integer": _("whole number"),
        "number": _("number"),
        "boolean": _("yes or no"),
        "array": _("list"),
        "object": _("group of fields"),
        "null": _("empty value"),
    }
    if isinstance(name, list):
        return _(" or ").join(str(labels.get(n, n)) for n in name)
    return str(labels.get(name, name))


def _format_label(name):
    labels = {
        "date": _("date (YYYY-MM-DD)"),
        "date-time": _("date and time"),
        "time": _("time"),
        "email": _("email address"),
        "uri": _("web address"),
        "ipv4": _("IPv4 address"),
        RESIDENT_ID_FORMAT: _("resident ID number"),
        CREDIT_CODE_FORMAT: _("unified social credit code"),
    }
    return str(labels.get(name, name))


def _message(error) -> str:
    keyword, value = error.validator, error.validator_value
    if keyword == "type":
        return _("Enter a value of type %(type)s.") % {"type": _type_label(value)}
    if keyword == "enum":
        return _("Choose one of: %(choices)s.") % {"choices": ", ".join(str(v) for v in value)}
    if keyword == "const":
        return _("The value must be %(value)s.") % {"value": value}
    if keyword == "maxLength":
        return _("Enter at most %(limit)d characters.") % {"limit": value}
    if keyword == "minLength":
        return _("Enter at least %(limit)d characters.") % {"limit": value}
    if keyword == "pattern":
        return _("Enter a value in the expected format.")
    if keyword == "format" and value in IDENTIFIER_FORMATS and isinstance(error.cause, ValidationError):
        return " ".join(str(m) for m in error.cause.messages)  # e.g. which digit does not add up
    if keyword == "format":
        return _("Enter a valid %(format)s.") % {"format": _format_label(value)}
    if keyword in {"minimum", "exclusiveMinimum"}:
        return _("Enter a value of at least %(limit)s.") % {"limit": value}
    if keyword in {"maximum", "exclusiveMaximum"}:
        return _("Enter a value of at most %(limit)s.") % {"limit": value}
    if keyword == "minItems":
        return _("Choose at least %(limit)d.") % {"limit": value}
    if keyword == "maxItems":
        return _("Choose at most %(limit)d.") % {"limit": value}
    return error.message


def _key(path) -> str:
    return ".".join(str(part) for part in path) or NON_FIELD


def form_validate(schema: dict, data: dict) -> dict[str, list[str]]:
    """The errors of ``data`` against the form ``schema``: ``{field: [message, ...]}``, empty when valid.

    A field is named by its JSON pointer path with dots (``household.address`` for ``/household/address``);
    errors about the whole form are under ``"__all__"``. Messages are in the active language. Blank answers
    (``""`` or ``None``) at the top level count as missing, as a web form sends them. The formats
    ``resident-id`` and ``credit-code`` are checked (a wrong check character is refused with a message that
    says so), besides JSON Schema's own (``date``, ``email``, ...).
    """
    if not schema:
        return {}
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if v not in ("", None)}
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    errors: dict[str, list[str]] = {}

    def add(path, message):
        messages = errors.setdefault(_key(path), [])
        if message not in messages:
            messages.append(message)

    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        path = list(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in error.validator_value:
                if name not in error.instance:
                    add([*path, name], _("This field is required."))
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            for name in error.instance:
                if name not in allowed:
                    add([*path, name], _("This field is not part of the form."))
        else:
            add(path, _message(error))
    return errors


# --- merging forms -----------------------------------------------------------------------------------


def _rules(prop) -> dict:
    """A property schema without its annotations, nested ones included, for comparing two properties."""
    if isinstance(prop, dict):
        return {k: _rules(v) for k, v in prop.items() if k not in ANNOTATIONS}
    if isinstance(prop, list):
        return [_rules(v) for v in prop]
    return prop


def form_merge(forms, *, title: str = "") -> tuple[dict, dict]:
    """Merge ``[(code, label, schema, ui), ...]`` into one ``(schema, ui)``.

    Raises ``ValidationError`` on ``form_schema`` when two items define a field with different rules.
    """
    properties: dict = {}
    owners: dict[str, str] = {}
    defs: dict = {}
    required: list[str] = []
    widgets: dict = {}
    sections = []
    conflicts = []
    for code, label, schema, ui in forms:
        schema = schema or {}
        ui = ui or {}
        fields = []
        for name in field_order(schema, ui):
            prop = schema["properties"][name]
            if name in properties:
                if _rules(properties[name]) != _rules(prop):
                    conflicts.append(
                        _("field “%(field)s” of %(item)s (%(theirs)s) differs from %(first)s (%(ours)s)")
                        % {
                            "field": name,
                            "item": code,
                            "theirs": json.dumps(_rules(prop), ensure_ascii=False, sort_keys=True),
                            "first": owners[name],
                            "ours": json.dumps(_rules(properties[name]), ensure_ascii=False, sort_keys=True),
                        }
                    )
                continue
            properties[name] = copy.deepcopy(prop)
            owners[name] = code
            fields.append(name)
        for name, definition in (schema.get("$defs") or {}).items():
            if name in defs and defs[name] != definition:
                conflicts.append(
                    _("definition “%(name)s” of %(item)s differs") % {"name": name, "item": code}
                )
            defs.setdefault(name, copy.deepcopy(definition))
        for name in schema.get("required", []):
            if name not in required:
                required.append(name)
        for name, widget in (ui.get("widgets") or {}).items():
            widgets.setdefault(name, copy.deepcopy(widget))
        sections.append({"item": code, "title": label, "fields": fields})
    if conflicts:
        raise ValidationError(
            {
                "form_schema": _("The items' forms cannot be merged: %(conflicts)s.")
                % {"conflicts": "; ".join(conflicts)}
            }
        )
    schema = {"$schema": JSON_SCHEMA_DIALECT, "type": "object", "properties": properties}
    if title:
        schema["title"] = title
    if required:
        schema["required"] = required
    if defs:
        schema["$defs"] = defs
    order = [name for section in sections for name in section["fields"]]
    ui = {"order": order, "sections": sections}
    if widgets:
        ui["widgets"] = widgets
    return schema, ui
