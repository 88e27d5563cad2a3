"""Staff case pages: the cases my department may see, and one case with its timeline (reading it is audited)."""

from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from tongban.cases.models import Case
from tongban.cases.selectors import case_get_for_user, case_list_for_staff, case_materials
from tongban.identity.permissions import staff_required
from tongban.identity.selectors import actor_from_request

from ..services import case_view_record, material_download_record
from .common import case_context, page_of


@staff_required
def case_list(request):
    """Cases led, accepted or worked by my department, filtered by status and a search on number or title."""
    status = request.GET.get("status") if request.GET.get("status") in Case.Status.values else ""
    search = (request.GET.get("q") or "").replace("\x00", "").strip()[:100]
    page = page_of(request, case_list_for_staff(request.user, status=status or None, search=search or None))
    filters = {key: value for key, value in (("status", status), ("q", search)) if value}
    context = {
        "page": page,
        "status": status,
        "search": search,
        "statuses": Case.Status.choices,
        "filter_query": f"{urlencode(filters)}&" if filters else "",
    }
    return render(request, "workbench/cases/list.html", context)


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
