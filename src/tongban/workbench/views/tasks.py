"""Department inboxes (待办): the tasks waiting for my department, a task with its case, and the actions on it.

Every action posts the task's revision, so a page left open while a colleague acted gets a clear conflict
instead of overwriting their work. Who may act is decided by the cases and workflow services (403, audited).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.cases import services as cases
from tongban.cases.selectors import case_get_for_user
from tongban.core import calendar
from tongban.core.exceptions import Conflict, DomainError
from tongban.identity.permissions import staff_required
from tongban.identity.selectors import actor_from_request
from tongban.workflow.models import Task
from tongban.workflow.selectors import task_get_for_user
from tongban.workflow.services import can_work, process_is_synthetic

from .. import selectors
from ..services import case_view_record
from .common import case_context, error_dict, page_of

STATE_FILTERS = (Task.State.READY, Task.State.CLAIMED, Task.State.WAITING)
ACTIONS = ("claim", "approve", "refuse", "return", "supplement")


@staff_required
def task_list(request):
    """My department's open tasks, soonest due first, with yellow and red time-limit badges."""
    state = request.GET.get("state") if request.GET.get("state") in STATE_FILTERS else ""
    page = page_of(request, selectors.inbox_page_for(request.user, state=state or None))
    today = calendar.today()
    for task in page:
        task.due_level = selectors.due_level(task, today)
        task.can_claim = task.state == Task.State.READY and can_work(actor_from_request(request), task)
    context = {
        "page": page,
        "state": state,
        "filter_query": f"{urlencode({'state': state})}&" if state else "",
        "states": [(value, Task.State(value).label) for value in STATE_FILTERS],
    }
    return render(request, "workbench/tasks/list.html", context)


def _task_page(request, task, *, errors=None, action="", status=200):
    """The task page: the task, its case (audited read), and the forms of the actions the user may take."""
    case = case_get_for_user(request.user, task.case_number)
    if case is None:
        raise Http404(_("No such case."))
    case_view_record(actor=actor_from_request(request), case=case)
    workable = task.state in (Task.State.READY, Task.State.CLAIMED)
    synthetic = workable and process_is_synthetic(task)  # one read, only for a step that could be acted on
    may_act = workable and not synthetic and can_work(actor_from_request(request), task)
    errors = errors or {}
    posted = request.POST if request.method == "POST" else {}
    supplement_materials = selectors.service_materials(case.service)
    asked_materials = set(_supplement_asked(posted, "material")) if posted else set()
    for material in supplement_materials:
        material.ticked = material.code in asked_materials
        material.reason = posted.get(f"material-reason-{material.code}", "") if posted else ""
    supplement_fields = selectors.form_fields(case.service)
    asked_fields = set(_supplement_asked(posted, "field")) if posted else set()
    for field in supplement_fields:
        field.ticked = field.name in asked_fields
        field.reason = posted.get(f"field-reason-{field.name}", "") if posted else ""
    context = {
        "task": task,
        "due_level": selectors.due_level(task),
        "may_act": may_act,
        "synthetic": synthetic,
        "may_claim": may_act and task.state == Task.State.READY,
        "errors": errors,
        "other_errors": [
            message
            for key, messages_ in errors.items()
            if key not in ("opinion", "basis", "materials", "fields")
            for message in messages_
        ],
        "action": action,
        "posted": posted,
        "supplement_materials": supplement_materials,
        "supplement_fields": supplement_fields,
        **case_context(request.user, case),
    }
    return render(request, "workbench/tasks/detail.html", context, status=status)


@staff_required
def task_detail(request, task_id):
    task = task_get_for_user(request.user, task_id)
    if task is None:
        raise Http404(_("No such task."))
    return _task_page(request, task)


def _revision(request):
    try:
        return int(request.POST.get("revision", ""))
    except ValueError:
        return None


def _claim(request, task_id, revision):
    cases.case_task_claim(actor=actor_from_request(request), task_id=task_id, revision=revision)
    return _("The step is now in your hands."), "task"


def _approve(request, task_id, revision):
    cases.case_task_complete(
        actor=actor_from_request(request),
        task_id=task_id,
        decision=Task.Decision.APPROVE,
        opinion=request.POST.get("opinion", "").strip(),
        revision=revision,
    )
    return _("Approved; the case moves on."), "inbox"


def _refuse(request, task_id, revision):
    cases.case_task_complete(
        actor=actor_from_request(request),
        task_id=task_id,
        decision=Task.Decision.REJECT,
        opinion=request.POST.get("opinion", "").strip(),
        basis=request.POST.get("basis", "").strip(),
        revision=revision,
    )
    return _("Refused; the applicant is told the reason and its legal basis."), "inbox"


def _return(request, task_id, revision):
    cases.case_task_return(
        actor=actor_from_request(request),
        task_id=task_id,
        opinion=request.POST.get("opinion", "").strip(),
        revision=revision,
    )
    return _("Returned to the previous step."), "inbox"


def _supplement_asked(post, kind: str) -> list[str]:
    """The materials (``kind`` "material") or form fields ("field") a supplement form asks for, in the page's
    order: those ticked, and those given a reason without the tick (a handler who types why an item is wrong
    means to ask for it; the page once refused such a form as listing nothing)."""
    prefix, ticked = f"{kind}-reason-", post.getlist(kind)
    # Every item's reason box is posted, empty or not, in the page's order.
    listed = [name.removeprefix(prefix) for name in post if name.startswith(prefix)]
    asked = [name for name in listed if name in ticked or post.get(prefix + name, "").strip()]
    return asked + [name for name in dict.fromkeys(ticked) if name not in asked]


def _supplement(request, task_id, revision):
    post = request.POST
    materials = [
        {"code": code, "reason": post.get(f"material-reason-{code}", "").strip()}
        for code in _supplement_asked(post, "material")
    ]
    fields = [
        {"field": name, "reason": post.get(f"field-reason-{name}", "").strip()}
        for name in _supplement_asked(post, "field")
    ]
    cases.case_supplement_request(
        actor=actor_from_request(request),
        task_id=task_id,
        materials=materials,
        fields=fields,
        note=post.get("note", "").strip(),
        revision=revision,
    )
    return _("Supplement requested; the time limit is paused until the applicant answers."), "inbox"


_HANDLERS = {
    "claim": _claim,
    "approve": _approve,
    "refuse": _refuse,
    "return": _return,
    "supplement": _supplement,
}


@require_POST
@staff_required
def task_act(request, task_id, action):
    """Claim, approve, refuse, return or ask for a supplement; a stale page or a lost race gets a conflict."""
    handler = _HANDLERS.get(action)
    if handler is None:
        raise Http404(_("No such action."))
    try:
        message, target = handler(request, task_id, _revision(request))
    except Task.DoesNotExist as exc:
        raise Http404(_("No such task.")) from exc
    except PermissionDenied:
        raise
    except ValidationError as exc:
        return _rerender(request, task_id, errors=error_dict(exc), action=action, status=400)
    except Conflict as exc:
        messages.error(request, str(exc))
        return _rerender(request, task_id, action=action, status=409)
    except (
        DomainError
    ) as exc:  # e.g. a missing data-sharing grant for a step's evidence check: said, nothing kept
        messages.error(request, str(exc))
        return _rerender(request, task_id, action=action, status=400)
    messages.success(request, message)
    if target == "task":
        return redirect("workbench:task", task_id=task_id)
    return redirect("workbench:tasks")


def _rerender(request, task_id, **kwargs):
    task = task_get_for_user(request.user, task_id)
    if task is None:
        raise Http404(_("No such task."))
    return _task_page(request, task, **kwargs)
