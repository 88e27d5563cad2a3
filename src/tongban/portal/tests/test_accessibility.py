"""Static accessibility checks on the rendered pages (WCAG 2.1 AA basics that HTML alone shows)."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tongban.portal.tests.fixtures import login_with_second_factor

pytestmark = pytest.mark.django_db


class PageFacts(HTMLParser):
    """Collects what the checks need: html lang, headings, ids, labels, inputs, images, buttons."""

    def __init__(self):
        super().__init__()
        self.lang = None
        self.h1 = 0
        self.ids = set()
        self.label_for = set()
        self.inputs = []
        self.images = []
        self.landmarks = set()
        self.skip_target = None
        self.buttons = []
        self._button = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "html":
            self.lang = attrs.get("lang")
        elif tag == "h1":
            self.h1 += 1
        elif tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        elif tag in {"input", "select", "textarea"} and attrs.get("type") not in {
            "hidden",
            "submit",
            "button",
        }:
            self.inputs.append(attrs)
        elif tag == "img":
            self.images.append(attrs)
        elif tag in {"header", "main", "footer", "nav"}:
            self.landmarks.add(tag)
        elif tag == "a" and self.skip_target is None and (attrs.get("href") or "").startswith("#"):
            self.skip_target = attrs["href"][1:]
        elif tag == "button":
            self._button = ""
            self.buttons.append(attrs)

    def handle_data(self, data):
        if self._button is not None:
            self._button += data

    def handle_endtag(self, tag):
        if tag == "button" and self._button is not None:
            self.buttons[-1]["_text"] = self._button.strip()
            self._button = None


def assert_accessible(html, lang):
    facts = PageFacts()
    facts.feed(html)
    assert facts.lang == lang
    assert facts.h1 == 1, "one h1 per page"
    assert {"header", "main", "footer", "nav"} <= facts.landmarks
    assert facts.skip_target == "main" and "main" in facts.ids, "the first in-page link skips to main"
    for field in facts.inputs:
        assert field.get("id") in facts.label_for or field.get("aria-label"), f"unlabelled field {field}"
    for image in facts.images:
        assert "alt" in image, f"image without alt {image}"
    for button in facts.buttons:
        assert button.get("_text") or button.get("aria-label"), f"button without a name {button}"


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
