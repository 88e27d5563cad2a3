"""Helpers for the licences tests: demo types, a birth medical certificate for the citizen, a business licence for
an organisation."""

from tongban.core.audit import SYSTEM
from tongban.identity.selectors import person_for
from tongban.licences import services

BIRTH_DATA = {
    "baby_name": "李小明",
    "baby_sex": "男",
    "birth_date": "2026-03-01",
    "birth_hospital": "上海市第一妇婴保健院",
    "mother_name": "王丽",
    "mother_resident_id": "310104199005171234",
    "father_name": "李明",
}


def issue_birth_certificate(user, *, case_id=None, department="health", data=None):
    services.licence_types_demo_ensure()
    return services.licence_issue(
        actor=SYSTEM,
        type="birth-medical-certificate",
        data=dict(BIRTH_DATA if data is None else data),
        department=department,
        holder_person=person_for(user),
        case_id=case_id,
    )


def business_licence_data(organisation) -> dict:
    return {
        "business_address": "上海市徐汇区",
        "business_scope": "软件开发",
        "company_name": organisation.name,
    }


def issue_business_licence(organisation):
    services.licence_types_demo_ensure()
    return services.licence_issue(
        actor=SYSTEM,
        type="business-licence",
        data=business_licence_data(organisation),
        department="market-regulation",
        holder_organisation=organisation,
    )
