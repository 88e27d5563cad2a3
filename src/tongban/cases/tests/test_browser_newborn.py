"""The newborn bundle end to end in Chromium: a mother applies online, four departments work the case (the
household registration first asks for a supplement), and she sees the result package and rates the case.

Needs Debian's Chromium (skips without it, fails without it under ``TONGBAN_STRICT_SERVICES``).
"""

import re

import pytest
from django.test import Client

from tongban.cases.models import Case
from tongban.catalog.selectors import bundle_get
from tongban.catalog.services import required_materials
from tongban.core.audit import SYSTEM
from tongban.demo.catalog import NEWBORN_BUNDLE, catalog_demo_ensure
from tongban.demo.sample import sample_form_data
from tongban.evaluation.models import Rating
from tongban.identity.models import Person
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.workflow.models import Task
from tongban.workflow.services import definitions_ensure_builtin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PARENT_PASSWORD = "x-pass-2026"  # workflow/tests/fixtures.py


def _context(browser, live_server, *, session=None):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    cookies = [{"name": "django_language", "value": "en", "url": live_server.url}]
    if session:
        cookies.append({"name": "sessionid", "value": session, "url": live_server.url})
    context.add_cookies(cookies)
    context.set_default_timeout(15_000)
    return context


def _staff_page(browser, live_server, user):
    client = login_with_second_factor(Client(), user)
    return _context(browser, live_server, session=client.cookies["sessionid"].value).new_page()


def _shot(page, name):
    """A full-page screenshot of an English page of the journey (var/screenshots/newborn-en-*.png, a CI artefact)."""
    from django.conf import settings

    folder = settings.VAR_DIR / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"newborn-en-{name}.png"), full_page=True)


def _open_task(case, step):
    return Task.objects.get(case_id=case.pk, bpmn_id=step, state__in=Task.OPEN_STATES)


def _approve(page, live_server, case, step):
    from playwright.sync_api import expect

    task = _open_task(case, step)
    page.goto(f"{live_server.url}/workbench/tasks/{task.pk}/")
    page.locator("#approve-opinion").fill("材料齐全，同意。")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator("body")).not_to_contain_text("Server Error")
    task.refresh_from_db()
    assert task.state == Task.State.COMPLETED, step


def test_a_mother_applies_for_the_newborn_bundle_and_rates_the_result(browser, live_server, parent, handlers):
    from playwright.sync_api import expect

    catalog_demo_ensure(actor=SYSTEM)
    definitions_ensure_builtin(actor=SYSTEM)
    bundle = bundle_get(NEWBORN_BUNDLE)
    mother = Person.objects.get(user=parent)

    # The mother signs in and finds the bundle in the catalogue.
    citizen = _context(browser, live_server).new_page()
    citizen.goto(live_server.url + "/accounts/login/")
    citizen.locator("input[name=username]").fill(parent.username)
    citizen.locator("input[name=password]").fill(PARENT_PASSWORD)
    citizen.locator("main form button[type=submit]").click()
    citizen.goto(live_server.url + "/services/?q=出生")
    citizen.get_by_role("link", name=re.compile(bundle.name_en or bundle.name_zh)).first.click()
    _shot(citizen, "1-bundle")
    citizen.get_by_role("link", name="Apply").first.click()
    # Apply leads to the guided questions (see test_browser_guided.py); this journey takes the plain form.
    expect(citizen).to_have_url(re.compile(r"/cases/guide/bundle/newborn/$"))
    citizen.goto(live_server.url + "/cases/apply/bundle/newborn/")

    # She fills in the one merged form and uploads what is asked.
    form = sample_form_data(bundle.form_schema, person=mother)
    form.update({"baby_name": "李安安", "mother_resident_id": mother.resident_id})
    for name, value in form.items():
        field = citizen.locator(f'[name="{name}"]')
        kind = field.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if kind == "input:checkbox":
            if value:
                field.check()
        elif kind.startswith("select"):
            field.select_option(str(value))
        else:
            field.fill(str(value))

    def upload_what_is_asked():
        for material in required_materials(bundle, form):
            selector = f'[name="materials.{material.code}"]'
            if citizen.locator(selector).count():
                citizen.set_input_files(
                    selector,
                    files=[{"name": f"{material.code}.pdf", "mimeType": "application/pdf", "buffer": PDF}],
                )

    upload_what_is_asked()
    _shot(citizen, "2-form")
    citizen.get_by_role("button", name="Submit application").click()
    if "/cases/apply/" in citizen.url:
        # This small city grants health no reads of the registers and has no household for her: what the
        # platform could not obtain comes back as an upload beside its reason, and she uploads it.
        upload_what_is_asked()
        citizen.get_by_role("button", name="Submit application").click()
    expect(citizen.get_by_text("Your application was submitted")).to_be_visible()
    number = re.search(r"/cases/(TB\d+)/", citizen.url).group(1)
    case = Case.objects.get(number=number)
    assert case.status == Case.Status.ACCEPTED

    # Health issues the birth medical certificate.
    _approve(_staff_page(browser, live_server, handlers["health"]), live_server, case, "birth_certificate")

    # The Huangpu public-security branch asks for a correction, all at once.
    police = _staff_page(browser, live_server, handlers["public-security"])
    task = _open_task(case, "household_registration")
    police.goto(f"{live_server.url}/workbench/tasks/{task.pk}/")
    _shot(police, "3-task")
    police.get_by_text("Request a supplement (one complete list)").click()
    police.locator("#sup-f-baby_name").check()
    police.locator("#sup-fr-baby_name").fill("与出生医学证明不一致")
    police.get_by_role("button", name="Request the supplement").click()
    case.refresh_from_db()
    assert case.status == Case.Status.SUPPLEMENT

    # The mother answers it; the clock runs again.
    citizen.goto(f"{live_server.url}/cases/{number}/supplement/")
    expect(citizen.get_by_test_id("supplement-due")).to_contain_text("Please answer by")
    _shot(citizen, "4-supplement")
    citizen.locator('[name="baby_name"]').fill("李晓安")
    citizen.get_by_role("button", name="Send the supplement").click()
    expect(citizen.get_by_text("the supplement was sent")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Case.Status.RESUBMITTED

    _approve(police, live_server, case, "household_registration")
    _approve(_staff_page(browser, live_server, handlers["hrss"]), live_server, case, "social_security_card")
    _approve(
        _staff_page(browser, live_server, handlers["medical-insurance"]),
        live_server,
        case,
        "medical_insurance",
    )

    # The mother sees the result package and rates the case.
    citizen.goto(f"{live_server.url}/cases/{number}/")
    expect(citizen.get_by_role("heading", name="Result package")).to_be_visible()
    _shot(citizen, "5-results")
    for link in bundle.bundle_items.select_related("item"):
        expect(citizen.locator("main")).to_contain_text(link.item.result_name or link.item.name_zh)
    citizen.get_by_role("link", name="Rate this case").click()
    for radio in citizen.locator('input[type=radio][value="5"]').all():
        radio.check()
    citizen.get_by_role("button", name="Submit my rating").click()
    expect(citizen.get_by_text("Thank you")).to_be_visible()
    assert Rating.objects.get(case_id=case.pk).level == 5
