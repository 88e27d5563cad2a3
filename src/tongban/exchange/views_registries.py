"""Workbench pages for browsing a department's own registries (基础库浏览).

Only staff of the registry's owner (the municipal department or its district branches) may browse it; anyone
else gets 403 (audited as ``permission.denied``). Every page that shows personal data writes an audit entry
``registry.viewed`` with the purpose the staff member gave. Resident ID numbers are shown masked.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongban.core.audit import audit_record
from tongban.core.masking import mask_resident_id
from tongban.identity.permissions import staff_required
from tongban.identity.selectors import actor_from_request

from .registry_selectors import (
    REGISTERS,
    property_owners,
    register_get,
    register_record_get,
    register_records,
    registers_for,
)
from .registry_services import require_registry_staff

PAGE_SIZE = 25
PURPOSES = {
    "registration": gettext_lazy("Handling a registration"),
    "verification": gettext_lazy("Verifying data for a case"),
    "correction": gettext_lazy("Correcting the registry"),
    "enquiry": gettext_lazy("Answering an enquiry by the person concerned"),
}


def _person(person):
    return f"{person.name} {mask_resident_id(person.resident_id)}" if person else "—"


def _date(value):
    return value.isoformat() if value else "—"


def _organisation(organisation):
    return f"{organisation.name} {organisation.credit_code}" if organisation else "—"


# Columns of each register's list page and rows of its record page: (label, value of a record).
COLUMNS = {
    "households": (
        (gettext_lazy("Household number"), lambda r: r.household.number),
        (gettext_lazy("Person"), lambda r: _person(r.person)),
        (gettext_lazy("Relation"), lambda r: r.get_relation_display()),
        (gettext_lazy("District"), lambda r: r.household.district.name),
        (gettext_lazy("Since"), lambda r: _date(r.since)),
    ),
    "births": (
        (gettext_lazy("Certificate number"), lambda r: r.certificate_number),
        (gettext_lazy("Baby"), lambda r: f"{r.baby_name}（{r.get_baby_sex_display()}）"),
        (gettext_lazy("Birth date"), lambda r: _date(r.birth_date)),
        (gettext_lazy("Mother"), lambda r: _person(r.mother)),
        (gettext_lazy("Household registration"), lambda r: _("done") if r.baby_id else _("not yet")),
    ),
    "marriages": (
        (gettext_lazy("Certificate number"), lambda r: r.certificate_number),
        (gettext_lazy("Party A"), lambda r: _person(r.party_a)),
        (gettext_lazy("Party B"), lambda r: _person(r.party_b)),
        (gettext_lazy("Registered on"), lambda r: _date(r.registered_on)),
        (gettext_lazy("Status"), lambda r: r.get_status_display()),
    ),
    "social-insurance": (
        (gettext_lazy("Person"), lambda r: _person(r.person)),
        (gettext_lazy("Status"), lambda r: r.get_status_display()),
        (gettext_lazy("Since"), lambda r: _date(r.since)),
        (gettext_lazy("Employer"), lambda r: r.employer.name if r.employer else "—"),
        (gettext_lazy("Card"), lambda r: mask_resident_id(r.card_number) if r.card_number else "—"),
    ),
    "medical-insurance": (
        (gettext_lazy("Person"), lambda r: _person(r.person)),
        (gettext_lazy("Scheme"), lambda r: r.get_scheme_display()),
        (gettext_lazy("Status"), lambda r: r.get_status_display()),
        (gettext_lazy("Since"), lambda r: _date(r.since)),
    ),
    "property-units": (
        (gettext_lazy("Unit number"), lambda r: r.unit_number),
        (gettext_lazy("Address"), lambda r: r.address),
        (gettext_lazy("District"), lambda r: r.district.name),
        (gettext_lazy("Floor area (m²)"), lambda r: r.floor_area),
        (gettext_lazy("Certificate number"), lambda r: r.certificate_number),
    ),
    "business": (
        (gettext_lazy("Credit code"), lambda r: r.organisation.credit_code),
        (gettext_lazy("Name"), lambda r: r.organisation.name),
        (gettext_lazy("Registered on"), lambda r: _date(r.registered_on)),
        (gettext_lazy("Registered capital (10,000 CNY)"), lambda r: r.registered_capital),
        (gettext_lazy("Status"), lambda r: r.get_status_display()),
    ),
    "tax-registrations": (
        (
            gettext_lazy("Taxpayer number"),
            lambda r: r.taxpayer_number if r.organisation_id else mask_resident_id(r.taxpayer_number),
        ),
        (gettext_lazy("Taxpayer"), lambda r: r.organisation.name if r.organisation_id else r.person.name),
        (gettext_lazy("Registered on"), lambda r: _date(r.registered_on)),
    ),
    "headcounts": (
        (gettext_lazy("Employer"), lambda r: r.organisation.name),
        (gettext_lazy("Quarter"), lambda r: _date(r.quarter)),
        (gettext_lazy("Insured people"), lambda r: r.insured),
    ),
    "tax-filings": (
        (gettext_lazy("Taxpayer"), lambda r: r.organisation.name),
        (gettext_lazy("Quarter"), lambda r: _date(r.quarter)),
        (gettext_lazy("Revenue (10,000 CNY)"), lambda r: r.revenue),
        (gettext_lazy("Tax paid (10,000 CNY)"), lambda r: r.tax_paid),
    ),
    "qualifications": (
        (gettext_lazy("Enterprise"), lambda r: r.organisation.name),
        (gettext_lazy("Qualification"), lambda r: r.get_kind_display()),
        (gettext_lazy("Certificate number"), lambda r: r.number),
        (gettext_lazy("Valid until"), lambda r: _date(r.valid_until)),
    ),
    "deed-tax": (
        (gettext_lazy("Receipt number"), lambda r: r.receipt_number),
        (gettext_lazy("Unit number"), lambda r: r.unit.unit_number),
        (gettext_lazy("Payer"), lambda r: _person(r.payer)),
        (gettext_lazy("Amount (CNY)"), lambda r: r.amount),
        (gettext_lazy("Paid on"), lambda r: _date(r.paid_on)),
        (gettext_lazy("Case"), lambda r: str(r.case_id) if r.case_id else "—"),
    ),
}
EXTRA_DETAIL = {
    "households": ((gettext_lazy("Address"), lambda r: r.household.address),),
    "births": (
        (gettext_lazy("Birth time"), lambda r: r.birth_time.strftime("%H:%M") if r.birth_time else "—"),
        (gettext_lazy("Birth weight (g)"), lambda r: r.weight_g),
        (gettext_lazy("Hospital"), lambda r: r.hospital),
        (gettext_lazy("Father"), lambda r: _person(r.father)),
        (gettext_lazy("Baby's resident ID"), lambda r: _person(r.baby)),
    ),
    "marriages": (
        (gettext_lazy("Registry office"), lambda r: r.office.name),
        (gettext_lazy("Dissolved on"), lambda r: _date(r.dissolved_on)),
    ),
    "social-insurance": ((gettext_lazy("Card issued on"), lambda r: _date(r.card_issued_on)),),
    "property-units": ((gettext_lazy("Use"), lambda r: r.get_use_display()),),
    "business": (
        (gettext_lazy("Type"), lambda r: r.organisation.get_org_type_display()),
        (
            gettext_lazy("District"),
            lambda r: r.organisation.district.name if r.organisation.district else "—",
        ),
        (gettext_lazy("Business scope"), lambda r: r.business_scope),
        (gettext_lazy("Industry code"), lambda r: r.industry_code or "—"),
    ),
    "tax-registrations": ((gettext_lazy("Tax credit rating"), lambda r: r.credit_rating or "—"),),
}


def _subject_id(register, record) -> str:
    """The audit subject of a record: the person, unit number or organisation it is about."""
    if register.code in ("households", "social-insurance", "medical-insurance"):
        return str(record.person_id)
    if register.code == "births":
        return str(record.mother_id)
    if register.code == "marriages":
        return str(record.party_a_id)
    if register.code == "property-units":
        return record.unit_number
    if register.code == "deed-tax":
        return record.unit.unit_number
    if register.code in ("business", "headcounts", "tax-filings", "qualifications"):
        return str(record.organisation_id)
    if register.code == "tax-registrations":
        return str(record.organisation_id or record.person_id)
    return str(record.pk)


def _purpose(request) -> str:
    value = request.GET.get("purpose") or "registration"
    return value if value in PURPOSES else "registration"


def _register_or_404(request, code):
    register = register_get(code)
    if register is None:
        raise Http404(_("No such registry."))
    require_registry_staff(actor_from_request(request), register.registry)
    return register


def _record_viewed(request, *, register, subject_type, subject_id, purpose, details):
    with transaction.atomic():
        audit_record(
            actor=actor_from_request(request),
            action="registry.viewed",
            subject_type=subject_type,
            subject_id=subject_id,
            purpose=str(PURPOSES[purpose]),
            details={"register": register.code, "purpose": purpose, **details},
        )


@staff_required
def registry_home(request):
    """The registers of the staff member's department."""
    registers = registers_for(request.user)
    if not registers:
        raise PermissionDenied(_("Your department keeps no registry."))
    return render(request, "exchange/registries/home.html", {"registers": registers})


@staff_required
def registry_list(request, register):
    """One register, searched by an identifier; the records shown are audited (masked identifiers)."""
    register = _register_or_404(request, register)
    search = (request.GET.get("q") or "").replace("\x00", "").strip()[:100]
    purpose = _purpose(request)
    page = Paginator(register_records(register, search=search), PAGE_SIZE).get_page(request.GET.get("page"))
    columns = COLUMNS[register.code]
    rows = [(record.pk, [column(record) for _label, column in columns]) for record in page]
    if rows:
        _record_viewed(
            request,
            register=register,
            subject_type="registry",
            subject_id=register.code,
            purpose=purpose,
            details={"search": bool(search), "records": [str(pk) for pk, _values in rows]},
        )
    filters = {key: value for key, value in (("q", search), ("purpose", purpose)) if value}
    context = {
        "register": register,
        "registers": registers_for(request.user),
        "labels": [label for label, _column in columns],
        "rows": rows,
        "page": page,
        "search": search,
        "purpose": purpose,
        "purposes": PURPOSES.items(),
        "filter_query": f"{urlencode(filters)}&",
    }
    return render(request, "exchange/registries/list.html", context)


@staff_required
def registry_record(request, register, pk):
    """One record of a register (and, for a unit, its owners, mortgages, seizures and deed tax); audited."""
    register = _register_or_404(request, register)
    record = register_record_get(register, pk)
    if record is None:
        raise Http404(_("No such record."))
    purpose = _purpose(request)
    rows = [
        (label, column(record))
        for label, column in (*COLUMNS[register.code], *EXTRA_DETAIL.get(register.code, ()))
    ]
    context = {
        "register": register,
        "record": record,
        "rows": rows,
        "purpose": purpose,
        "purposes": PURPOSES.items(),
    }
    if register.code == "property-units":
        context["owners"] = [
            (
                _person(o.owner_person) if o.owner_person_id else _organisation(o.owner_organisation),
                o.share,
                _date(o.since),
            )
            for o in property_owners(record)
        ]
        context["mortgages"] = list(record.mortgages.order_by("registered_on"))
        context["seizures"] = list(record.seizures.order_by("ordered_on"))
        context["deed_tax"] = list(record.deed_tax_payments.select_related("payer").order_by("-paid_on"))
        context["deed_tax_rows"] = [
            (p.receipt_number, _person(p.payer), p.amount, _date(p.paid_on)) for p in context["deed_tax"]
        ]
    _record_viewed(
        request,
        register=register,
        subject_type=register.subject_type,
        subject_id=_subject_id(register, record),
        purpose=purpose,
        details={"record": str(record.pk)},
    )
    return render(request, "exchange/registries/record.html", context)


__all__ = ["REGISTERS", "registry_home", "registry_list", "registry_record"]
