"""Reads of the licences app, filtered by who asks."""

from __future__ import annotations

from django.db.models import Q

from tongban.core.db import fast
from tongban.identity.models import Organisation, Person
from tongban.identity.permissions import has_permission
from tongban.identity.selectors import organisations_for, person_for

from .models import Licence, LicenceType, SigningKey

__all__ = [
    "licence_for_notification",
    "licence_get",
    "licence_get_for_user",
    "licence_is_holder",
    "licence_list_for_holder",
    "licence_may_revoke",
    "licence_type_list",
    "licence_valid_for",
    "licences_for_case",
    "signing_key_list",
]


def _base():
    return Licence.objects.select_related("type", "department", "key", "holder_person", "holder_organisation")


def licence_list_for_holder(user):
    """The licence wallet (证照夹): the licences of the user's person and of the organisations they act for."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Licence.objects.none()
    person = person_for(user)
    condition = Q(holder_organisation__in=organisations_for(user))
    if person is not None:
        condition |= Q(holder_person=person)
    return _base().filter(condition).order_by("-issued_at", "number")


def licence_is_holder(user, licence: Licence) -> bool:
    if licence.holder_person_id is not None:
        return licence.holder_person.user_id is not None and licence.holder_person.user_id == user.pk
    return licence.holder_organisation.agents.filter(pk=user.pk).exists()


def licence_may_revoke(user, licence: Licence) -> bool:
    """Staff who may issue licences for the issuing department may also revoke them."""
    return has_permission(user, "licence.issue", department=licence.department)


def licence_get(number: str) -> Licence | None:
    return _base().filter(number=number).first()


def licence_for_notification(number: str) -> Licence | None:
    """The licence ``number`` with its type and holder, for a system reader that tells the holder it was issued
    (no user: the outbox's subscriber acts for the platform); None for an unknown number.

    One hand-written SELECT (``core.db.fast``): the subscriber runs for every licence issued, inside the outbox's
    transaction, and compiling ``licence_get``'s six-table ORM select cost more than running it (4-7 % of a
    simulated Shanghai day's samples in the process delivering events, all under SQLite's write lock)."""
    parts = (
        (fast.columns(Licence, "l"), None),
        (fast.columns(LicenceType, "t"), "type"),
        (fast.columns(Person, "p"), "holder_person"),
        (fast.columns(Organisation, "o"), "holder_organisation"),
    )
    row = fast.fetchone(
        f"SELECT {', '.join(cols.sql for cols, _name in parts)} FROM {Licence._meta.db_table} l "  # noqa: S608
        f"INNER JOIN {LicenceType._meta.db_table} t ON t.id = l.type_id "
        f"LEFT OUTER JOIN {Person._meta.db_table} p ON p.id = l.holder_person_id "
        f"LEFT OUTER JOIN {Organisation._meta.db_table} o ON o.id = l.holder_organisation_id "
        "WHERE l.number = %s",
        [str(number or "")],
    )
    if row is None:
        return None
    return fast.build_joined(parts, row)


def licence_get_for_user(user, number: str) -> Licence | None:
    """The licence ``number`` if ``user`` holds it or issues licences for its department; else None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    licence = licence_get(number)
    if licence is None:
        return None
    if licence_is_holder(user, licence) or licence_may_revoke(user, licence):
        return licence
    return None


def licences_for_case(case_id) -> list[Licence]:
    """The licences issued as results of a case (for the case pages; the caller checks who may see the case)."""
    return list(_base().filter(case_id=case_id).order_by("issued_at", "number"))


def licence_types_issued_for_case(case_id) -> set[str]:
    """The codes of the licence types issued as results of a case (one narrow query)."""
    return {
        code
        for (code,) in fast.fetchall(
            "SELECT t.code FROM licences_licence l INNER JOIN licences_licencetype t ON t.id = l.type_id "
            "WHERE l.case_id = %s",
            [fast.prep(Licence, "case_id", case_id)],
        )
    }


def licence_type_list(*, active=True):
    query = LicenceType.objects.all()
    if active is not None:
        query = query.filter(active=active)
    return query.order_by("code")


def signing_key_list(*, department=None):
    query = SigningKey.objects.select_related("department")
    if department is not None:
        query = query.filter(department=department)
    return query.order_by("department__code", "-created_at")


def licence_valid_for(*, holder_id_number: str, type_code: str) -> Licence | None:
    """The holder's newest valid, unexpired licence of a type (an e-licence standing for a material, 免提交)."""
    from django.utils import timezone

    today = timezone.localdate()
    return (
        _base()
        .filter(holder_id_number=holder_id_number, type__code=type_code, status=Licence.Status.VALID)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .order_by("-issued_at")
        .first()
    )
