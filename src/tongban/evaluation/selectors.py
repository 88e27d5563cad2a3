"""Reads of evaluation: a case's rating, and the summary by department for those who may see it."""

from __future__ import annotations

from django.db.models import Avg, Count, Q

from tongban.cases.selectors import case_is_applicant
from tongban.identity.models import Department
from tongban.identity.permissions import has_permission
from tongban.supervision.selectors import department_scope

from .models import Rating


def rating_for_case(case) -> Rating | None:
    return Rating.objects.select_related("department").filter(case_id=case.pk).first()


def rating_visible_to(user, rating: Rating, case) -> bool:
    """The applicant sees their rating; staff with ``evaluation.view`` for the department see it too."""
    if case_is_applicant(user, case) and has_permission(user, "portal.rate"):
        return True
    return has_permission(user, "evaluation.view", department=rating.department_id)


def rating_summary(user) -> dict:
    """Count, average and distribution of the ratings of the departments ``user`` may evaluate.

    ``{"count", "average", "distribution": {1: n, ... 5: n}, "bad", "departments": [{department, ...}]}``,
    counted in the database (one grouped query).
    """
    scope = department_scope(user, "evaluation.view")
    query = Rating.objects.all()
    if scope is not None:
        query = query.filter(department_id__in=scope)
    levels = Rating.Level.values
    grouped = (
        query.values("department_id")
        .annotate(
            count=Count("pk"),
            average=Avg("level"),
            **{f"level_{level}": Count("pk", filter=Q(level=level)) for level in levels},
        )
        .order_by()
    )
    departments = Department.objects.in_bulk([row["department_id"] for row in grouped])
    rows, total, weighted = [], 0, 0
    overall = dict.fromkeys(levels, 0)
    for row in grouped:
        distribution = {level: row[f"level_{level}"] for level in levels}
        for level, number in distribution.items():
            overall[level] += number
            weighted += level * number
        total += row["count"]
        rows.append(
            {
                "department": departments[row["department_id"]],
                "count": row["count"],
                "average": round(row["average"], 2),
                "distribution": distribution,
                "bad": sum(distribution[level] for level in Rating.BAD_LEVELS),
            }
        )
    rows.sort(key=lambda row: row["department"].code)
    return {
        "count": total,
        "average": round(weighted / total, 2) if total else None,
        "distribution": overall,
        "bad": sum(overall[level] for level in Rating.BAD_LEVELS),
        "departments": rows,
    }
