"""Static accessibility checks on a rendered page (WCAG 2.1 AA basics that HTML alone shows).

A helper for the page tests of every app (``assert_accessible(html, lang)``); it knows no app, so it lives in
core's tests.
"""

from html.parser import HTMLParser


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
