"""Pages of the sharing layer.

Portal: the public data catalogue (``/data/resources/``) and "who used my data" (``/data/uses/``, signed in).
Workbench (staff, second factor): grant requests and decisions for data stewards (``/data/grants/``) and the
request form (``/data/grants/new/``). Thin views: parse, call one service or selector, render.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tongban.core.exceptions import Conflict
from tongban.identity.permissions import has_permission, second_factor_required, staff_required
from tongban.identity.selectors import actor_from_request, person_for, staff_for

from . import selectors, services
from .models import DataResource, SharingGrant

PAGE_SIZE = 30


# --- portal ------------------------------------------------------------------------------------------------------


def resource_catalogue(request):
    """The public data catalogue: what each department shares, how, and on what legal basis (no data)."""
    sharing = request.GET.get("sharing", "")
    if sharing not in DataResource.Sharing.values:
        sharing = ""
    resources = list(selectors.resource_list(sharing=sharing or None))
    context = {"resources": resources, "sharing": sharing, "sharing_choices": DataResource.Sharing.choices}
    return render(request, "exchange/resources.html", context)


@login_required
@second_factor_required
def data_uses(request):
    """Who used my data: every lookup of the signed-in person's data, newest first, allowed or refused."""
    person = person_for(request.user)
    page = Paginator(selectors.data_use_for_person(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"person": person, "page": page, "rows": selectors.data_use_rows(page)}
    return render(request, "exchange/data_uses.html", context)


# --- workbench ---------------------------------------------------------------------------------------------------


class GrantRequestForm(forms.Form):
    field_names = forms.MultipleChoiceField(
        label=gettext_lazy("Fields"), widget=forms.CheckboxSelectMultiple, required=True
    )
    purpose = forms.CharField(label=gettext_lazy("Purpose"), max_length=200)
    legal_basis = forms.CharField(
        label=gettext_lazy("Legal basis"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    valid_until = forms.DateField(
        label=gettext_lazy("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, resource: DataResource, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field_names"].choices = [
            (f["name"], f"{f.get('label') or f['name']} ({f['name']}, {f['sensitivity']})")
            for f in resource.fields
        ]
        for field in self.fields.values():
            if not isinstance(field.widget, forms.CheckboxSelectMultiple):
                field.widget.attrs.setdefault("class", "form-control")


def _after(request, call, done: str, target: str = "exchange:grants"):
    try:
        call()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except Conflict as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect(target)


@staff_required(permission="exchange.request")
def grants(request):
    """Grant requests for my department's resources (to decide) and my department's own grants."""
    status = request.GET.get("status", "")
    if status not in SharingGrant.Status.values:
        status = ""
    role = request.GET.get("role", "")
    if role not in ("owner", "requester"):
        role = ""
    page = Paginator(
        selectors.grant_list_for(request.user, status=status or None, role=role or None), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    user = request.user
    for grant in page:
        may_decide = has_permission(user, "exchange.grant", department=grant.resource.owner_id)
        grant.can_decide = may_decide and grant.status == SharingGrant.Status.REQUESTED
        grant.can_revoke = grant.status in (SharingGrant.Status.REQUESTED, SharingGrant.Status.APPROVED) and (
            may_decide or has_permission(user, "exchange.request", department=grant.department_id)
        )
        grant.field_labels = grant.resource.field_labels(grant.fields)
    context = {
        "page": page,
        "status": status,
        "role": role,
        "statuses": SharingGrant.Status.choices,
        "staff": staff_for(user),
        "section": "grants",
    }
    return render(request, "exchange/grants.html", context)


@staff_required(permission="exchange.request")
def grant_new(request):
    """Ask for a grant for my department: choose a shared resource, then its fields, purpose and validity."""
    staff = staff_for(request.user)
    if staff is None:
        raise PermissionDenied(_("Only staff of a department request data."))
    choices = [r for r in selectors.resource_list() if r.sharing != DataResource.Sharing.NOT_SHARED]
    code = request.POST.get("resource") or request.GET.get("resource", "")
    resource = next((r for r in choices if r.code == code), None)
    form = None
    if resource is not None:
        form = GrantRequestForm(request.POST if request.method == "POST" else None, resource=resource)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                grant = services.grant_request(
                    actor=actor_from_request(request),
                    department=staff.department,
                    resource=resource,
                    fields=data["field_names"],
                    purpose=data["purpose"],
                    legal_basis=data["legal_basis"],
                    valid_until=data["valid_until"],
                )
            except ValidationError as error:
                for key, found in error.message_dict.items():
                    target = "field_names" if key == "fields" else key
                    form.add_error(target if target in form.fields else None, found)
            except Conflict as error:
                form.add_error(None, str(error))
            else:
                if grant.status == SharingGrant.Status.APPROVED:
                    messages.success(
                        request, _("The resource is shared unconditionally: the grant is approved.")
                    )
                else:
                    messages.success(
                        request,
                        _("The request is sent to the data steward of %(owner)s.")
                        % {"owner": resource.owner.name},
                    )
                return redirect("exchange:grants")
    context = {
        "resources": choices,
        "resource": resource,
        "form": form,
        "department": staff.department,
        "section": "new",
    }
    return render(request, "exchange/grant_new.html", context)


def _grant(request, pk) -> SharingGrant:
    grant = selectors.grant_get_for(request.user, pk)
    if grant is None:
        raise Http404
    return grant


@require_POST
@staff_required(permission="exchange.grant")
def grant_approve(request, pk):
    grant = _grant(request, pk)
    return _after(
        request,
        lambda: services.grant_approve(actor=actor_from_request(request), grant=grant),
        _("The grant of %(resource)s to %(department)s is approved.")
        % {"resource": grant.resource.code, "department": grant.department.name},
    )


@require_POST
@staff_required(permission="exchange.grant")
def grant_refuse(request, pk):
    grant = _grant(request, pk)
    return _after(
        request,
        lambda: services.grant_refuse(
            actor=actor_from_request(request), grant=grant, reason=request.POST.get("reason", "")
        ),
        _("The request of %(department)s is refused.") % {"department": grant.department.name},
    )


@require_POST
@staff_required(permission="exchange.request")
def grant_revoke(request, pk):
    grant = _grant(request, pk)
    return _after(
        request,
        lambda: services.grant_revoke(
            actor=actor_from_request(request), grant=grant, reason=request.POST.get("reason", "")
        ),
        _("The grant is revoked."),
    )
