"""li.ming, in Chromium and in Chinese, meets the checks at submission on the demo city: a mother's resident ID with
a wrong check digit, then an unrelated woman named as the mother, each refused on its field with nothing written;
then he says the parents are not married and is asked for the parentage document instead.

Screenshots go to ``var/screenshots/refusal-*.png``. Needs Debian's Chromium (skips without it, fails without it
under ``TONGBAN_STRICT_SERVICES``).
"""

import pytest
from django.conf import settings

from tongban.cases.models import Case
from tongban.demo.reference import DEMO_PASSWORD
from tongban.exchange.models import DataUse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BAD_CHECK_DIGIT = "310101199209034866"  # the first 17 digits give 5, not 6
UNRELATED_WOMAN = "310108195503089927"  # born 1955: nobody's spouse in the demo city


def _shot(page, name):
    folder = settings.VAR_DIR / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"refusal-{name}.png"), full_page=True)


def test_li_ming_is_told_on_the_field_what_is_wrong_and_nothing_is_written(
    browser, live_server, demo_city_seeder
):
    from playwright.sync_api import expect

    demo_city_seeder(people=60, organisations=4)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.locator("input[name=username]").fill("li.ming")
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    cases_before = Case.objects.count()

    # 1. The mother's resident ID with a wrong check digit: refused on the field, by the server, in Chinese.
    page.goto(f"{live_server.url}/cases/apply/bundle/newborn/")
    page.locator('[name="baby_name"]').fill("李乐乐")
    page.locator('[name="birth_date"]').fill("2026-11-20")
    page.locator('[name="baby_sex"]').select_option(index=1)
    page.locator('[name="birth_hospital"]').fill("上海市第一妇婴保健院")
    page.locator('[name="mother_name"]').fill("陈静")
    page.locator('[name="household_with"]').select_option(index=1)
    page.locator('[name="mailing_address"]').fill("上海市黄浦区复兴中路714弄30号505室")
    mother = page.locator('[name="mother_resident_id"]')
    mother.evaluate(
        "field => field.removeAttribute('pattern')"
    )  # past the browser's own check, as a script would
    mother.fill(BAD_CHECK_DIGIT)
    page.locator("form#apply-form button[type=submit], main form button[type=submit]").last.click()
    _shot(page, "1-bad-check-digit")
    expect(page.locator(".invalid-feedback", has_text="校验码")).to_be_visible()  # at the field
    expect(page.locator('[role="alert"], .alert-danger').first).to_contain_text(
        "母亲公民身份号码"
    )  # the summary
    assert Case.objects.count() == cases_before

    # 2. An unrelated woman named as the mother: the marriage register is consulted and says no.
    page.locator('[name="mother_resident_id"]').fill(UNRELATED_WOMAN)
    page.locator("main form button[type=submit]").last.click()
    _shot(page, "2-not-the-spouse")
    expect(page.locator("main")).to_contain_text("婚姻登记")
    assert Case.objects.count() == cases_before
    refused = DataUse.objects.filter(resource_code="marriage-status", outcome="submission_refused")
    assert refused.exists() and not refused.exclude(case_id=None).exists()

    # 3. He says the parents are not married: the register is not compared, the parentage document is asked for.
    page.locator('[name="parents_relation"]').select_option("unmarried")
    page.locator("main form button[type=submit]").last.click()
    _shot(page, "3-document-asked")
    expect(page.locator("main")).to_contain_text("亲子")
    assert Case.objects.count() == cases_before
