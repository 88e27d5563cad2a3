"""A message's link leaves the site absolute (on TONGBAN_PUBLIC_URL) or not at all."""

from types import SimpleNamespace

from tongban.messaging.gateways import absolute_link, email_parts, sms_text


def _delivery(link):
    message = SimpleNamespace(
        subject="办件已受理", subject_en="Accepted", body="您的申请已受理。", body_en="Accepted.", link=link
    )
    return SimpleNamespace(message=message)


def test_a_page_path_is_made_absolute_on_the_public_address(settings):
    settings.TONGBAN_PUBLIC_URL = "https://tongban.example.gov.cn/"
    assert absolute_link("/cases/TB1/") == "https://tongban.example.gov.cn/cases/TB1/"
    assert sms_text(_delivery("/cases/TB1/")) == "您的申请已受理。 https://tongban.example.gov.cn/cases/TB1/"
    assert email_parts(_delivery("/cases/TB1/"))[1].endswith("\n\nhttps://tongban.example.gov.cn/cases/TB1/")


def test_without_a_public_address_a_bare_path_is_left_out(settings):
    settings.TONGBAN_PUBLIC_URL = ""
    assert sms_text(_delivery("/cases/TB1/")) == "您的申请已受理。"
    assert "/cases/TB1/" not in email_parts(_delivery("/cases/TB1/"))[1]
    assert absolute_link("https://elsewhere.example/x") == "https://elsewhere.example/x"
