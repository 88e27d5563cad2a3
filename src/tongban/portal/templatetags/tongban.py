"""Template helpers shared by the portal and the workbench: ``{% load tongban %}``."""

from django import template
from django.utils.translation import get_language, gettext

register = template.Library()


@register.filter
def actor_name(label, names):
    """An actor label (a username) as the person's name, from ``names`` (``identity.selectors.actor_names``);
    the platform itself in words; an unknown label as it is."""
    if label == "system":
        return gettext("the platform")
    return (names or {}).get(label, label)


@register.filter
def case_title(case):
    """A case's title in the page's language: on an English page its service's English name (the stored title is
    the Chinese name the case was submitted under)."""
    title = case.get("title", "") if isinstance(case, dict) else getattr(case, "title", "")
    if not (get_language() or "").startswith("en"):
        return title
    from tongban.catalog.selectors import service_names_en

    get = case.get if isinstance(case, dict) else lambda name: getattr(case, name, None)
    names = service_names_en()
    if get("bundle_id"):
        return names.get(("bundle", get("bundle_id")), title)
    if get("item_id"):
        return names.get(("item", get("item_id")), title)
    return title


@register.filter
def in_language(obj, field):
    """``obj.<field>`` in the page's language: its ``<field>_en`` on an English page when recorded (catalogue
    texts: ``{{ item|in_language:"conditions" }}``)."""
    if obj is None:
        return ""
    from tongban.core.i18n import in_language as text_in_language

    return text_in_language(obj, field)


@register.filter
def localized_name(obj):
    """The English name of a department, role or place in English, its Chinese name otherwise.

    Works with the identity models' naming: ``name_zh``/``name_en`` (Department, Role) and
    ``name``/``name_en`` (AdminUnit). Falls back to the Chinese name when no English one is recorded.
    """
    if obj is None:
        return ""
    if (get_language() or "").startswith("en") and getattr(obj, "name_en", ""):
        return obj.name_en
    return getattr(obj, "name_zh", "") or getattr(obj, "name", "") or str(obj)


def _is_cjk(text):
    return any("\u4e00" <= char <= "\u9fff" for char in text)


@register.filter
def display_name(user):
    """How to address a user: family name first for Chinese names (王芳), "First Last" otherwise; a
    citizen without names on the account by the name of their person record."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    first, last = (user.first_name or "").strip(), (user.last_name or "").strip()
    if first or last:
        if _is_cjk(first + last):
            return f"{last}{first}"
        return f"{first} {last}".strip()
    person = getattr(user, "person", None)  # a missing reverse one-to-one raises an AttributeError
    if person is not None and person.name:
        return person.name
    return user.get_username()


@register.filter
def role_label(code):
    """A role's name in the page's language for its code (``dept_handler`` → 部门承办人 / Department handler);
    several roles (``dept_approver,dept_handler``, as an audit entry records them) each by its name."""
    from tongban.identity.reference import ROLE_DEFINITIONS

    english = (get_language() or "").startswith("en")
    names = {role.code: (role.name_en if english else role.name_zh) for role in ROLE_DEFINITIONS}
    codes = [part.strip() for part in (code or "").split(",") if part.strip()]
    return (", " if english else "、").join(names.get(part, part) for part in codes)


@register.filter
def percent(ratio, digits=0):
    """A ratio as a percentage: 0.78 → "78%" (``|percent:1`` → "78.0%"); "—" when there is none."""
    value = _as_percent(ratio)
    return value if not isinstance(value, float) else f"{value:.{int(digits)}f}%"


def _as_percent(ratio):
    """``ratio`` × 100 as a float; "—" for none, the value itself when it is not a number."""
    if ratio in (None, ""):
        return "—"
    try:
        return float(ratio) * 100
    except (TypeError, ValueError):
        return ratio


@register.filter
def probability(ratio):
    """A classifier's probability as a whole percentage that never reads as certainty: 0.41 → "41%", 0.996 → ">99%",
    0.002 → "<1%" (rounded, they read "100%" and "0%"); "—" when there is none."""
    value = _as_percent(ratio)
    if not isinstance(value, float):
        return value
    if value > 99:
        return ">99%"
    if value < 1:
        return "<1%"
    return f"{value:.0f}%"


@register.filter
def audit_action(code):
    """An audit action's name for its code (``login.succeeded`` → 登录成功 / Signed in)."""
    from tongban.core.labels import audit_action_label

    return audit_action_label(code)


@register.filter
def supplement_entry(entry) -> str:
    """A supplement request's material or form field, named in the page's language: a material by the catalogue's
    English name (by item and material code), a field by its form's English title recorded with the request."""
    if not isinstance(entry, dict):
        return ""
    english = (get_language() or "").startswith("en")
    if "field" in entry:
        return (english and entry.get("label_en")) or entry.get("label") or entry.get("field", "")
    from tongban.cases.models import material_name

    name = entry.get("name", "")
    return (english and entry.get("name_en")) or material_name(
        entry.get("item", ""), entry.get("code", ""), name
    )


@register.filter
def purpose_label(purpose) -> str:
    """A recorded purpose of a data use or an audit entry in the page's language (``exchange.purposes``)."""
    from tongban.exchange.purposes import purpose_label as label

    return label(purpose or "")


@register.filter
def service_name(code) -> str:
    """The name of the service item or bundle ``code`` in the page's language (the code when there is none)."""
    from tongban.catalog.selectors import service_name_get

    return service_name_get(code or "") or code
