"""Citizen-facing pages, and the project's 404 and 500 handlers (wired in ``tongban.urls``)."""

import logging
import sys
import uuid

from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.vary import vary_on_headers

from tongban.core.exceptions import DATABASE_RETRY_AFTER, DATABASE_UNAVAILABLE_MESSAGE, database_unavailable
from tongban.identity.models import Department
from tongban.identity.selectors import department_list, organisations_for, person_for, staff_for

logger = logging.getLogger("tongban.errors")


def fronts():
    """The four fronts of the platform with what each offers today (all of it working, none "coming soon")."""
    return [
        {
            "key": "online",
            "mark": "一网",
            "title": gettext_lazy("Online portal"),
            "summary": gettext_lazy(
                "Find a service, apply once online, track it and see who used your data."
            ),
            "now": [
                gettext_lazy("Guides to every service and bundle (一件事), and online applications"),
                gettext_lazy("A few questions, then a form filled in from the registers"),
                gettext_lazy("Your cases with their time limits, receipts and results"),
                gettext_lazy("Your e-licence wallet, and a record of who used your data"),
            ],
            "link_url": "/services/",
            "link_text": gettext_lazy("Find a service"),
        },
        {
            "key": "window",
            "mark": "一窗",
            "title": gettext_lazy("One window"),
            "summary": gettext_lazy("Any service centre accepts any case; departments work it together."),
            "now": [
                gettext_lazy("Case acceptance at any window, prefilled from the applicant's records"),
                gettext_lazy("Department inboxes with working-day time limits"),
                gettext_lazy("The staff workbench with each department's audit trail"),
            ],
            "link_url": reverse("workbench:home"),
            "link_text": gettext_lazy("Staff workbench"),
        },
        {
            "key": "hotline",
            "mark": "一号",
            "title": gettext_lazy("12345 hotline"),
            "summary": gettext_lazy(
                "One number for questions, complaints, suggestions and requests for help."
            ),
            "now": [
                gettext_lazy("Call 12345, day and night"),
                gettext_lazy("Online requests and tracking of hotline tickets"),
            ],
            "link_url": "/12345/new/",
            "link_text": gettext_lazy("Make a request online"),
        },
        {
            "key": "supervision",
            "mark": "监督",
            "title": gettext_lazy("Supervision"),
            "summary": gettext_lazy(
                "Every use of public power and of personal data leaves a tamper-evident record."
            ),
            "now": [
                gettext_lazy("Sign-ins and refused access are recorded on the audit chain"),
                gettext_lazy("Working-day time limits on the official calendar"),
                gettext_lazy("Time-limit warnings and service ratings"),
            ],
            "link_url": "",
            "link_text": "",
        },
    ]


HOME_LIMIT = 5


def personal_home(user) -> dict:
    """What a signed-in citizen or enterprise agent must do now, and how far their cases are.

    To-dos first (supplements asked for, offers to confirm, ratings to give), then the open cases with their
    clock and next step, recent licences and messages. Each list comes from its app's selector, which only
    returns what the user may see.
    """
    from tongban.cases import selectors as case_selectors
    from tongban.evaluation.selectors import rating_for_case
    from tongban.licences.selectors import licence_list_for_holder
    from tongban.messaging.selectors import message_list_for_user, unread_count_for_user
    from tongban.proactive.selectors import offer_list_for_user

    cases = list(case_selectors.case_list_for_applicant(user)[:50])
    supplements, in_progress, to_rate = [], [], []
    for case in cases:
        if case.status == "supplement":
            supplements.append({"case": case, "request": case_selectors.case_open_supplement(case)})
        if not case.is_closed:
            in_progress.append(case)
        elif case.status == "completed" and len(to_rate) < HOME_LIMIT and rating_for_case(case) is None:
            to_rate.append(case)
    for case in in_progress[:HOME_LIMIT]:
        timeline = case_selectors.case_timeline(case)
        case.next_step = next((step.display_awaiting for step in reversed(timeline) if step.awaiting), "")
    offers = list(offer_list_for_user(user).filter(status="offered")[:HOME_LIMIT])
    return {
        "supplements": supplements,
        "offers": offers,
        "to_rate": to_rate,
        "todo_count": len(supplements) + len(offers) + len(to_rate),
        "in_progress": in_progress[:HOME_LIMIT],
        "in_progress_more": len(in_progress) > HOME_LIMIT,
        "licences": list(licence_list_for_holder(user)[:3]),
        "messages": list(message_list_for_user(user)[:3]),
        "unread": unread_count_for_user(user),
    }


def home(request):
    """The portal's home page: for a signed-in citizen or agent their own home (to-dos, cases, licences,
    messages, their data), and for everyone the four fronts and the hotline."""
    user = request.user
    person = person_for(user) if user.is_authenticated else None
    staff = staff_for(user) if user.is_authenticated else None
    organisations = list(organisations_for(user)) if user.is_authenticated and staff is None else []
    context = {
        "fronts": fronts(),
        "person": person,
        "staff": staff,
        "organisations": organisations,
        "mine": personal_home(user) if (person is not None or organisations) and staff is None else None,
    }
    return render(request, "portal/home.html", context)


@vary_on_headers("HX-Request")
def departments(request):
    """The departments of the city, searchable by name or code; htmx swaps in just the results.

    The page works without JavaScript (a GET form); with htmx, typing updates the results in place.
    """
    # PostgreSQL refuses NUL in a string literal: drop it rather than fail with a 500.
    query = request.GET.get("q", "").replace("\x00", "").strip()[:64]
    level = request.GET.get("level", "")
    if level not in Department.Level.values:
        level = ""
    page = Paginator(department_list(level=level or None, search=query or None), 30).get_page(
        request.GET.get("page")
    )
    context = {"query": query, "level": level, "levels": Department.Level.choices, "page": page}
    partial = request.htmx and not request.htmx.history_restore_request
    template = "portal/_department_results.html" if partial else "portal/departments.html"
    return render(request, template, context)


def _api_error(status, code, detail):
    """An error outside DRF's views (an unknown API address, a request Django refused) in the API's shape."""
    return JsonResponse({"status": status, "code": code, "detail": str(detail), "errors": {}}, status=status)


@requires_csrf_token
def page_not_found(request, exception, template_name="404.html"):
    """A 404 that says what happened and where to go next; under ``/api/`` in the API's error shape."""
    if request.path.startswith("/api/"):
        return _api_error(404, "not_found", _("Not found."))
    return render(request, template_name, {"request_path": request.path}, status=404)


def bad_request(request, exception, template_name="400.html"):
    """Django's own refusals (a malformed or oversized request it will not read); JSON under ``/api/``."""
    if request.path.startswith("/api/"):
        return _api_error(400, "bad_request", _("The request cannot be read."))
    return defaults.bad_request(request, exception, template_name=template_name)


def permission_denied(request, exception, template_name="403.html"):
    """A 403 raised outside DRF's views; JSON under ``/api/``."""
    if request.path.startswith("/api/"):
        return _api_error(403, "permission_denied", _("You do not have permission to perform this action."))
    return defaults.permission_denied(request, exception, template_name=template_name)


def server_error(request, template_name="500.html"):
    """A 500 with a reference id that is also logged, so support can find the error.

    It renders without a request context: no context processors, no session, no database, so it works
    when those are what failed. Under ``/api/`` it answers in the API's error shape. A lost database connection
    (``core.exceptions.database_unavailable``) is not a bug but an outage to wait out: it answers 503 with
    Retry-After instead, ``database_unavailable`` under the API (what the API's handler answers inside a view)
    and the "briefly unavailable" page elsewhere.
    """
    failure = sys.exc_info()[1]
    reference = uuid.uuid4().hex[:12]
    unavailable = failure is not None and database_unavailable(failure)
    if unavailable:
        logger.warning("database unavailable (reference %s) on %s: %s", reference, request.path, failure)
    else:
        logger.error("server error %s on %s", reference, request.path, exc_info=failure is not None)
    if request.path.startswith("/api/"):
        if unavailable:
            # The shape the API's handler gives inside a view (no reference: an outage, not a bug to report).
            body = {
                "status": 503,
                "code": "database_unavailable",
                "detail": str(DATABASE_UNAVAILABLE_MESSAGE),
            }
        else:
            body = {
                "status": 500,
                "code": "server_error",
                "detail": _(
                    "Something went wrong on our side. Please quote the reference when you report it."
                ),
                "reference": reference,
            }
        response = JsonResponse({**body, "errors": {}}, status=body["status"])
    else:
        if unavailable:
            template_name = "503.html"
        try:
            html = loader.get_template(template_name).render(
                {"reference": reference, "language_code": get_language() or "zh-hans"}
            )
        except Exception:  # the error page must not fail in turn
            logger.exception("the error page's template failed to render")
            html = (
                "<!doctype html><title>Server error</title><h1>Server error · 服务器错误</h1>"
                f"<p>Reference · 参考编号: {escape(reference)}</p><p>12345</p>"
            )
        response = HttpResponse(html, status=503 if unavailable else 500)
    if unavailable:
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    response["X-Tongban-Reference"] = reference
    return response
