"""Pages of proactive services: the citizen's offers (accept with one confirmation, decline), and the service
designers' rule pages (list with outcomes, edit with the condition checked, dry run)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.cases.forms import choice_list, value_label
from tongban.cases.models import Case
from tongban.core.exceptions import Conflict
from tongban.identity.permissions import staff_required
from tongban.identity.selectors import actor_from_request

from . import selectors, services
from .forms import RuleForm
from .models import Offer
from .rules import CONTEXT_TYPES


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {key: [str(m) for m in msgs] for key, msgs in exc.message_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def _title(prop: dict, name: str) -> str:
    """A form field's title in the page's language (``title_en`` on an English page when the form gives one)."""
    if (get_language() or "").startswith("en") and prop.get("title_en"):
        return prop["title_en"]
    return prop.get("title", name)


def _form_rows(offer: Offer) -> tuple[list[dict], list[dict]]:
    """The prefilled fields (label, value) and the required fields still empty, from the service's form."""
    service = services.service_resolve(offer.service)
    schema = (service.form_schema if service is not None else {}) or {}
    properties = schema.get("properties", {})
    widgets = ((service.form_ui if service is not None else {}) or {}).get("widgets", {})
    filled = [  # in words: a choice's label, yes or no (the walk showed "male" and "True")
        {
            "name": name,
            "label": _title(properties.get(name, {}), name),
            "value": value_label(properties.get(name, {}), widgets.get(name), value),
        }
        for name, value in offer.prefilled.items()
    ]
    missing = [
        {
            "name": name,
            "label": _title(properties[name], name),
            "schema": properties[name],
            "choices": choice_list(properties[name], widgets.get(name)),
        }
        for name in schema.get("required", [])
        if name in properties and name not in offer.prefilled
    ]
    return filled, missing


def _bundle_items(offer: Offer) -> list[dict]:
    """The items of a bundle offer, each to apply for now or leave for later ("not now"); [] for an item offer."""
    service = services.service_resolve(offer.service)
    if service is None or not hasattr(service, "bundle_items"):  # an item, not a bundle
        return []
    from tongban.cases.services import items_skippable

    later = set(offer.items_later or ())
    skippable = items_skippable(service)
    return [
        {
            "code": link.item.code,
            "name": link.item.name,
            "later": link.item.code in later,
            "skippable": link.item.code in skippable,  # the others are handled with the rest: no "not now"
        }
        for link in service.bundle_items.select_related("item").order_by("position", "pk")
    ]


def _offer_or_404(request, pk) -> Offer:
    offer = selectors.offer_get_for_user(request.user, pk)
    if offer is None:
        raise Http404(_("No such offer."))
    return offer


@login_required
def offer_list(request):
    """My offers: what the platform offers or granted me, and what became of each."""
    return render(
        request, "proactive/offer_list.html", {"offers": selectors.offer_list_for_user(request.user)}
    )


@login_required
def offer_detail(request, pk, *, errors=None, status=200, values=None):
    """One offer: the prefilled form as a read-only summary, the fields still needed, confirm or decline."""
    offer = _offer_or_404(request, pk)
    filled, missing = _form_rows(offer)
    case = Case.objects.filter(pk=offer.case_id).first() if offer.case_id else None
    errors, values = errors or {}, values or {}
    for row in missing:
        row["value"] = values.get(row["name"], "")
        row["errors"] = errors.get(row["name"], [])
    asked = {row["name"] for row in missing}
    labels = {"skip_items": _("What to apply for now")}
    other_errors = [
        f"{labels.get(name, name)}: {' '.join(msgs)}" if name != "__all__" else " ".join(msgs)
        for name, msgs in errors.items()
        if name not in asked
    ]
    items = _bundle_items(offer)
    if values.get("_items") is not None:  # the choice the person made, shown again with the errors
        for item in items:
            item["later"] = item["code"] not in values["_items"]
    context = {
        "offer": offer,
        "filled": filled,
        "missing": missing,
        "other_errors": other_errors,
        "case": case,
        "items": items,
        "items_later": [item for item in items if item["later"]]
        if offer.status == Offer.Status.ACCEPTED
        else [],
    }
    return render(request, "proactive/offer_detail.html", context, status=status)


@login_required
@require_POST
def offer_accept(request, pk):
    offer = _offer_or_404(request, pk)
    _filled, missing = _form_rows(offer)
    values = {m["name"]: request.POST.get(m["name"], "").strip() for m in missing}
    for m in missing:
        if m["schema"].get("type") == "integer" and values[m["name"]].isdecimal():
            values[m["name"]] = int(values[m["name"]])
    skip = []
    if request.POST.get("items_shown"):  # a bundle's items were listed: the unticked ones are "not now"
        chosen = request.POST.getlist("item")
        skip = [item["code"] for item in _bundle_items(offer) if item["code"] not in chosen]
    try:
        offer = services.offer_accept(
            actor=actor_from_request(request), offer=offer, form_data=values, skip_items=skip
        )
    except ValidationError as exc:
        if request.POST.get("items_shown"):
            values["_items"] = request.POST.getlist("item")
        return offer_detail(request, pk, errors=_errors(exc), status=400, values=values)
    except Conflict as exc:
        messages.error(request, str(exc))
        return redirect("proactive:offer", pk=offer.pk)
    case = Case.objects.filter(pk=offer.case_id).first()
    messages.success(request, _("Submitted. Your case number is %(number)s.") % {"number": case.number})
    if offer.items_later:
        messages.info(
            request,
            _("Not now: %(items)s. You can apply for them later from the offer's page.")
            % {"items": ", ".join(i["name"] for i in _bundle_items(offer) if i["later"])},
        )
    return redirect("cases:detail", number=case.number)


@login_required
@require_POST
def offer_decline(request, pk):
    offer = _offer_or_404(request, pk)
    try:
        services.offer_decline(
            actor=actor_from_request(request), offer=offer, reason=request.POST.get("reason", "")
        )
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, _("Declined. You can still apply yourself at any time."))
    return redirect("proactive:list")


# --- service designers ---------------------------------------------------------------------------------


@staff_required(permission="catalog.design")
def rule_list(request):
    """The rules with their outcomes: sent, accepted, declined, granted per rule."""
    return render(request, "proactive/rule_list.html", {"rules": selectors.rule_list_with_counts()})


@staff_required(permission="catalog.design")
def policy_list(request):
    """惠企政策: each policy with its eligibility and how many enterprises it told, offered or granted."""
    return render(request, "proactive/policy_list.html", {"policies": selectors.policy_list_with_counts()})


def _today(request) -> dt.date:
    value = request.GET.get("today") or request.POST.get("today") or ""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return timezone.localdate()


@staff_required(permission="catalog.design")
def rule_edit(request, code=None):
    """Create or change a rule. The condition is checked on save (the error names its position); "Dry run"
    shows whom the condition as typed would reach today, without saving or acting."""
    rule = None
    if code is not None:
        rule = selectors.rule_get(code)
        if rule is None:
            raise Http404(_("No such rule."))
    form = RuleForm(request.POST or None, instance=rule)
    dry_run, status = None, 200
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in services.RULE_FIELDS}
        if "dry_run" in request.POST:
            dry_run = selectors.rule_dry_run(
                trigger=fields["trigger"], condition=fields["condition"], today=_today(request), rule=rule
            )
        else:
            try:
                if rule is None:
                    rule = services.rule_create(
                        actor=actor_from_request(request),
                        code=form.cleaned_data["code"],
                        created_by=request.user,
                        **fields,
                    )
                else:
                    services.rule_update(actor=actor_from_request(request), rule=rule, **fields)
            except ValidationError as exc:
                for field, msgs in _errors(exc).items():
                    form.add_error(field if field in form.fields else None, msgs)
                status = 400
            else:
                messages.success(request, _("Saved the rule %(code)s.") % {"code": rule.code})
                return redirect("proactive:rules")
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "proactive/rule_edit.html",
        {"form": form, "rule": rule, "dry_run": dry_run, "names": CONTEXT_TYPES, "today": _today(request)},
        status=status,
    )


@staff_required(permission="catalog.design")
def rule_dry_run(request, code):
    """Who would this rule reach today (or ``?today=``), and why; nothing is sent."""
    rule = selectors.rule_get(code)
    if rule is None:
        raise Http404(_("No such rule."))
    today = _today(request)
    result = selectors.rule_dry_run(trigger=rule.trigger, condition=rule.condition, today=today, rule=rule)
    return render(request, "proactive/rule_dry_run.html", {"rule": rule, "dry_run": result, "today": today})
