"""Citizen-facing pages, and the project's 404 and 500 handlers (wired in ``tongban.urls``)."""

import logging
import sys
import uuid

from django.core.paginator import Paginator
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.vary import vary_on_headers

from tongban.identity.models import Department
from tongban.identity.selectors import department_list, person_for, staff_for

logger = logging.getLogger("tongban.errors")


def fronts():
    """The four fronts of the platform with what each offers today and what comes next."""
    return [
        {
            "key": "online",
            "mark": "一网",
            "title": gettext_lazy("Online portal"),
            "summary": gettext_lazy(
                "Find a service, apply once online, track it and see who used your data."
            ),
            "now": [
                gettext_lazy("Sign in and see your own data, masked"),
                gettext_lazy("The public list of departments in the open API"),
            ],
            "next": [
                gettext_lazy("Service guides and online applications"),
                gettext_lazy("A record of who used your data"),
            ],
            "link_url": reverse("api:docs"),
            "link_text": gettext_lazy("Open API documentation"),
        },
        {
            "key": "window",
            "mark": "一窗",
            "title": gettext_lazy("One window"),
            "summary": gettext_lazy("Any service centre accepts any case; departments work it together."),
            "now": [
                gettext_lazy("The staff workbench with each department's audit trail"),
            ],
            "next": [
                gettext_lazy("Case acceptance at any window"),
                gettext_lazy("Department inboxes and time limits"),
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
            ],
            "next": [
                gettext_lazy("Online requests and tracking of hotline tickets"),
            ],
            "link_url": "tel:12345",
            "link_text": gettext_lazy("Call 12345"),
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
            ],
            "next": [
                gettext_lazy("Time-limit warnings and service ratings"),
            ],
            "link_url": "",
            "link_text": "",
        },
    ]


def home(request):
    """The portal's home page: the four fronts, the hotline and, for a signed-in citizen, their own data."""
    user = request.user
    context = {
        "fronts": fronts(),
        "person": person_for(user) if user.is_authenticated else None,
        "staff": staff_for(user) if user.is_authenticated else None,
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
    when those are what failed. Under ``/api/`` it answers in the API's error shape.
    """
    reference = uuid.uuid4().hex[:12]
    logger.error("server error %s on %s", reference, request.path, exc_info=sys.exc_info()[0] is not None)
    if request.path.startswith("/api/"):
        body = {
            "status": 500,
            "code": "server_error",
            "detail": _("Something went wrong on our side. Please quote the reference when you report it."),
            "errors": {},
            "reference": reference,
        }
        response = JsonResponse(body, status=500)
    else:
        try:
            html = loader.get_template(template_name).render(
                {"reference": reference, "language_code": get_language() or "zh-hans"}
            )
        except Exception:  # the error page must not fail in turn
            logger.exception("the 500 template failed to render")
            html = (
                "<!doctype html><title>Server error</title><h1>Server error · 服务器错误</h1>"
                f"<p>Reference · 参考编号: {escape(reference)}</p><p>12345</p>"
            )
        response = HttpResponseServerError(html)
    response["X-Tongban-Reference"] = reference
    return response
