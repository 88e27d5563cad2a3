"""Static accessibility checks on the rendered pages (WCAG 2.1 AA basics that HTML alone shows)."""

import pytest
from django.urls import reverse

from tongban.core.tests.accessibility import assert_accessible
from tongban.identity.tests.fixtures import login_with_second_factor

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("signed_in", [True, False])
@pytest.mark.parametrize("url", ["/", reverse("portal:departments") + "?q=health", "/no/such/page/"])
def test_portal_pages_pass_the_basic_checks_in_both_languages(client, citizen, url, signed_in):
    if signed_in:
        client.force_login(citizen)
    assert_accessible(client.get(url).content.decode(), "zh-Hans")
    assert_accessible(client.get(url, headers={"cookie": "django_language=en"}).content.decode(), "en")


def test_login_page_passes_the_basic_checks(client, city):
    assert_accessible(client.get(reverse("identity:login")).content.decode(), "zh-Hans")


def test_workbench_home_passes_the_basic_checks(client, staff_user):
    login_with_second_factor(client, staff_user)
    assert_accessible(client.get(reverse("workbench:home")).content.decode(), "zh-Hans")


def test_citizen_403_passes_the_basic_checks(client, citizen):
    client.force_login(citizen)
    assert_accessible(client.get(reverse("workbench:home")).content.decode(), "zh-Hans")
