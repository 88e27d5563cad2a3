"""Writes of evaluation: the applicant rates a completed case (好差评).

A rating of 不满意 or 非常不满意 opens a rectification for the responsible department in the same
transaction (``supervision.services.rectification_open``; evaluation depends on supervision).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.cases.models import Case
from tongban.cases.selectors import case_is_applicant
from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.core.events import event_emit
from tongban.core.exceptions import Conflict
from tongban.identity.permissions import require_permission
from tongban.supervision.services import rectification_open

from .models import Rating

COMMENT_MAX = 500


def rating_channel(case: Case) -> str:
    """The channel a case is rated on: at a window for window cases, online otherwise (API included)."""
    return Rating.Channel.WINDOW if case.channel == Case.Channel.WINDOW else Rating.Channel.ONLINE


def _score(value) -> int | None:
    """A whole number from 1 to 5 (an int, or its digits as text from a form), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdecimal() and value.strip().isascii():
        number = int(value)
    else:
        return None
    return number if 1 <= number <= 5 else None


def rating_validate(*, channel: str, level, scores: Mapping | None, comment: str) -> tuple[int, dict, str]:
    """Check a rating's level, the sub-item scores of its channel and the comment; all errors at once."""
    errors: dict[str, list] = {}
    number = _score(level)
    if number is None:
        errors["level"] = [_("Choose a rating from 1 (very dissatisfied) to 5 (very satisfied).")]
    items = Rating.SUB_ITEMS[channel]
    scores = scores or {}
    if not isinstance(scores, Mapping):
        errors["scores"] = [_("Give a score from 1 to 5 for each item.")]
        scores = {}
    clean = {}
    for key in items:
        value = _score(scores.get(key))
        if value is None:
            errors[f"scores.{key}"] = [_("Give a score from 1 to 5.")]
        else:
            clean[key] = value
    unknown = sorted(set(scores) - set(items))
    if unknown:
        errors["scores"] = [
            _("Unknown items for this channel: %(keys)s.") % {"keys": ", ".join(map(str, unknown))}
        ]
    text = (comment or "").strip()
    if len(text) > COMMENT_MAX:
        errors["comment"] = [_("Keep the comment within %(max)s characters.") % {"max": COMMENT_MAX}]
    elif number in Rating.BAD_LEVELS and not text:
        # 差评须说明原因: the department must know what to put right.
        errors["comment"] = [_("Tell us what went wrong, so that the department can put it right.")]
    if errors:
        raise ValidationError(errors)
    return number, clean, text


def rating_submit(
    *,
    actor: Actor,
    case: Case,
    level,
    scores: Mapping | None = None,
    comment: str = "",
    now: dt.datetime | None = None,
) -> Rating:
    """The applicant rates a completed case once; a bad rating opens a rectification (same transaction).

    PermissionDenied (audited) unless ``actor`` is the applicant; Conflict when the case is not completed or
    already rated; ValidationError with field messages for a bad level, score or comment.
    """
    require_permission(actor, "portal.rate")
    user = actor.user
    if not case_is_applicant(user, case):
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="permission.denied",
                subject_type="case",
                subject_id=str(case.pk),
                case_id=str(case.pk),
                details={"permission": "portal.rate", "reason": "not the applicant"},
            )
        raise PermissionDenied(_("Only the applicant can rate this case."))
    if case.status != Case.Status.COMPLETED:
        raise Conflict(_("A case can be rated once it is completed."), code="case_not_completed")
    if Rating.objects.filter(case_id=case.pk).exists():
        raise Conflict(_("This case has already been rated."), code="already_rated")
    channel = rating_channel(case)
    number, clean, text = rating_validate(channel=channel, level=level, scores=scores, comment=comment)
    now = now or timezone.now()
    try:
        with transaction.atomic():
            rating = Rating(
                case_id=case.pk,
                case_number=case.number,
                department_id=case.lead_department_id,
                level=number,
                channel=channel,
                scores=clean,
                comment=text,
                rated_by=user,
            )
            rating.save(force_insert=True)
            audit_record(
                actor=actor,
                action="case.rated",
                subject_type="rating",
                subject_id=str(rating.pk),
                case_id=str(case.pk),
                details={"level": number, "channel": channel, "department": case.lead_department_id},
            )
            event_emit(
                "case.rated",
                {
                    "case": str(case.pk),
                    "number": case.number,
                    "rating": str(rating.pk),
                    "level": number,
                    "department": case.lead_department_id,
                },
                subject_type="case",
                subject_id=case.pk,
            )
            if rating.is_bad:
                rectification_open(actor=SYSTEM, case=case, rating_id=rating.pk, reason=text, now=now)
    except IntegrityError:
        # Two submissions at once: the unique case_id lets one through.
        raise Conflict(_("This case has already been rated."), code="already_rated") from None
    return rating
