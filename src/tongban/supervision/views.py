"""Supervision pages (监督) of the workbench: warnings, time-limit compliance, rectifications.

Thin views: parse the query, call one selector or service, render. Who sees what is the selectors' business.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.core import calendar
from tongban.core.exceptions import Conflict
from tongban.identity.permissions import has_permission, staff_required
from tongban.identity.selectors import actor_from_request
from tongban.workflow.selectors import task_names_en

from . import selectors, services
from .models import Rectification, Warning

PAGE_SIZE = 50
DAY_CHOICES = (7, 30, 90, 365)


def _department_filter(request, departments):
    code = request.GET.get("department", "").strip()[:64]
    if not code:
        return "", None
    department = departments.filter(code=code).first()
    return (code, department) if department is not None else ("", None)


@staff_required(permission="supervision.view")
def warnings(request):
    """Yellow warnings and red cards of the departments I watch, newest first."""
    departments = selectors.departments_for(request.user)
    level = request.GET.get("level", "")
    if level not in Warning.Level.values:
        level = ""
    subject = request.GET.get("subject", "")
    if subject not in Warning.SubjectType.values:
        subject = ""
    code, department = _department_filter(request, departments)
    page = Paginator(
        selectors.warning_list(
            request.user, level=level or None, department=department, subject_type=subject or None
        ),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    if (get_language() or "").startswith(
        "en"
    ):  # a step is named in English where its process gives the words
        names = task_names_en([w.subject_id for w in page if w.subject_type == Warning.SubjectType.TASK])
        for warning in page:
            warning.task_name = names.get(warning.subject_id) or warning.task_name
    context = {
        "page": page,
        "level": level,
        "levels": Warning.Level.choices,
        "subject": subject,
        "subjects": Warning.SubjectType.choices,
        "department_code": code,
        "departments": departments,
        "section": "warnings",
    }
    return render(request, "supervision/warnings.html", context)


@staff_required(permission="supervision.view")
def compliance(request):
    """Per department: steps and cases finished in time, open steps, overdue ones and warnings now."""
    try:
        days = int(request.GET.get("days", selectors.COMPLIANCE_DAYS))
    except ValueError:
        days = selectors.COMPLIANCE_DAYS
    if days not in DAY_CHOICES:
        days = selectors.COMPLIANCE_DAYS
    rows = selectors.compliance_for(request.user, days=days)
    context = {
        "rows": rows,
        "days": days,
        "day_choices": DAY_CHOICES,
        "today": calendar.today(),
        "section": "compliance",
    }
    return render(request, "supervision/compliance.html", context)


@staff_required(permission="supervision.view")
def rectifications(request):
    """Rectifications of bad ratings: open ones first; a supervisor closes them, the department responds."""
    status = request.GET.get("status", Rectification.Status.OPEN)
    if status not in Rectification.Status.values and status != "all":
        status = Rectification.Status.OPEN
    page = Paginator(
        selectors.rectification_list(request.user, status=None if status == "all" else status), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    user = request.user
    for item in page:
        item.can_close = item.is_open and has_permission(
            user, "supervision.warn", department=item.department_id
        )
        item.can_respond = item.is_open and has_permission(
            user, "rectification.handle", department=item.department_id
        )
    context = {
        "page": page,
        "status": status,
        "statuses": Rectification.Status.choices,
        "today": calendar.today(),
        "section": "rectifications",
    }
    return render(request, "supervision/rectifications.html", context)


def _rectification(request, pk):
    rectification = selectors.rectification_get_for_user(request.user, pk)
    if rectification is None:
        raise Http404
    return rectification


def _after(request, call, done: str):
    try:
        call()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except Conflict as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("supervision:rectifications")


@require_POST
@staff_required(permission="supervision.warn")
def rectification_close(request, pk):
    rectification = _rectification(request, pk)
    return _after(
        request,
        lambda: services.rectification_close(
            actor=actor_from_request(request),
            rectification=rectification,
            resolution=request.POST.get("resolution", ""),
        ),
        _("The rectification of %(number)s is closed.") % {"number": rectification.case_number},
    )


@require_POST
@staff_required(permission="rectification.handle")
def rectification_respond(request, pk):
    rectification = _rectification(request, pk)
    return _after(
        request,
        lambda: services.rectification_respond(
            actor=actor_from_request(request),
            rectification=rectification,
            response=request.POST.get("response", ""),
        ),
        _("Your response on %(number)s is recorded.") % {"number": rectification.case_number},
    )
