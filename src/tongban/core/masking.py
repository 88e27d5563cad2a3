"""Masked display of personal identifiers (脱敏展示)."""


def mask_resident_id(value):
    """Show the area code's first 3 and the last 4 characters: ``310***********123X``."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value):
    """Show the first 3 and last 4 digits of a mobile number: ``138****5678``."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value):
    """Keep the first character of a name: ``张**``."""
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)
