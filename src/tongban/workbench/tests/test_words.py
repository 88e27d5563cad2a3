"""Words, not codes: the staff and citizen pages of a case name roles, actions, departments and choices in words.

Each page is rendered in Chinese and in English and its visible text (not its markup: links and ids may carry
codes) is searched for the codes the database stores: role codes (``dept_handler``), audit actions
(``case.accepted``), department codes (``public-security-310101``), bare ids (``case b2d18303-…``) and
ratios printed as ``0.78``.
"""

import re
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import translation

from tongban.core.labels import AUDIT_ACTIONS, audit_action_label
from tongban.core.models import AuditEntry
from tongban.identity.models import Department
from tongban.identity.reference import ROLE_DEFINITIONS
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.workbench.selectors import form_fields

from .fixtures import make_staff
from .helpers import open_task, submit_online

pytestmark = pytest.mark.django_db

UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
RATIO = re.compile(r"[(（]0\.\d+[)）]")


class _Text(HTMLParser):
    """The text a reader sees: text nodes outside <script> and <style>."""

    def __init__(self):
        super().__init__()
        self.parts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(parser.parts)


def codes_in(text: str, codes) -> list[str]:
    found = [code for code in codes if re.search(rf"(?<![\w.-]){re.escape(code)}(?![\w-])", text)]
    found += UUID.findall(text) + RATIO.findall(text)
    return found


def known_codes() -> set[str]:
    roles = {role.code for role in ROLE_DEFINITIONS}
    actions = set(AuditEntry.objects.values_list("action", flat=True)) | set(AUDIT_ACTIONS)
    departments = {code for code in Department.objects.values_list("code", flat=True) if "-" in code}
    return roles | actions | departments


@pytest.fixture
def walked_case(parent, newborn, handlers, client):
    """A newborn case submitted online whose first step the health commission approved."""
    from tongban.cases import services
    from tongban.identity.selectors import actor_for

    case = submit_online(parent, newborn)
    services.case_task_complete(
        actor=actor_for(handlers["health"]),
        task_id=open_task(case, "birth_certificate").pk,
        decision="approve",
    )
    return case


def _pages(client, user, urls, language):
    client.cookies["django_language"] = language
    texts = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        texts[url] = visible_text(response.content.decode())
    return texts


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_staff_pages_of_a_case_show_no_codes(client, walked_case, handlers, city, language):
    head = make_staff("head.health", "health", ["dept_head", "dept_handler"])
    household = open_task(walked_case, "household_registration")
    codes = known_codes()
    login_with_second_factor(client, head)
    texts = _pages(
        client,
        head,
        [reverse("workbench:home"), reverse("workbench:case", args=[walked_case.number])],
        language,
    )
    login_with_second_factor(client, handlers["public-security"])
    texts |= _pages(
        client,
        handlers["public-security"],
        [
            reverse("workbench:home"),
            reverse("workbench:tasks"),
            reverse("workbench:task", args=[household.pk]),
            reverse("workbench:cases"),
        ],
        language,
    )
    for url, text in texts.items():
        assert codes_in(text, codes) == [], url
    # The department head's home lists the department's audit trail in words, each case by its number.
    login_with_second_factor(client, head)
    client.cookies["django_language"] = language
    html = client.get(reverse("workbench:home")).content.decode()
    with translation.override(language):
        assert f"<td>{audit_action_label('task.completed')}</td>" in html
    assert f'href="{reverse("workbench:case", args=[walked_case.number])}"' in html


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_citizen_pages_of_a_case_show_no_codes(client, walked_case, parent, language):
    client.force_login(parent)
    codes = known_codes()
    texts = _pages(
        client, parent, [reverse("cases:list"), reverse("cases:detail", args=[walked_case.number])], language
    )
    for url, text in texts.items():
        assert codes_in(text, codes) == [], url


def test_the_case_panel_shows_a_choices_label_not_its_code():
    service = SimpleNamespace(
        form_schema={
            "properties": {
                "baby_sex": {"type": "string", "title": "新生儿性别", "enum": ["male", "female"]},
                "household_with": {"type": "string", "title": "随父或随母落户", "enum": ["father", "mother"]},
                "reason": {"type": "string", "enum": ["guardian"], "enumNames": ["申请人为监护人"]},
            }
        },
        form_ui={},
    )
    values = {"baby_sex": "male", "household_with": "father", "reason": "guardian"}

    def shown(language):
        # In the language of the request (set here: an earlier test's request may have left another one active).
        with translation.override(language):
            fields = form_fields(service, values=values)
            return {f.name: str(f.display_value) for f in fields}

    assert shown("zh-hans") == {"baby_sex": "男", "household_with": "随父", "reason": "申请人为监护人"}
    assert shown("en") == {
        "baby_sex": "Male",
        "household_with": "With the father",
        "reason": "申请人为监护人",
    }


def _written_in_code(pattern: str) -> set[str]:
    """What ``pattern``'s group matches anywhere in the code base (tests and migrations left out)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    written = set()
    for path in root.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        written |= set(re.findall(pattern, path.read_text(encoding="utf-8")))
    return written


def test_every_audit_action_the_code_writes_has_words():
    """An action written as ``action="x.y"`` anywhere in the code base is in the table of labels."""
    written = _written_in_code(r'action="([a-z_]+\.[a-z_.]+)"')
    assert sorted(code for code in written if code not in AUDIT_ACTIONS) == []


def test_every_audit_subject_type_the_code_writes_has_words():
    """A subject type written as ``subject_type="x"`` anywhere in the code base has a readable name: the staff's
    "my recent actions" showed "case_material · TB…" in a Chinese page."""
    from tongban.core.labels import SUBJECT_TYPES

    written = _written_in_code(r'subject_type="([a-z_]+)"')
    assert "case_material" in written  # the pattern finds what the code writes
    assert sorted(code for code in written if code not in SUBJECT_TYPES) == []


def test_the_timeline_names_people_not_usernames(client, walked_case, handlers):
    """The staff case page's timeline says who acted by name (蒋雯), not by the account's username."""
    health = handlers["health"]
    health.first_name = "蒋雯"
    health.save(update_fields=["first_name"])
    head = make_staff("head.health", "health", ["dept_head", "dept_handler"])
    login_with_second_factor(client, head)
    html = client.get(reverse("workbench:case", args=[walked_case.number])).content.decode()
    timeline = visible_text(html[html.index('id="timeline-heading"') :])
    assert "蒋雯" in timeline
    assert health.username not in timeline
