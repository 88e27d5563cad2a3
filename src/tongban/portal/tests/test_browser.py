"""A citizen signs in through the real login form (a wrong password first) and switches the language, in Chromium.

Needs a Chromium on the machine (Debian's ``chromium`` package; never a downloaded build). Without one the
test skips with the reason, except under ``TONGBAN_STRICT_SERVICES`` (CI), where it fails.
"""

import pytest

from tongban.identity.tests.fixtures import CITIZEN_PASSWORD, CITIZEN_RESIDENT_ID

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def test_citizen_signs_in_and_switches_the_language(page, live_server, citizen):
    from playwright.sync_api import expect

    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_role("heading", level=1)).to_contain_text("政务服务")

    page.get_by_role("link", name="登录", exact=True).first.click()
    # A wrong password: the error summary takes the focus and the title says 错误：first.
    page.locator("input[name=username]").fill(citizen.username)
    page.locator("input[name=password]").fill("not-the-password")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("[data-error-summary]")).to_be_focused()
    assert page.title().startswith("错误：")

    page.locator("input[name=username]").fill(citizen.username)
    page.locator("input[name=password]").fill(CITIZEN_PASSWORD)
    page.locator("main form button[type=submit]").click()

    masked = page.get_by_test_id("masked-resident-id")
    expect(masked).to_have_text("310***********" + CITIZEN_RESIDENT_ID[-4:])
    expect(page.get_by_role("heading", name="我的数据")).to_be_visible()
    assert CITIZEN_RESIDENT_ID not in page.content()

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="My data")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_role("heading", name="我的数据")).to_be_visible()
