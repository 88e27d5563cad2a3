"""Hidden champions (隐形冠军) for the enterprise service office: enterprises growing fast in head-count and tax,
with their qualifications, ranked within their district and industry, with the quarters as evidence.

The figures are the enterprises' latest ``enterprise_profile`` facts, which proactive services read through the
data hub (grant, purpose 惠企政策, data-use records) in the daily sweep and on register changes; nothing here
reads a registry's tables. The legal representative's name is personal data: shown to staff who may look up
persons (``person.view``), masked for everyone else. Every view and export is audited.
"""

from __future__ import annotations

import io
from collections import defaultdict

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tongban.core.audit import audit_record
from tongban.core.masking import mask_name
from tongban.identity.permissions import has_permission, require_permission
from tongban.identity.selectors import admin_unit_list
from tongban.proactive.enterprise import QUALIFICATION_LABELS

# GB/T 4754-2017 sections the demo's enterprises use (the code's first letter).
SECTIONS = {
    "A": _("agriculture, forestry and fishing"),
    "C": _("manufacturing"),
    "E": _("construction"),
    "F": _("wholesale and retail"),
    "G": _("transport and storage"),
    "H": _("hotels and catering"),
    "I": _("information technology and software"),
    "L": _("leasing and business services"),
    "M": _("research and technical services"),
    "O": _("household and other services"),
}
# What makes a champion: growing in people and in tax, not a shell (a head-count to speak of).
MIN_HEADCOUNT = 10
MIN_GROWTH = 20.0  # % over four quarters, head-count and tax alike
QUALIFICATION_POINTS = 15.0


def _money(value):
    """Ten-thousand yuan to two decimals (sums of floats read from a profile carry artefacts), None kept."""
    return None if value is None else round(float(value), 2)


def district_choices():
    return list(admin_unit_list(level="district"))


def filters_from(query) -> dict:
    district = (query.get("district") or "").strip()[:12]
    section = (query.get("section") or "").strip().upper()[:1]
    return {"district": district, "section": section if section in SECTIONS else ""}


def _score(facts: dict) -> float:
    qualifications = len(facts.get("qualifications") or [])
    return round(
        (facts.get("headcount_growth") or 0.0)
        + (facts.get("tax_growth") or 0.0)
        + QUALIFICATION_POINTS * qualifications,
        1,
    )


def _is_champion(facts: dict) -> bool:
    if (facts.get("headcount") or 0) < MIN_HEADCOUNT:
        return False
    growing = (facts.get("headcount_growth") or 0) >= MIN_GROWTH and (
        facts.get("tax_growth") or 0
    ) >= MIN_GROWTH
    recognised = bool(set(facts.get("qualifications") or []) & {"little_giant", "specialised"})
    return growing or (recognised and (facts.get("tax_growth") or 0) > 0)


def champions_for(actor, *, district: str = "", section: str = "", export: bool = False) -> list[dict]:
    """The ranked champions (with their rank in their district and in their industry section) the actor may see;
    PermissionDenied without ``enterprise.analytics``."""
    from tongban.proactive.selectors import enterprise_profiles_latest

    require_permission(actor, "enterprise.analytics")
    unmasked = has_permission(actor, "person.view")
    rows = []
    for event in enterprise_profiles_latest():
        facts, organisation = event.data or {}, event.organisation
        if not _is_champion(facts):
            continue
        unit = organisation.district
        code = facts.get("industry_code") or ""
        representative = (
            organisation.legal_representative.name if organisation.legal_representative_id else ""
        )
        rows.append(
            {
                "name": organisation.name,
                "credit_code": organisation.credit_code,
                "district_code": unit.code if unit else "",
                "district": unit.name if unit else "",
                "industry_code": code,
                "section": code[:1],
                "section_label": str(SECTIONS.get(code[:1], code[:1] or "-")),
                "headcount": int(facts.get("headcount") or 0),
                "headcount_growth": facts.get("headcount_growth"),
                "tax_4q": _money(facts.get("tax_4q")),
                "tax_growth": facts.get("tax_growth"),
                "revenue": _money(facts.get("revenue")),
                "qualifications": [
                    str(QUALIFICATION_LABELS.get(q, q)) for q in facts.get("qualifications") or []
                ],
                "representative": representative if unmasked else mask_name(representative),
                "headcount_quarters": [
                    (q["quarter"], q["insured"]) for q in reversed(facts.get("headcount_quarters") or [])
                ],
                "tax_quarters": [
                    (q["quarter"], _money(q["tax_paid"])) for q in reversed(facts.get("tax_quarters") or [])
                ],
                "as_of": event.occurred_on,
                "score": _score(facts),
            }
        )
    rows.sort(key=lambda r: (-r["score"], r["credit_code"]))
    by_district, by_section = defaultdict(int), defaultdict(int)
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
        by_district[row["district_code"]] += 1
        by_section[row["section"]] += 1
        row["rank_district"] = by_district[row["district_code"]]
        row["rank_section"] = by_section[row["section"]]
    if district:
        rows = [r for r in rows if r["district_code"] == district]
    if section:
        rows = [r for r in rows if r["section"] == section]
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="enterprise.champions.exported" if export else "enterprise.champions.viewed",
            subject_type="report",
            subject_id="hidden-champions",
            details={"district": district, "section": section, "rows": len(rows), "masked": not unmasked},
        )
    return rows


def champions_xlsx(rows: list[dict]) -> bytes:
    """The ranked list as an Excel workbook, one row an enterprise, the quarters as evidence columns."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "隐形冠军"
    sheet.append(
        [
            "排名 Rank",
            "区内排名 Rank in district",
            "行业内排名 Rank in industry",
            "企业名称 Name",
            "统一社会信用代码 Credit code",
            "区 District",
            "行业代码 Industry",
            "参保人数 Head-count",
            "人数增长% Head-count growth",
            "近四季纳税（万元）Tax, 4 quarters",
            "纳税增长% Tax growth",
            "资质 Qualifications",
            "法定代表人 Legal representative",
            "参保人数（按季）Head-count by quarter",
            "纳税（按季，万元）Tax by quarter",
            "数据日期 As of",
        ]
    )
    for r in rows:
        sheet.append(
            [
                r["rank"],
                r["rank_district"],
                r["rank_section"],
                r["name"],
                r["credit_code"],
                r["district"],
                r["industry_code"],
                r["headcount"],
                r["headcount_growth"],
                r["tax_4q"],
                r["tax_growth"],
                "、".join(r["qualifications"]),
                r["representative"],
                "; ".join(f"{q}: {n}" for q, n in r["headcount_quarters"]),
                "; ".join(f"{q}: {n}" for q, n in r["tax_quarters"]),
                r["as_of"].isoformat(),
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
