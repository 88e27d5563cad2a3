"""法人一证通 in Chromium: an agent requests a certificate with a key made in the browser (non-extractable, kept in
IndexedDB), the legal representative issues it, and the agent signs in with it by a signed challenge.

Needs Debian's Chromium (skips without it, fails without it under ``TONGBAN_STRICT_SERVICES``).
"""

import pytest
from django.test import Client

from tongban.enterprise import services
from tongban.enterprise.models import CertificateRequest
from tongban.identity.selectors import actor_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _context(browser, live_server, *, session=None):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    cookies = [{"name": "django_language", "value": "en", "url": live_server.url}]
    if session:
        cookies.append({"name": "sessionid", "value": session, "url": live_server.url})
    context.add_cookies(cookies)
    context.set_default_timeout(15_000)
    return context


def test_a_browser_key_requests_a_certificate_and_signs_the_agent_in(
    browser, live_server, citizen, organisation, agent
):
    from playwright.sync_api import expect

    services.organisation_certificate_issue(actor=actor_for(citizen), organisation=organisation)
    client = Client()
    client.force_login(agent)
    context = _context(browser, live_server, session=client.cookies["sessionid"].value)
    page = context.new_page()
    page.goto(f"{live_server.url}/enterprise/{organisation.credit_code}/")
    page.get_by_role("button", name="Request a certificate").click()
    expect(page.get_by_text("Your request has been sent to the legal representative.")).to_be_visible()
    # The private key cannot be read out of the browser, not even by the page.
    assert page.evaluate(
        "tongbanCertificates.allKeys().then(k => [k.length, k[0].privateKey.extractable])"
    ) == [1, False]

    request = CertificateRequest.objects.get(agent=agent)
    services.agent_certificate_issue(
        actor=actor_for(citizen), certificate_request=request, scopes=["login", "sign"], valid_days=30
    )

    context.clear_cookies()
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/enterprise/sign-in/")
    expect(page.locator("select[name=key] option")).to_have_count(1)
    page.locator("#tb-cert-sign-in button[type=submit]").click()
    expect(page.get_by_role("heading", name=organisation.name)).to_be_visible()
    assert "You act for it as an agent." in page.content()
    context.close()
