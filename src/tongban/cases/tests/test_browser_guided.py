"""Guided application (好办) in Chromium on a phone, in Chinese: in the demo city li.ming, the father, opens the
newborn bundle's guide, answers four questions one screen at a time, reads his personal guide, finds the form
filled in from the registers and his account (his wife's name and ID, his own details, his phone, the addresses),
types only the baby's details and submits.

Screenshots go to ``var/screenshots/guided-*.png``. Needs Debian's Chromium (skips without it, fails without it
under ``TONGBAN_STRICT_SERVICES``).
"""

import re

import pytest
from django.conf import settings

from tongban.cases.models import Case
from tongban.demo.reference import DEMO_PASSWORD
from tongban.identity.models import Person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name):
    folder = settings.VAR_DIR / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"guided-{name}.png"), full_page=True)


def _empty_inputs(page) -> list[str]:
    """The names of the visible form inputs the applicant still has to fill (text, date, number, select)."""
    return page.locator("form.tb-apply-form").evaluate(
        """form => [...form.querySelectorAll('input, select, textarea')]
            .filter(e => !['hidden', 'file', 'checkbox', 'radio', 'submit'].includes(e.type))
            .filter(e => e.name && !e.value)
            .map(e => e.name)"""
    )


def test_li_ming_applies_for_the_newborn_bundle_through_the_guided_questions(
    browser, live_server, demo_city_seeder
):
    from playwright.sync_api import expect

    demo_city_seeder(people=10, organisations=1)
    father = Person.objects.get(user__username="li.ming")
    mother = Person.objects.get(user__username="chen.jing")

    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/?next=/services/bundles/newborn/")
    page.locator("input[name=username]").fill("li.ming")
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()

    # The bundle's guide page links to the questions, not to a long form.
    page.goto(live_server.url + "/services/bundles/newborn/")
    page.locator('a[href="/cases/guide/bundle/newborn/"]').first.click()

    # One question per screen: father, married, his household, post to the household address.
    for number, answer in enumerate(("father", "yes", "father", "home"), start=1):
        radios = page.locator("form.tb-guide-question input[type=radio]")
        expect(radios.first).to_be_visible()
        if number == 1:
            _shot(page, "1-question")
        page.locator(f'form.tb-guide-question input[type=radio][value="{answer}"]').check()
        page.locator("form.tb-guide-question button[type=submit]").click()

    # His personal guide: what he applies for, what is obtained for him, nothing to upload.
    expect(page.locator("#guide-obtained")).to_be_visible()
    expect(page.locator("main")).to_contain_text("结婚证")
    _shot(page, "2-guide")
    page.locator('a[href*="/cases/apply/bundle/newborn/?"]').click()

    # The form: his wife's name and ID from the marriage register, his own from the population register, his
    # phone from his account; no file input for what a department holds.
    expect(page.locator('[name="mother_name"]')).to_have_value(mother.name)
    expect(page.locator('[name="mother_resident_id"]')).to_have_value(mother.resident_id)
    expect(page.locator('[name="father_resident_id"]')).to_have_value(father.resident_id)
    expect(page.locator('[name="applicant_phone"]')).to_have_value(father.phone)
    expect(page.locator('input[type=file][name="materials.marriage-certificate"]')).to_have_count(0)
    expect(page.locator(".tb-obtained li").first).to_be_visible()
    left = _empty_inputs(page)
    assert len(left) <= 6, left
    _shot(page, "3-form")

    typed = {"baby_name": "李乐乐", "birth_date": "2026-12-01", "birth_hospital": "上海市第一妇婴保健院"}
    for name, value in typed.items():
        page.locator(f'[name="{name}"]').fill(value)
    page.locator('[name="baby_sex"]').select_option("male")
    page.locator("form.tb-apply-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/cases/TB\d+/$"))
    _shot(page, "4-submitted")
    number = re.search(r"/cases/(TB\d+)/", page.url).group(1)
    case = Case.objects.get(number=number)
    assert case.form_data["mother_name"] == mother.name and case.form_data["household_with"] == "father"
    assert case.materials_uploaded == 0
    assert case.status in (Case.Status.ACCEPTED, Case.Status.IN_PROGRESS)

    # His home shows the case in progress, with its time limit.
    page.goto(live_server.url + "/")
    expect(page.locator("#progress-heading")).to_be_visible()
    expect(page.locator("main")).to_contain_text(number)
    _shot(page, "5-home")
    context.close()
