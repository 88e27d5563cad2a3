"""法人一证通 in Chromium: an agent requests a certificate with a key made in the browser (non-extractable, kept in
IndexedDB), the legal representative issues it, the agent signs in with it by a signed challenge, and applies for
the enterprise: the browser signs the form as sent (fields and the file's SHA-256), the server checks it before
making the case, and the department sees it verified.

Needs Debian's Chromium (skips without it, fails without it under ``TONGBAN_STRICT_SERVICES``).
"""

import pytest
from django.conf import settings
from django.test import Client

from tongban.cases.models import Case
from tongban.enterprise import services
from tongban.enterprise.models import CaseSignature, CertificateRequest
from tongban.enterprise.selectors import case_signatures_checked
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


def test_a_browser_key_requests_a_certificate_signs_the_agent_in_and_signs_an_application(
    browser, live_server, citizen, organisation, agent, sign_item
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

    # Applying for the enterprise: the browser signs the form as it is sent, the case keeps the signature.
    page.goto(f"{live_server.url}/cases/apply/item/{sign_item.code}/")
    expect(page.locator("#tb-signing")).to_contain_text("Signed with your enterprise certificate")
    page.locator("input[name=sign_text]").fill('招牌 "精密" \\ 制造')
    page.locator("input[name='materials.sign-design']").set_input_files(
        files=[{"name": "设计图.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n% a sign\n"}]
    )
    page.get_by_role("button", name="Submit application").click()
    expect(page.get_by_text("Your application was submitted.")).to_be_visible()
    case = Case.objects.get(applicant_organisation=organisation)
    [record] = CaseSignature.objects.filter(case_id=case.pk)
    assert record.kind == CaseSignature.Kind.SUBMISSION and '"sha256":"' in record.payload
    [check] = case_signatures_checked(case)
    assert check.verified and check.matches_case
    folder = settings.VAR_DIR / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "enterprise-signed-application.png"), full_page=True)
    context.close()
