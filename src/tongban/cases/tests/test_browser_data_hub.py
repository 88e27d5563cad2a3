"""Data runs, not people, in Chromium: in the demo city a mother applies for the newborn bundle with a prefilled
form and no upload, the departments work it, she finds the licences in her wallet, verifies one through its QR
link (and an altered copy reads as altered), and sees who used her data.

Needs Debian's Chromium (skips without it, fails without it under ``TONGBAN_STRICT_SERVICES``).
"""

import re

import pytest

from tongban.cases.models import Case
from tongban.catalog.selectors import bundle_get
from tongban.demo.catalog import NEWBORN_BUNDLE
from tongban.demo.reference import DEMO_PASSWORD
from tongban.demo.sample import sample_form_data
from tongban.identity.models import User
from tongban.licences.models import Licence
from tongban.licences.services import licence_token

from .test_browser_newborn import _approve, _context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _staff_page(browser, live_server, username):
    from django.test import Client

    from tongban.identity.tests.fixtures import login_with_second_factor

    client = login_with_second_factor(Client(), User.objects.get(username=username))
    return _context(browser, live_server, session=client.cookies["sessionid"].value).new_page()


def test_a_mother_applies_with_no_paper_and_verifies_her_licences(browser, live_server, demo_city_seeder):
    from playwright.sync_api import expect

    demo_city_seeder(people=60, organisations=4)

    citizen = _context(browser, live_server).new_page()
    citizen.goto(live_server.url + "/accounts/login/")
    citizen.locator("input[name=username]").fill("chen.jing")
    citizen.locator("input[name=password]").fill(DEMO_PASSWORD)
    citizen.locator("main form button[type=submit]").click()
    citizen.goto(live_server.url + "/cases/apply/bundle/newborn/")

    # Prefilled from the registries, each with its source: she checks and completes the baby's details only.
    expect(citizen.locator('[name="father_name"]')).to_have_value("李明")
    expect(citizen.get_by_text("please check it").first).to_be_visible()
    citizen.locator('[name="baby_name"]').fill("李安心")
    citizen.locator('[name="birth_date"]').fill("2026-11-20")
    # The rest of what the registries cannot know (the baby's details): plausible answers to the empty fields.
    bundle = bundle_get(NEWBORN_BUNDLE)
    for name, value in sample_form_data(bundle.form_schema).items():
        field = citizen.locator(f'[name="{name}"]')
        kind = field.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if kind == "input:checkbox" or field.input_value():
            continue
        if kind.startswith("select"):
            field.select_option(str(value))
        else:
            field.fill(str(value))
    citizen.get_by_role("button", name="Submit application").click()  # no file chosen
    expect(citizen.get_by_text("Your application was submitted")).to_be_visible()
    number = re.search(r"/cases/(TB\d+)/", citizen.url).group(1)
    case = Case.objects.get(number=number)
    assert case.materials_uploaded == 0

    for step, username in (
        ("birth_certificate", "handler.health"),
        ("household_registration", "handler.ps.huangpu"),
        ("social_security_card", "handler.hrss"),
        ("medical_insurance", "handler.mi"),
    ):
        _approve(_staff_page(browser, live_server, username), live_server, case, step)

    # Her wallet holds the birth medical certificate; its QR link verifies it; one changed byte does not.
    citizen.goto(live_server.url + "/licences/")
    certificate = Licence.objects.get(case_id=case.pk, type__code="birth-medical-certificate")
    expect(citizen.get_by_text(certificate.number).first).to_be_visible()
    token = licence_token(certificate)
    citizen.goto(f"{live_server.url}/licences/verify/?t={token}")
    expect(citizen.locator("[data-status]")).to_have_attribute("data-status", "valid")
    assert "李安心" not in citizen.content()  # the public page shows no personal field
    altered = token[:20] + ("B" if token[20] != "B" else "C") + token[21:]
    citizen.goto(f"{live_server.url}/licences/verify/?t={altered}")
    expect(citizen.locator("[data-status]")).to_have_attribute("data-status", "altered")

    # Who used her data: the checks and the prefill, by department and purpose, with the case number.
    citizen.goto(live_server.url + "/data/uses/")
    expect(citizen.locator("main")).to_contain_text(number)
    expect(citizen.locator("main")).to_contain_text(
        "Checking an application's evidence"
    )  # 办件受理核验, in English
