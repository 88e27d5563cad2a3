"""A small newborn bundle with its four departments' handlers, for the workflow, case and higher apps' tests.

A pytest plugin (``src/tongban/conftest.py`` registers it): tests ask for ``newborn``, ``handlers`` or
``parent`` by name and import only the helpers (``newborn_form``, ``newborn_files``, ``pdf_upload`` ...). It
needs catalog and workflow (not cases), so it lives with workflow, the lowest app that can build it.
"""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tongban.catalog import services as catalog
from tongban.catalog.models import PublicationStatus
from tongban.core.audit import SYSTEM
from tongban.core.ids import make_resident_id
from tongban.identity import services as identity
from tongban.identity.reference import branch_code
from tongban.identity.selectors import department_get
from tongban.workflow.services import definitions_ensure_builtin, forget_department_cache

MOTHER_ID = make_resident_id("310101", datetime.date(1992, 9, 3), 124)
FATHER_ID = make_resident_id("310101", datetime.date(1990, 5, 12), 111)

NEWBORN_ITEMS = (
    ("310100-health-birth-cert", "出生医学证明签发", "health", "birth-medical-certificate"),
    ("310100-ps-birth-household", "出生户口登记", "public-security", ""),
    ("310100-mi-resident-enrol", "城乡居民基本医疗保险参保登记", "medical-insurance", ""),
    ("310100-hrss-ss-card", "社会保障卡申领", "hrss", ""),
)


def pdf_upload(name="document.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4\n% test\n", content_type="application/pdf")


def _schema(*names):
    properties = {
        "baby_name": {"type": "string", "title": "新生儿姓名", "minLength": 1, "maxLength": 20},
        "birth_date": {"type": "string", "title": "出生日期", "format": "date"},
        "mother_resident_id": {"type": "string", "title": "母亲身份证号", "pattern": "^[0-9]{17}[0-9X]$"},
        "hospital": {"type": "string", "title": "出生医院"},
    }
    chosen = {n: properties[n] for n in names}
    return {"type": "object", "properties": chosen, "required": list(names)}


@pytest.fixture
def newborn(city):
    """A published newborn bundle of four items, the shipped process definitions, and one handler per lane."""
    forget_department_cache()
    items = []
    for position, (code, name, department, licence) in enumerate(NEWBORN_ITEMS):
        fields = ("baby_name", "birth_date", "mother_resident_id") if position == 0 else ("baby_name",)
        if position == 0:
            fields = (*fields, "hospital")
        materials = []
        if position == 1:
            materials = [
                {"code": "parents-marriage-certificate", "name": "父母结婚证", "necessity": "required"}
            ]
        items.append(
            catalog.item_create(
                actor=SYSTEM,
                code=code,
                basic_code=code,
                name_zh=name,
                name_en=name,
                item_type="confirmation",
                legal_basis="《母婴保健法》",
                department=department_get(department),
                legal_limit_days=20,
                promised_limit_days=5,
                handling_modes=["online", "window"],
                result_type="licence" if licence else "record",
                result_name=name,
                result_licence_type=licence,
                form_schema=_schema(*fields),
                materials=materials,
                status=PublicationStatus.PUBLISHED,
            )
        )
    bundle = catalog.bundle_create(
        actor=SYSTEM,
        code="newborn",
        name_zh="出生一件事",
        name_en="Newborn",
        lead_department=department_get("health"),
        legal_limit_days=20,
        promised_limit_days=5,
        process_key="newborn",
        items=items,
        status=PublicationStatus.PUBLISHED,
    )
    definitions_ensure_builtin(actor=SYSTEM)
    return bundle


def _staff(username, department_code, roles):
    user = identity.user_create(actor=SYSTEM, username=username, password="x-pass-2026", check_password=False)
    identity.staff_create(actor=SYSTEM, user=user, department=department_get(department_code), roles=roles)
    return user


@pytest.fixture
def handlers(newborn):
    """One handler for each lane of the newborn process; the household lane is the Huangpu branch."""
    return {
        "health": _staff("h.health", "health", ["dept_handler"]),
        "public-security": _staff("h.ps.huangpu", branch_code("public-security", "310101"), ["dept_handler"]),
        "medical-insurance": _staff("h.mi", "medical-insurance", ["dept_handler"]),
        "hrss": _staff("h.hrss", "hrss", ["dept_handler"]),
    }


@pytest.fixture
def parent(city):
    """陈静, a Huangpu resident with an account: the applicant for her baby."""
    user = identity.user_create(
        actor=SYSTEM, username="chen.jing", password="x-pass-2026", check_password=False
    )
    identity.person_create(actor=SYSTEM, resident_id=MOTHER_ID, name="陈静", user=user)  # household: Huangpu
    return user


def newborn_form(**overrides):
    data = {
        "baby_name": "李小明",
        "birth_date": "2026-11-20",
        "mother_resident_id": MOTHER_ID,
        "hospital": "上海市第一妇婴保健院",
    }
    data.update(overrides)
    return data


def newborn_files():
    return {"parents-marriage-certificate": pdf_upload("marriage.pdf")}


__all__ = ["handlers", "newborn", "parent"]
