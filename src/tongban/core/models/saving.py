"""Saving a model row with Python's field checks and the database's refusals (no ``full_clean`` queries).

Used by the registries' writes and identity's person register: on the case path each ``full_clean()`` asked the
database about every unique field, related object and check constraint (a dozen statements a row).
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import UniqueConstraint

from tongban.core.db import fast


def save_validated(obj):
    """Validate ``obj``'s fields in Python (formats, choices, lengths) and save it; the database refuses
    duplicates and broken constraints, and that refusal becomes the field's message.

    ``full_clean()`` asked the database first: a query per unique field and per related object, and a query
    between two savepoints per check constraint (Django 5), about a dozen statements per row, the largest single
    cost of a registry write. A related object already given (or a row read from the database, whose relations
    the database checks) needs no existence query either.
    """
    return save_prevalidated(validated(obj))


def save_prevalidated(obj):
    """``save_validated`` for an ``obj`` whose fields ``validated`` checked already."""
    try:
        fast.save(obj)  # obj.save() in one statement whose text is built once (core.db.fast)
    except IntegrityError as exc:
        raise integrity_refusal(obj, exc) from exc
    return obj


def validated(obj):
    """``save_validated``'s checks without the save: ``obj``'s fields validated in Python (a row prepared before
    its transaction and inserted later, whose database refusals the caller handles)."""
    stored = not obj._state.adding  # a row read from the database: its relations existed then
    exclude = [
        f.name
        for f in obj._meta.concrete_fields
        if f.is_relation
        and getattr(obj, f.attname) is not None
        and (stored or (f.is_cached(obj) and getattr(obj, f.name) is not None))
    ]
    obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    return obj


def integrity_refusal(obj, exc: IntegrityError) -> Exception:
    """The ValidationError a database's refusal of ``obj`` means (what ``full_clean`` would have said), or
    ``exc`` itself when it is not one of the model's unique fields or constraints."""
    meta = obj._meta
    text = str(exc)
    diag = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) or ""
    for constraint in meta.constraints:
        if constraint.name == diag or f"constraint failed: {constraint.name}" in text:
            fields = list(getattr(constraint, "fields", ()) or ())
            message = constraint.get_violation_error_message()
            if isinstance(constraint, UniqueConstraint) and len(fields) == 1 and constraint.condition is None:
                message = obj.unique_error_message(type(obj), tuple(fields))
            return ValidationError({fields[0]: [message]} if len(fields) == 1 else [message])
    for field in meta.concrete_fields:
        if not field.unique or field.primary_key:
            continue
        # SQLite: "UNIQUE constraint failed: table.column"; PostgreSQL: "<table>_<column>_key" (or a hashed name
        # mentioning the column), with the column named in the detail.
        sqlite = f"UNIQUE constraint failed: {meta.db_table}.{field.column}" in text
        postgres = diag and (diag == f"{meta.db_table}_{field.column}_key" or f"({field.column})=" in text)
        if sqlite or postgres:
            return ValidationError({field.name: [obj.unique_error_message(type(obj), (field.name,))]})
    return exc
