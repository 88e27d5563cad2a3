"""li.ming's inbox fills as his newborn case moves, in Chromium: he applies, is asked for a supplement and answers
it from the message, and finds the result, his baby's birth certificate and a rating invitation in his inbox.

The outbox events are delivered between the steps as the worker does within a second (``event_deliver``).
Screenshots go to ``var/screenshots/notify-*.png``. Needs Debian's Chromium (skips without it, fails without it
under ``TONGBAN_STRICT_SERVICES``).
"""

import datetime
import re

import pytest
from django.conf import settings
from django.test import Client

from tongban.cases.models import Case
from tongban.core.audit import SYSTEM
from tongban.core.events import event_deliver
from tongban.identity import services as identity
from tongban.identity.models import AdminUnit, Person
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.workflow.models import Task
from tongban.workflow.tests.fixtures import FATHER_ID, MOTHER_ID

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PASSWORD = "li-ming-pass-2026"


@pytest.fixture
def li_ming(parent):
    """李明 of Huangpu, married to 陈静 (the ``parent`` fixture) in the marriage register: the baby's father."""
    from tongban.exchange.registry_services import marriage_register

    user = identity.user_create(actor=SYSTEM, username="li.ming", password=PASSWORD, check_password=False)
    father = identity.person_create(
        actor=SYSTEM, resident_id=FATHER_ID, name="李明", phone="13812345678", user=user
    )
    marriage_register(
        actor=SYSTEM,
        party_a=father,
        party_b=Person.objects.get(resident_id=MOTHER_ID),
        office=AdminUnit.objects.get(code="310101"),
        registered_on=datetime.date(2020, 10, 1),
    )
    return user


def _shot(page, name):
    folder = settings.VAR_DIR / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"notify-{name}.png"), full_page=True)


def _context(browser, live_server, *, session=None, language="en"):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    cookies = [{"name": "django_language", "value": language, "url": live_server.url}]
    if session:
        cookies.append({"name": "sessionid", "value": session, "url": live_server.url})
    context.add_cookies(cookies)
    context.set_default_timeout(15_000)
    return context


def _staff_page(browser, live_server, user):
    client = login_with_second_factor(Client(), user)
    return _context(browser, live_server, session=client.cookies["sessionid"].value).new_page()


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


def _follow(page, live_server, link):
    """Open a link's page as a click would (a relative href, on this server)."""
    href = link.get_attribute("href")
    assert href.startswith("/"), href
    page.goto(live_server.url + href)


def _inbox(page, live_server):
    page.goto(f"{live_server.url}/inbox/")
    return page.locator("main ul.list-group > li")


def test_li_mings_inbox_fills_as_his_case_moves(
    browser, live_server, li_ming, newborn, handlers, licence_types
):
    from playwright.sync_api import expect

    # Before anything happens, his inbox is empty.
    citizen = _context(browser, live_server).new_page()
    citizen.goto(live_server.url + "/accounts/login/")
    citizen.locator("input[name=username]").fill("li.ming")
    citizen.locator("input[name=password]").fill(PASSWORD)
    citizen.locator("main form button[type=submit]").click()
    citizen.goto(f"{live_server.url}/inbox/")
    expect(citizen.locator("main")).to_contain_text("Your inbox is empty")

    # He applies for the newborn bundle: the case is accepted at once, and his inbox says so, with the date.
    citizen.goto(f"{live_server.url}/cases/apply/bundle/newborn/")
    citizen.locator('[name="baby_name"]').fill("李安安")
    citizen.locator('[name="birth_date"]').fill("2026-11-20")
    citizen.locator('[name="mother_resident_id"]').fill(MOTHER_ID)
    citizen.locator('[name="hospital"]').fill("上海市第一妇婴保健院")
    citizen.set_input_files(
        '[name="materials.parents-marriage-certificate"]',
        files=[{"name": "marriage.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    citizen.get_by_role("button", name="Submit application").click()
    expect(citizen.get_by_text("Your application was submitted")).to_be_visible()
    number = re.search(r"/cases/(TB\d+)/", citizen.url).group(1)
    case = Case.objects.get(number=number)
    event_deliver()
    case.refresh_from_db()
    messages = _inbox(citizen, live_server)
    expect(messages).to_have_count(1)
    expect(messages.first).to_contain_text("Application accepted: Newborn")
    expect(messages.first).to_contain_text(case.due_date.isoformat())
    expect(citizen.locator("nav.tb-nav .badge")).to_contain_text("1")  # the unread count in the menu
    _shot(citizen, "1-accepted")
    _follow(citizen, live_server, messages.first.get_by_role("link"))
    expect(citizen.locator("main")).to_contain_text(f"we promise a result by {case.due_date.isoformat()}")
    _follow(citizen, live_server, citizen.get_by_role("link", name="Open"))
    assert citizen.url.endswith(f"/cases/{number}/")

    # Health approves; the Huangpu police ask for a correction of the baby's name.
    _approve(_staff_page(browser, live_server, handlers["health"]), live_server, case, "birth_certificate")
    police = _staff_page(browser, live_server, handlers["public-security"])
    police.goto(f"{live_server.url}/workbench/")
    expect(police.get_by_test_id("inbox-count")).to_contain_text("1")  # the staff menu's inbox count
    task = _open_task(case, "household_registration")
    police.goto(f"{live_server.url}/workbench/tasks/{task.pk}/")
    police.get_by_text("Request a supplement (one complete list)").click()
    police.locator("#sup-f-baby_name").check()
    police.locator("#sup-fr-baby_name").fill("与出生医学证明不一致")
    police.get_by_role("button", name="Request the supplement").click()
    event_deliver()

    # The request is in his inbox with the complete list; its link opens the supplement form, which he answers.
    messages = _inbox(citizen, live_server)
    expect(messages).to_have_count(2)
    expect(messages.first).to_contain_text("Please supplement your application")
    _follow(citizen, live_server, messages.first.get_by_role("link"))
    expect(citizen.locator("main")).to_contain_text("新生儿姓名：与出生医学证明不一致")
    _shot(citizen, "2-supplement-requested")
    _follow(citizen, live_server, citizen.get_by_role("link", name="Open"))
    assert citizen.url.endswith(f"/cases/{number}/supplement/")
    citizen.locator('[name="baby_name"]').fill("李晓安")
    citizen.get_by_role("button", name="Send the supplement").click()
    expect(citizen.get_by_text("the supplement was sent")).to_be_visible()
    event_deliver()
    messages = _inbox(citizen, live_server)
    expect(messages).to_have_count(3)
    expect(messages.first).to_contain_text("Supplement received")
    _shot(citizen, "3-supplement-received")

    # The departments finish: the result, the birth certificate and a rating invitation arrive.
    _approve(police, live_server, case, "household_registration")
    _approve(_staff_page(browser, live_server, handlers["hrss"]), live_server, case, "social_security_card")
    _approve(
        _staff_page(browser, live_server, handlers["medical-insurance"]),
        live_server,
        case,
        "medical_insurance",
    )
    event_deliver()
    messages = _inbox(citizen, live_server)
    expect(messages).to_have_count(6)
    expect(messages.nth(0)).to_contain_text("Please rate our service")
    expect(messages.nth(1)).to_contain_text("Application completed")
    expect(messages.nth(2)).to_contain_text("E-licence issued: Birth medical certificate")
    _shot(citizen, "4-completed")
    _follow(citizen, live_server, messages.nth(2).get_by_role("link"))
    _follow(citizen, live_server, citizen.get_by_role("link", name="Open"))
    assert re.search(r"/licences/BMC[^/]+/$", citizen.url), citizen.url
    expect(citizen.locator("main")).to_contain_text("李晓安")  # the name as corrected in the supplement
    _shot(citizen, "5-licence")
    messages = _inbox(citizen, live_server)
    _follow(citizen, live_server, messages.nth(0).get_by_role("link"))
    _follow(citizen, live_server, citizen.get_by_role("link", name="Open"))
    assert citizen.url.endswith(f"/ratings/case/{number}/")
    expect(citizen.get_by_role("heading", name="Rate the service")).to_be_visible()

    # The same inbox in Chinese.
    session = next(c["value"] for c in citizen.context.cookies() if c["name"] == "sessionid")
    page = _context(browser, live_server, session=session, language="zh-hans").new_page()
    messages = _inbox(page, live_server)
    expect(messages.nth(1)).to_contain_text("办件已办结：出生一件事")
    expect(page.locator("nav.tb-nav")).to_contain_text("我的消息")
    _shot(page, "6-inbox-zh")
