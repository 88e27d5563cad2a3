"""Process definitions (BPMN) for service designers and platform administrators: list, upload, inspect."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from tongban.identity.permissions import has_permission, require_permission, staff_required
from tongban.identity.selectors import actor_from_request
from tongban.workflow import services as workflow
from tongban.workflow.selectors import definition_get, definition_list

from .common import error_dict

MAX_BPMN_BYTES = 2 * 1024 * 1024


def _require_designer(request):
    if has_permission(request.user, "platform.admin"):
        return
    require_permission(request.user, "catalog.design", request=request)


@staff_required
def process_list(request):
    """Every process with its versions; upload a new version (a broken file is refused with the reason)."""
    _require_designer(request)
    errors, status, key = {}, 200, ""
    if request.method == "POST":
        key = (request.POST.get("key") or "").strip()
        upload = request.FILES.get("bpmn")
        if upload is None:
            errors = {"bpmn": [_("Choose a BPMN file.")]}
        elif upload.size > MAX_BPMN_BYTES:
            errors = {"bpmn": [_("The file is larger than 2 MB.")]}
        else:
            try:
                definition, created = workflow.definition_store(
                    actor=actor_from_request(request), key=key, xml=upload.read()
                )
            except ValidationError as exc:
                errors = error_dict(exc)
            else:
                if created:
                    messages.success(
                        request,
                        _("Stored %(key)s version %(version)s.")
                        % {"key": definition.key, "version": definition.version},
                    )
                else:
                    messages.info(
                        request,
                        _("The file is the same as %(key)s version %(version)s; no new version.")
                        % {"key": definition.key, "version": definition.version},
                    )
                return redirect("workbench:process", key=definition.key, version=definition.version)
        status = 400
    groups: dict[str, list] = {}
    for definition in definition_list():
        groups.setdefault(definition.key, []).append(definition)
    context = {"groups": groups, "errors": errors, "key": key}
    return render(request, "workbench/processes/list.html", context, status=status)


def _definition(key, version):
    definition = definition_get(key, version)
    if definition is None:
        raise Http404(_("No such process version."))
    return definition


@staff_required
def process_detail(request, key, version):
    """One version: its lanes (department roles) and user tasks."""
    _require_designer(request)
    definition = _definition(key, version)
    tasks_by_lane: dict[str, list] = {}
    for task in definition.user_tasks:
        tasks_by_lane.setdefault(task.get("lane", ""), []).append(task)
    lanes = [
        {"name": name, **(spec or {}), "tasks": tasks_by_lane.get(name, [])}
        for name, spec in definition.lanes.items()
    ]
    context = {"definition": definition, "lanes": lanes}
    return render(request, "workbench/processes/detail.html", context)


@staff_required
def process_download(request, key, version):
    _require_designer(request)
    definition = _definition(key, version)
    response = HttpResponse(definition.bpmn_xml, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{definition.key}-v{definition.version}.bpmn"'
    return response
