"""Helpers shared by the staff pages."""

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.urls import NoReverseMatch, reverse

from tongban.workflow.selectors import tasks_for_case

from .. import selectors

PAGE_SIZE = 25


def error_dict(exc: ValidationError) -> dict[str, list[str]]:
    """Field messages of a ValidationError; messages without a field under ``__all__``."""
    if hasattr(exc, "error_dict"):
        return {key: [str(m) for m in messages] for key, messages in exc.message_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def page_of(request, query, size=PAGE_SIZE):
    return Paginator(query, size).get_page(request.GET.get("page"))


def receipt_url(number: str) -> str:
    """Where the receipt (受理回执) of a case is downloaded; the cases app serves it."""
    try:
        return reverse("cases:receipt", args=[number])
    except NoReverseMatch:
        return f"/cases/{number}/receipt.pdf"


def case_context(user, case) -> dict:
    """What the case panel shows: form data with labels, materials, timeline, and every task of the case."""
    from tongban.cases.selectors import (
        case_deemed_accepted,
        case_materials,
        case_open_supplement,
        case_timeline,
    )
    from tongban.enterprise.selectors import case_signatures_checked
    from tongban.exchange.selectors import case_evidence_rows
    from tongban.identity.selectors import actor_names

    service = case.service
    fields = selectors.form_fields(service, values=case.form_data)
    known = {f.name for f in fields}
    extra = [(name, value) for name, value in case.form_data.items() if name not in known]
    timeline = list(case_timeline(case))
    return {
        "case": case,
        "case_fields": fields,
        "case_extra": extra,
        "case_materials": list(case_materials(case)),
        "timeline": timeline,
        "deemed_accepted": case_deemed_accepted(case, {step.kind for step in timeline}),
        "actor_names": actor_names(step.actor for step in timeline),
        "case_tasks": list(tasks_for_case(case.pk)),
        "supplement": case_open_supplement(case),
        "receipt_url": receipt_url(case.number),
        "evidence_rows": case_evidence_rows(case.pk),
        "signature_checks": case_signatures_checked(case) if case.applicant_organisation_id else [],
    }
