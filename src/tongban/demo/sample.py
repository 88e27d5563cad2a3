"""Plausible answers to a service's form, for the demo scenarios and the benchmark (never for real cases)."""

from __future__ import annotations

import datetime as dt

from tongban.core import calendar
from tongban.core.ids import make_credit_code

# Values for fields whose rule is a pattern, by the field's name (or its ending).
_BY_NAME = {
    "applicant_phone": "13812345678",
    "birth_time": "08:30",
    "property_unit": "310101001001GB00001F00010001",
    "bank_account": "6222021001112223334",
}


# Plausible words for free-text fields, by the field's name (a demo showing "示例" looks unfinished).
_TEXT_BY_NAME = {
    "birth_hospital": "上海市第一妇婴保健院",
    "property_certificate_number": "沪(2026)黄浦区不动产权第000123号",
    "property_address": "上海市黄浦区南京东路街道福州路318弄5号801室",
    "contract_number": "HT2026-000123",
    "company_name": "上海通办示范科技有限公司",
    "business_address": "上海市浦东新区张江路88号3幢201室",
    "business_scope": "软件开发；信息技术咨询服务",
    "employer_name": "上海通办示范科技有限公司",
    "bank_name": "中国工商银行上海市分行",
    "project_name": "黄浦区老旧小区加装电梯工程",
    "project_address": "上海市黄浦区淮海中路街道顺昌路100号",
    "venue_name": "黄浦区文化馆",
    "residence_address": "上海市黄浦区南京东路街道福州路318弄5号801室",
}
# People named in a form other than the applicant (whose own name comes from the person applying).
_NAMES = {
    "applicant_name": "李明",
    "baby_name": "李安安",
    "mother_name": "陈静",
    "father_name": "李明",
    "seller_name": "王建国",
    "buyer_name": "李明",
    "child_name": "李小雨",
    "legal_representative": "张伟",
    "spouse_name": "陈静",
}
_ADDRESS = "上海市黄浦区南京东路街道福州路318弄5号801室"


def _person_address(person) -> str:
    """The person's registered household address, or a plausible one when there is none."""
    household = getattr(person, "household", None) if person is not None else None
    return getattr(household, "address", "") or _ADDRESS


def sample_value(name: str, rules: dict, *, person=None, today: dt.date | None = None):
    today = today or calendar.today()
    if "enum" in rules:
        return rules["enum"][0]
    kind = rules.get("type")
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        low = rules.get("minimum", rules.get("exclusiveMinimum", 0) + 1)
        return int(max(low, min(rules.get("maximum", 3200), 3200)))
    if name in _BY_NAME:
        return _BY_NAME[name]
    if name.endswith("resident_id"):
        return person.resident_id if person is not None else "310101199005121115"
    if name.endswith("credit_code"):
        return make_credit_code("310115", "MA1G7K3X")
    if name.endswith("phone"):
        return "13812345678"
    if rules.get("format") == "date":
        return (today - dt.timedelta(days=3)).isoformat()
    limit = rules.get("maxLength", 200)
    # With a person, every name is theirs (as the benchmark's forms expect; a scenario names the others).
    if name.endswith("name") and person is not None and name not in _TEXT_BY_NAME:
        return person.name[:limit]
    if name in _NAMES:
        return _NAMES[name][:limit]
    if name in _TEXT_BY_NAME:
        return _TEXT_BY_NAME[name][:limit]
    if name.endswith("address"):
        return _person_address(person)[:limit]
    return "示例"[:limit] or "示"


def sample_form_data(schema: dict, *, person=None, today: dt.date | None = None) -> dict:
    """An answer to every field of ``schema`` that its rules accept (checked by the callers' validation), except
    an optional choice, which is left unchosen (e.g. why the parents are not the applicant and spouse)."""
    required = set((schema or {}).get("required", []))
    return {
        name: sample_value(name, rules, person=person, today=today)
        for name, rules in (schema or {}).get("properties", {}).items()
        if name in required or "enum" not in rules
    }
