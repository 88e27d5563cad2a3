"""The 12345 loop in Chromium: an operator takes a complaint (the department is suggested as she types), a second
caller reports the same site and is proposed as a duplicate, the dispatcher merges it, the district's urban
management takes the ticket in hand and asks for an extension, the supervisor approves it and presses the
department (督办), the department replies, the operator calls both callers back, one is unsatisfied and the ticket
is reopened.

Needs Debian's Chromium (skips without it, fails without it under ``TONGBAN_STRICT_SERVICES``).
"""

import re

import pytest

from tongban.cases.tests.test_browser_newborn import _context
from tongban.core.audit import SYSTEM
from tongban.hotline.models import Ticket
from tongban.identity import services as identity
from tongban.identity.reference import branch_code
from tongban.identity.selectors import department_get

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOISE = "黄浦区南京东路一处工地每天晚上十一点后还在施工，噪音很大，影响休息"
NOISE_AGAIN = "南京东路那个工地半夜还在施工，吵得睡不着，希望管一管"
REPLY = "已到南京东路工地现场检查，责令停止夜间施工，城管队员将连续三晚巡查噪音。"


def _staff(username, department, roles):
    user = identity.user_create(actor=SYSTEM, username=username, password=None, check_password=False)
    identity.staff_create(actor=SYSTEM, user=user, department=department_get(department), roles=roles)
    return user


def _page(chromium, live_server, user):
    from django.test import Client

    from tongban.identity.tests.fixtures import login_with_second_factor

    client = login_with_second_factor(Client(), user)
    return _context(chromium, live_server, session=client.cookies["sessionid"].value).new_page()


def _take(page, live_server, text, *, expect_similar=False):
    from playwright.sync_api import expect

    page.goto(live_server.url + "/workbench/hotline/")
    page.select_option("#ticket-district", "310101")
    page.select_option("#ticket-type", "complaint")
    page.locator("#ticket-address").fill("南京东路")
    page.locator("#ticket-text").fill(text)
    page.locator("#ticket-text").press("End")  # a keyup: htmx asks for the suggestion
    expect(page.locator("#suggestion")).to_contain_text("Suggested department")
    if expect_similar:
        expect(page.locator("#suggestion")).to_contain_text("Open tickets about the same problem here")
    page.get_by_role("button", name="Take the request").click()
    expect(page.locator(".alert-success")).to_contain_text("taken")
    return re.search(r"\d{18}", page.locator(".alert-success").inner_text()).group(0)


def test_a_complaint_travels_the_whole_loop(browser, live_server):
    from playwright.sync_api import expect

    from tongban.hotline.routing import classify

    # Load the model and jieba before the first keystroke (the live server shares this process): a cold start
    # (model file, dictionary) takes 4–5 s on a loaded 2-vCPU machine, as long as the page's wait for the
    # suggestion. The loop is under test here, not the first load.
    classify(["热身"])
    identity.departments_ensure(actor=SYSTEM)
    operator = _page(browser, live_server, _staff("op", "big-data-center", ["hotline_operator"]))
    dispatcher = _page(browser, live_server, _staff("disp", "big-data-center", ["dispatcher"]))
    supervisor = _page(browser, live_server, _staff("sup", "big-data-center", ["supervisor"]))
    handler = _page(
        browser, live_server, _staff("um", branch_code("urban-management", "310101"), ["dept_handler"])
    )

    # 受理 → 派单: the first call goes straight to 黄浦's urban management; the second is proposed as a duplicate.
    first = _take(operator, live_server, NOISE)
    assert Ticket.objects.get(number=first).department.code == branch_code("urban-management", "310101")
    second = _take(operator, live_server, NOISE_AGAIN, expect_similar=True)
    assert Ticket.objects.get(number=second).duplicate_of.number == first

    dispatcher.goto(live_server.url + "/workbench/hotline/dispatch/")
    expect(dispatcher.locator("tr", has_text=second)).to_contain_text("Possible duplicate")
    dispatcher.get_by_role("link", name=second).click()
    dispatcher.get_by_role("button", name="Merge into it").click()
    expect(dispatcher.locator("[data-status]")).to_have_attribute("data-status", "merged")

    # 办理: the department takes it in hand and asks for 15 working days.
    handler.goto(live_server.url + "/workbench/hotline/tickets/")
    handler.get_by_role("link", name=first).click()
    handler.get_by_role("button", name="Take in hand").click()
    expect(handler.locator("[data-status]")).to_have_attribute("data-status", "in_hand")
    handler.locator("#extension-reason").fill("需要与住建部门联合检查工地夜间施工许可")
    handler.get_by_role("button", name="Ask for an extension").click()
    expect(handler.locator("dl")).to_contain_text("Extension requested")

    # 督办: the supervisor approves the extension and presses the department.
    supervisor.goto(live_server.url + f"/workbench/hotline/tickets/{first}/")
    supervisor.get_by_role("button", name="Approve 15 working days").click()
    expect(supervisor.locator("dl")).to_contain_text("Extension approved")
    supervisor.locator("#supervise-note").fill("市民连续投诉，三天内必须拿出措施")
    supervisor.get_by_role("button", name="Supervise").click()
    expect(supervisor.locator("h1")).to_contain_text("Supervised")
    assert Ticket.objects.get(number=first).limit_days == 15

    # 回复: a reply that speaks of the request; both callers get it.
    handler.goto(live_server.url + "/workbench/hotline/tickets/")
    expect(handler.locator("tr", has_text=first)).to_contain_text("Supervised")
    handler.get_by_role("link", name=first).click()
    handler.locator("#reply").fill("已处理。")
    handler.get_by_role("button", name="Send the reply").click()
    expect(handler.locator(".alert-danger")).to_contain_text("at least 15 characters")
    handler.locator("#reply").fill(REPLY)
    handler.get_by_role("button", name="Send the reply").click()
    expect(handler.locator("[data-status]")).to_have_attribute("data-status", "replied")

    # 回访 → 评价: the operator calls both back; the first caller is unsatisfied and the ticket is reopened.
    operator.goto(live_server.url + "/workbench/hotline/callbacks/")
    expect(operator.locator("main")).to_contain_text(second)
    operator.get_by_role("link", name=first).click()
    operator.select_option("#satisfaction", "2")
    operator.get_by_role("button", name="Record the call-back").click()
    expect(operator.locator("[data-status]")).to_have_attribute("data-status", "closed")
    operator.locator("#reopen").fill("晚上还是有施工噪音")
    operator.get_by_role("button", name="Reopen").click()
    expect(operator.locator("[data-status]")).to_have_attribute("data-status", "dispatched")
    operator.goto(live_server.url + f"/workbench/hotline/tickets/{second}/")
    operator.select_option("#satisfaction", "5")
    operator.get_by_role("button", name="Record the call-back").click()
    expect(operator.locator("[data-status]")).to_have_attribute("data-status", "closed")

    kinds = list(Ticket.objects.get(number=first).steps.values_list("kind", flat=True))
    assert kinds == [
        "taken",
        "dispatched",
        "merged_in",
        "accepted",
        "extension_requested",
        "extension_approved",
        "supervised",
        "replied",
        "called_back",
        "reopened",
    ]
