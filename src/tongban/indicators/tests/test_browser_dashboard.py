"""The indicators in Chromium: a supervisor reads the dashboard (the five indicators, the rankings of departments and
districts with their charts' data, the maps), downloads every table; a department head sees their department and
is refused another's; a visitor reads the open data. axe-core checks each page (the ``browser`` fixture).

Screenshots go to ``var/screenshots/indicators-*.png``. Needs Debian's Chromium (skips without it, fails without it
under ``TONGBAN_STRICT_SERVICES``).
"""

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client

from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.indicators.compute import catalog_snapshot, days_recompute

from .test_indicators import XUHUI, City, D, _staff, write_day

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PERIOD = f"start={D.isoformat()}&end={D.isoformat()}"


def _shot(page, name):
    folder = settings.VAR_DIR / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"indicators-{name}.png"), full_page=True)


def _page(browser, live_server, user=None, *, language="zh-hans"):
    context = browser.new_context(
        locale="zh-CN" if language.startswith("zh") else "en-US", viewport={"width": 1280, "height": 900}
    )
    cookies = [{"name": "django_language", "value": language, "url": live_server.url}]
    if user is not None:
        session = login_with_second_factor(Client(), user).cookies["sessionid"].value
        cookies.append({"name": "sessionid", "value": session, "url": live_server.url})
    context.add_cookies(cookies)
    context.set_default_timeout(15_000)
    return context.new_page()


def test_a_supervisor_a_department_head_and_a_visitor_read_the_indicators(browser, live_server, city):
    from playwright.sync_api import expect

    small = City()
    write_day(small)
    catalog_snapshot(D)
    days_recompute(D - dt.timedelta(days=3), D)

    # A supervisor, in Chinese: the five indicators first, then the rankings.
    page = _page(browser, live_server, _staff(["supervisor"], small.health))
    page.goto(f"{live_server.url}/workbench/indicators/?{PERIOD}")
    expect(page.get_by_role("heading", name="全国一体化政务服务能力调查的五项指标")).to_be_visible()
    expect(page.locator("[data-indicator]")).to_have_count(5)
    expect(page.locator("[data-indicator='1']")).to_have_text("55.6")  # online service effectiveness
    expect(page.get_by_role("heading", name="各区排名")).to_be_visible()
    expect(page.locator("#f-service option").first).to_have_text("全部事项")
    ranked = page.locator("#chart-districts-ranked")
    expect(ranked).to_have_attribute("role", "img")
    expect(ranked.locator("title")).to_have_text("各区在线服务成效度排名")
    # The chart's data: the districts' five indicators, Xuhui first (the only district with cases).
    details = page.locator("details", has=page.locator("table[data-table=national_districts]"))
    details.locator("summary").click()
    first = details.locator("tbody tr").first
    expect(first.locator("th")).to_have_text("徐汇区")  # the row's heading; then the rank and the five
    expect(first.locator("td").nth(0)).to_have_text("1")
    expect(first.locator("td").nth(1)).to_have_text("55.6")
    expect(page.locator("#chart-departments-effectiveness")).to_be_visible()
    expect(page.locator("svg[id^='chart-map_'] path[data-district='" + XUHUI + "']").first).to_be_attached()
    _shot(page, "1-supervisor-zh")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载全部表格（Excel）").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    # The same page in English reads as English.
    english = _page(browser, live_server, _staff(["supervisor"], small.tax), language="en")
    english.goto(f"{live_server.url}/workbench/indicators/?{PERIOD}")
    expect(english.get_by_role("heading", name="Rankings of districts")).to_be_visible()
    expect(english.locator("#chart-districts-ranked title")).to_have_text(
        "Districts ranked by online service effectiveness"
    )
    _shot(english, "2-supervisor-en")

    # A department head of tax: their department only; health's figures are refused.
    head = _page(browser, live_server, _staff(["dept_head"], small.tax))
    head.goto(f"{live_server.url}/workbench/indicators/?{PERIOD}")
    table = head.locator("table[data-table=national_departments]")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text(small.tax.name_zh)
    _shot(head, "3-department-head")
    response = head.goto(f"{live_server.url}/workbench/indicators/?{PERIOD}&department={small.health.code}")
    assert response.status == 403
    # A filter that is not a department: the field says so (readable on the page grey: axe checks it).
    response = head.goto(f"{live_server.url}/workbench/indicators/?{PERIOD}&department=no-such-department")
    assert response.status == 400
    expect(head.locator(".invalid-feedback")).to_be_visible()
    _shot(head, "4-bad-filter")

    # A visitor: the open data of the month, totals only.
    visitor = _page(browser, live_server)
    visitor.goto(f"{live_server.url}/open-data/?month={D:%Y-%m}")
    expect(visitor.locator("main")).to_contain_text("在线服务成效度")
    expect(visitor.locator("main")).not_to_contain_text(small.person.name)
    _shot(visitor, "5-open-data")
