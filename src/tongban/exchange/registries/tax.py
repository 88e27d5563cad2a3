"""Tax (税务登记、契税缴纳信息), owned by the tax service."""

from __future__ import annotations

from tongban.identity.models import Organisation

from ..models import DeedTaxPayment, PropertyUnit, TaxRegistration
from ..resources import Field, ResourceSpec, register_resource
from ._common import key, person_id, plain

OWNER = "tax"
LEGAL_BASIS = "《中华人民共和国税收征收管理法》；《中华人民共和国契税法》"


def fetch_tax_registration(subject_key, fields):
    """Whether the organisation is registered for tax, its taxpayer number and date."""
    organisation = (
        Organisation.objects.filter(credit_code=key(subject_key)).values_list("pk", flat=True).first()
    )
    if organisation is None:
        return None
    row = (
        TaxRegistration.objects.filter(organisation_id=organisation)
        .values("taxpayer_number", "registered_on")
        .first()
    )
    values = {
        "registered": row is not None,
        "taxpayer_number": row["taxpayer_number"] if row else None,
        "registered_on": plain(row["registered_on"]) if row else None,
    }
    return {name: values[name] for name in fields if name in values}


register_resource(
    ResourceSpec(
        code="tax-registration",
        owner=OWNER,
        name_zh="税务登记信息",
        name_en="Tax registration",
        subject="organisation",
        fields={
            "registered": Field("boolean", "internal", "是否已办理税务登记", "Registered for tax"),
            "taxpayer_number": Field("string", "internal", "纳税人识别号", "Taxpayer identification number"),
            "registered_on": Field("date", "internal", "登记日期", "Date of registration"),
        },
        sharing="conditional",
        frequency="daily",
        legal_basis=LEGAL_BASIS,
        fetch=fetch_tax_registration,
        person_ids=lambda subject_key, fields=None: [],
    )
)

# --- deed-tax ------------------------------------------------------------------------------------

PAYMENT_COLUMNS = {
    "receipt_number": "receipt_number",
    "payer_name": "payer__name",
    "amount": "amount",
    "paid_on": "paid_on",
    "case_id": "case_id",
}


def _unit_pk(subject_key):
    return PropertyUnit.objects.filter(unit_number=key(subject_key)).values_list("pk", flat=True).first()


def fetch_deed_tax(subject_key, fields):
    """Deed tax paid for the unit (newest first), each with the case it served: "paid for case Y?"."""
    unit = _unit_pk(subject_key)
    if unit is None:
        return None
    rows = list(
        DeedTaxPayment.objects.filter(unit_id=unit).order_by("-paid_on").values(*PAYMENT_COLUMNS.values())
    )
    result = {}
    if "paid" in fields:
        result["paid"] = bool(rows)
    if "payments" in fields:
        result["payments"] = [
            {name: plain(row[column]) for name, column in PAYMENT_COLUMNS.items()} for row in rows
        ]
    return result


def deed_tax_person_ids(subject_key, fields=None):
    """The payers of the unit's deed tax."""
    unit = _unit_pk(subject_key)
    if unit is None:
        return []
    return list(dict.fromkeys(DeedTaxPayment.objects.filter(unit_id=unit).values_list("payer_id", flat=True)))


register_resource(
    ResourceSpec(
        code="deed-tax",
        owner=OWNER,
        name_zh="契税完税信息",
        name_en="Deed tax paid for a unit",
        subject="property_unit",
        fields={
            "paid": Field("boolean", "internal", "是否已缴纳契税", "Deed tax paid"),
            "payments": Field(
                "list",
                "personal",
                "缴纳记录（完税凭证号、纳税人、金额、缴纳日期、办件）",
                "Payments (tax receipt, taxpayer, amount, date, case)",
            ),
        },
        sharing="conditional",
        frequency="realtime",
        legal_basis=LEGAL_BASIS,
        fetch=fetch_deed_tax,
        person_ids=deed_tax_person_ids,
    )
)

# --- tax-payments (not shared) -------------------------------------------------------------------


def fetch_tax_payments(subject_key, fields):
    """A person's deed tax payments and their total: kept by the tax service, not shared."""
    pk = person_id(subject_key)
    if pk is None:
        return None
    rows = list(
        DeedTaxPayment.objects.filter(payer_id=pk)
        .order_by("-paid_on")
        .values("unit__unit_number", "amount", "paid_on", "receipt_number")
    )
    result = {}
    if "total_amount" in fields:
        result["total_amount"] = plain(sum((row["amount"] for row in rows), start=0))
    if "payments" in fields:
        result["payments"] = [
            {
                "unit_number": row["unit__unit_number"],
                "amount": plain(row["amount"]),
                "paid_on": plain(row["paid_on"]),
                "receipt_number": row["receipt_number"],
            }
            for row in rows
        ]
    return result


register_resource(
    ResourceSpec(
        code="tax-payments",
        owner=OWNER,
        name_zh="个人纳税明细",
        name_en="A person's tax payments",
        subject="person",
        fields={
            "total_amount": Field("number", "sensitive", "缴纳总额", "Total paid"),
            "payments": Field("list", "sensitive", "缴纳明细", "Payments"),
        },
        sharing="not_shared",
        frequency="daily",
        legal_basis="《中华人民共和国税收征收管理法》第八条（纳税人涉税信息保密）",
        fetch=fetch_tax_payments,
    )
)
