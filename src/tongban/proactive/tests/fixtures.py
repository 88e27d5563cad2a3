"""Fixtures of the proactive tests: message templates, a small offerable service item, a service designer."""

import datetime
import itertools

import pytest

from tongban.catalog import services as catalog
from tongban.catalog.models import PublicationStatus
from tongban.core.audit import SYSTEM
from tongban.core.ids import make_resident_id
from tongban.identity import services as identity
from tongban.identity.models import AdminUnit, Person
from tongban.identity.selectors import department_get
from tongban.messaging.demo import message_templates_demo_ensure
from tongban.proactive.services import rule_create
from tongban.workflow.services import definitions_ensure_builtin, forget_department_cache

SCHOOL_ITEM = "test-kindergarten"
_sequence = itertools.count(1)


@pytest.fixture
def messaging_templates(city):
    message_templates_demo_ensure(actor=SYSTEM)


@pytest.fixture
def school_item(city):
    """A published item with a small form and no materials to upload: an offer of it can be accepted at once."""
    forget_department_cache()
    definitions_ensure_builtin(actor=SYSTEM)
    return catalog.item_create(
        actor=SYSTEM,
        code=SCHOOL_ITEM,
        basic_code=SCHOOL_ITEM,
        name_zh="幼儿园入园登记（测试）",
        name_en="Kindergarten (test)",
        item_type="public_service",
        legal_basis="《学前教育法》",
        department=department_get("education"),
        legal_limit_days=20,
        promised_limit_days=15,
        handling_modes=["online"],
        result_type="record",
        result_name="入园登记",
        form_schema={
            "type": "object",
            "properties": {
                "baby_name": {"type": "string", "title": "新生儿姓名", "minLength": 1, "maxLength": 20},
                "birth_date": {"type": "string", "title": "出生日期", "format": "date"},
                "residence_address": {
                    "type": "string",
                    "title": "居住地址",
                    "minLength": 1,
                    "maxLength": 200,
                },
            },
            "required": ["baby_name", "birth_date", "residence_address"],
        },
        materials=[],
        status=PublicationStatus.PUBLISHED,
    )


@pytest.fixture
def designer(city):
    user = identity.user_create(
        actor=SYSTEM, username="designer", password="x-pass-2026", check_password=False
    )
    identity.staff_create(
        actor=SYSTEM, user=user, department=department_get("health"), roles=["service_designer"]
    )
    return user


def person(name, birth_date, *, sex="F", district="310101", seq=None, user=None):
    """A person born on ``birth_date`` (the ID number agrees), registered in ``district``."""
    seq = seq if seq is not None else (124 if sex == "F" else 123) + 2 * next(_sequence)
    resident_id = make_resident_id("310101", birth_date, seq)
    return Person.objects.create(
        resident_id=resident_id,
        name=name,
        sex=sex,
        birth_date=birth_date,
        household_district=AdminUnit.objects.get(code=district) if district else None,
        user=user,
    )


def rule(code="r", **fields):
    values = {
        "name_zh": code,
        "trigger": "age_65",
        "condition": "",
        "action": "notify",
        "topic": "elderly",
        "template": "elderly-allowance-granted",
        "service": "",
    }
    values.update(fields)
    return rule_create(actor=SYSTEM, code=code, **values)


__all__ = ["datetime", "designer", "messaging_templates", "person", "rule", "school_item"]
