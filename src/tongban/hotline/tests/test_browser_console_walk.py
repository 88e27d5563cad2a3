"""Issue 12's walk of the hotline console in Chromium with the real routing model, as an operator and a dispatcher:
a complaint's suggestion shows a department, its top three and a topic, and no guide of another subject; a second
call about the same place is proposed as a duplicate; a consultation finds the guides of its subject; the
dispatcher's queue shows the classifier's top three for a ticket left to her, and the ticket its topic.

Screenshots go to ``$TONGBAN_WALK_DIR`` when it is set (``var/walk12/`` for the issue's walk); none otherwise.
Needs Debian's Chromium (skips without it, fails without it under ``TONGBAN_STRICT_SERVICES``).
"""

import os
import re
from pathlib import Path

import pytest

from tongban.cases.tests.test_browser_newborn import _context
from tongban.core.audit import SYSTEM
from tongban.hotline.models import RoutingCorrection, Ticket
from tongban.identity import services as identity
from tongban.identity.selectors import department_get

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BARBECUE = "复兴中路714弄那家饭店每天夜里烧烤 烟全部飘到弄堂里 窗都不敢开 吵到两点 烦死了"
BARBECUE_AGAIN = "我是住在复兴中路714弄的 楼下饭店天天晚上烧烤 油烟熏得衣服都不能晒 还吵得睡不着"
BIRTH = "我老婆刚生了宝宝 出生医学证明在哪里领 户口也要报"


def _shot(page, name):
    folder = os.environ.get("TONGBAN_WALK_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _staff(username, department, roles):
    user = identity.user_create(actor=SYSTEM, username=username, password=None, check_password=False)
    identity.staff_create(actor=SYSTEM, user=user, department=department_get(department), roles=roles)
    return user


def _page(chromium, live_server, user):
    from django.test import Client

    from tongban.identity.tests.fixtures import login_with_second_factor

    client = login_with_second_factor(Client(), user)
    return _context(chromium, live_server, session=client.cookies["sessionid"].value).new_page()


def _type(page, live_server, text, *, kind="complaint"):
    from playwright.sync_api import expect

    page.goto(live_server.url + "/workbench/hotline/")
    page.select_option("#ticket-district", "310101")
    page.select_option("#ticket-type", kind)
    page.locator("#ticket-address").fill("复兴中路714弄")
    page.locator("#ticket-text").fill(text)
    page.locator("#ticket-text").press("End")  # a keyup: htmx asks for the suggestion
    expect(page.locator("#suggestion")).to_contain_text("Suggested department")
    return page.locator("#suggestion")


def _take(page):
    from playwright.sync_api import expect

    page.get_by_role("button", name="Take the request").click()
    expect(page.locator(".alert-success")).to_contain_text("taken")
    return re.search(r"\d{18}", page.locator(".alert-success").inner_text()).group(0)


def test_the_console_reads_right_for_an_operator_and_a_dispatcher(browser, live_server):
    from playwright.sync_api import expect

    from tongban.demo.catalog import catalog_demo_ensure
    from tongban.hotline.routing import classify

    classify(["热身"])  # the model and jieba loaded before the first keystroke (see test_browser_loop)
    identity.departments_ensure(actor=SYSTEM)
    catalog_demo_ensure()
    operator = _page(browser, live_server, _staff("op", "big-data-center", ["hotline_operator"]))
    dispatcher = _page(browser, live_server, _staff("disp", "big-data-center", ["dispatcher"]))

    # A complaint: a department, its top three with their probabilities, a topic; no birth or property guide.
    suggestion = _type(operator, live_server, BARBECUE)
    text = suggestion.inner_text()
    assert len(re.findall(r"\d+(?:\.\d+)?\s?%", text)) >= 4, text  # the confidence and the top three
    expect(suggestion.locator(".badge")).not_to_have_text("")
    assert "出生" not in text and "不动产" not in text, text
    _shot(operator, "1-complaint-suggestion")
    first = _take(operator)

    # The same place again: proposed as a duplicate while the operator types, and after.
    suggestion = _type(operator, live_server, BARBECUE_AGAIN)
    expect(suggestion).to_contain_text("Open tickets about the same problem here")
    expect(suggestion).to_contain_text(first)
    _shot(operator, "2-duplicate-suggestion")
    second = _take(operator)
    ticket = Ticket.objects.get(number=second)
    assert ticket.duplicate_of.number == first and ticket.status == Ticket.Status.DISPATCHING
    assert len(ticket.suggested_top3) == 3 and ticket.suggested_top3[0][0] == ticket.suggested_department

    # A consultation finds the guides of its subject.
    suggestion = _type(operator, live_server, BIRTH, kind="consult")
    expect(suggestion).to_contain_text("出生")
    _shot(operator, "3-consultation-guides")

    # The dispatcher: the duplicate waits with the classifier's top three and its topic.
    dispatcher.goto(live_server.url + "/workbench/hotline/dispatch/")
    row = dispatcher.locator("tr", has_text=second)
    expect(row).to_contain_text("Possible duplicate")
    expect(row.locator("ol li")).to_have_count(3)
    expect(row.locator("optgroup").first).to_have_attribute("label", "Suggested")
    assert row.locator("select").input_value() == ticket.suggested_department
    _shot(dispatcher, "4-dispatch-queue")
    dispatcher.get_by_role("link", name=second).click()
    expect(dispatcher.locator("dl")).to_contain_text("Topic")
    expect(dispatcher.locator("#duplicate-heading")).to_contain_text("Possible duplicate")
    expect(dispatcher.locator("dl ol li")).to_have_count(3)  # the three best, on the ticket's page too
    _shot(dispatcher, "5-ticket")

    # Not a duplicate after all, and the classifier's second guess is right: back to the queue, dispatched there.
    dispatcher.get_by_role("button", name="Not a duplicate").click()
    dispatcher.get_by_role("link", name="Dispatch it from the queue").click()
    row = dispatcher.locator("tr", has_text=second)
    choice = ticket.suggested_top3[1][0]
    row.locator("select").select_option(choice)
    row.get_by_role("button", name="Dispatch").click()
    expect(dispatcher.locator(".alert-success")).to_contain_text(second)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.DISPATCHED
    assert ticket.department.code in (choice, f"{choice}-{ticket.district.code}")  # or its district's office
    # told where it went; the correction is kept for the model's next training
    expect(dispatcher.locator(".alert-success")).to_contain_text(ticket.department.name_zh)
    assert RoutingCorrection.objects.filter(ticket=ticket, department=choice).exists()
    _shot(dispatcher, "6-dispatched-to-the-second-suggestion")
