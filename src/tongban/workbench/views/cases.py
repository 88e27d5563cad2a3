"""Staff case pages: the cases my department may see, and one case with its timeline (reading it is audited)."""

from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError as DRFValidationError

from tongban.cases.models import Case
from tongban.cases.selectors import CASE_KEYSET, case_get_for_user, case_materials, case_page_for_staff
from tongban.core.pagination import decode_cursor, encode_cursor
from tongban.identity.permissions import staff_required
from tongban.identity.selectors import actor_from_request

from ..services import case_view_record, material_download_record
from .common import PAGE_SIZE, case_context


@staff_required
def case_list(request):
    """Cases led, accepted or worked by my department, filtered by status and a search on number or title."""
    status = request.GET.get("status") if request.GET.get("status") in Case.Status.values else ""
    search = (request.GET.get("q") or "").replace("\x00", "").strip()[:100]
    pages = case_page_for_staff(request.user, status=status or None, search=search or None)
    after = _cursor(request.GET.get("after"))
    rows = pages.page(after, PAGE_SIZE + 1) if pages is not None else []
    filters = {key: value for key, value in (("status", status), ("q", search)) if value}
    next_query = ""
    if len(rows) > PAGE_SIZE:  # a page more: its cursor is this page's last row (no count of the whole list)
        rows = rows[:PAGE_SIZE]
        next_query = urlencode({**filters, "after": encode_cursor(CASE_KEYSET.values_of(rows[-1]))})
    context = {
        "cases": rows,
        "first_page": after is not None,
        "next_query": next_query,
        "status": status,
        "search": search,
        "statuses": Case.Status.choices,
        "filter_query": f"{urlencode(filters)}&" if filters else "",
    }
    return render(request, "workbench/cases/list.html", context)


def _cursor(text):
    """The keyset cursor of ``?after=``, or None (the first page) for none or one this list did not give out."""
    if not text:
        return None
    try:
        return decode_cursor(text, len(CASE_KEYSET.fields))
    except DRFValidationError:
        return None


@staff_required
def case_detail(request, number):
    case = case_get_for_user(request.user, number)
    if case is None:
        raise Http404(_("No such case."))
    case_view_record(actor=actor_from_request(request), case=case)
    return render(request, "workbench/cases/detail.html", case_context(request.user, case))


@staff_required
def case_material(request, number, material_id):
    """A material's file, for staff who may see the case (audited)."""
    case = case_get_for_user(request.user, number)
    if case is None:
        raise Http404(_("No such case."))
    material = case_materials(case, include_superseded=True).filter(pk=material_id).first()
    if material is None or not material.file:
        raise Http404(_("No such file."))
    material_download_record(actor=actor_from_request(request), case=case, material=material)
    return FileResponse(
        material.file.open("rb"),
        as_attachment=True,
        filename=material.filename or material.file.name.rsplit("/", 1)[-1],
        content_type=material.content_type or "application/octet-stream",
    )
