"""Texts kept in two languages in the database: the Chinese field and its ``<field>_en`` beside it."""

from django.utils.translation import get_language


def in_language(obj, field: str) -> str:
    """``obj.<field>`` in the page's language: ``<field>_en`` on an English page when it is recorded, else the
    Chinese text (content is written in Chinese first; its English is optional)."""
    if (get_language() or "").startswith("en"):
        english = getattr(obj, f"{field}_en", "")
        if english:
            return english
    return getattr(obj, field)
