"""An English page of the demo journeys shows no Chinese, except proper names and addresses.

The demo city (small: 10 synthetic people) is walked with the test client in English: the public home, the
service search, every published item's and bundle's guide, the guided questions and the prefilled form, the
citizen's home, case pages and licences, the receipt, the window clerk's and the department handler's
workbench, and the supervisor's page. The visible text of each page (text nodes, ``title``, ``alt``,
``placeholder``, ``aria-label`` and input values) may hold Chinese only where it quotes a value of the allow-list
below — never a catalogue text, a label or a message.

The allow-list is explicit and small, and every value on it comes from data, not from the platform's words:
- persons' names (the population register and the staff list), organisations' names (the business register),
  households' and persons' addresses, streets and roads of the city;
- what a person typed or a register returned into a case's form (its ``form_data``: names, hospital, addresses,
  contract and certificate numbers) and staff opinions on a task (free text written by a person);
- a licence's holder and data fields (copied from the case's form and the registers);
- the language switch's own name for Chinese (简体中文), which must stay Chinese for a Chinese reader.
"""

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tongban.core.masking import mask_name

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")
HAN_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


# The platform's emblem (通) and the four fronts' marks on the home page: brand marks, marked lang="zh-Hans".
BRAND_MARKS = {"通", "一网", "一窗", "一号", "监督"}


@pytest.fixture
def city(demo_city, db):
    return demo_city


class _Seen(HTMLParser):
    """What a reader (or a screen reader) meets: text nodes outside script/style, and the attributes read out."""

    ATTRIBUTES = ("title", "alt", "placeholder", "aria-label", "value", "content")

    def __init__(self):
        super().__init__()
        self.parts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        attrs = dict(attrs)
        for name in self.ATTRIBUTES:
            value = attrs.get(name)
            if not value:
                continue
            if name == "value" and attrs.get("type") == "hidden":
                continue  # not shown: carries answers and keys
            if name == "content" and tag != "meta":
                continue
            self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def seen_text(html: str) -> list[str]:
    parser = _Seen()
    parser.feed(html)
    return parser.parts


def allowed_values() -> set[str]:
    """The proper names and addresses an English page may quote (see the module's docstring)."""
    from tongban.cases.models import Case
    from tongban.identity.models import Household, Organisation, Person, User
    from tongban.licences.models import Licence
    from tongban.workflow.models import Task

    values = {"简体中文"} | BRAND_MARKS
    names = set(Person.objects.values_list("name", flat=True))
    values |= names | {mask_name(name) for name in names}
    values |= set(Household.objects.values_list("address", flat=True))
    values |= set(Organisation.objects.values_list("name", flat=True))
    values |= {f"{u.last_name}{u.first_name}" for u in User.objects.all()}
    values |= set(User.objects.values_list("first_name", flat=True))
    for form in Case.objects.values_list("form_data", flat=True):
        values |= {str(v) for v in (form or {}).values() if isinstance(v, str | int)}
    values |= set(Task.objects.exclude(opinion="").values_list("opinion", flat=True))
    for holder, data in Licence.objects.values_list("holder_name", "data"):
        values.add(holder)
        values |= {str(v) for v in (data or {}).values()}
    return {v for v in values if v and HAN_CHAR.search(v)}


def not_yet_english() -> set[str]:
    """Texts still Chinese on English pages, left for later and named here so that nothing else slips through:
    what a case stores in Chinese when it is written (its title, its materials' names, its timeline's labels
    and "awaiting" lines, the workflow's step names, the purpose of a data use) and the data resources' field
    labels listed on the staff case page. docs/catalog.md ("English") says the same."""
    from tongban.cases.models import Case, CaseMaterial, CaseStep
    from tongban.exchange.models import DataUse
    from tongban.exchange.resources import RESOURCES
    from tongban.workflow.models import Task

    values = set(Case.objects.values_list("title", flat=True))
    values |= set(CaseMaterial.objects.values_list("name", flat=True))
    for label, awaiting in CaseStep.objects.values_list("label", "awaiting"):
        values |= {label, awaiting, *awaiting.split("；")}
    values |= set(Task.objects.values_list("name", flat=True))
    values |= set(DataUse.objects.values_list("purpose", flat=True))
    values |= {field.label_zh for spec in RESOURCES.values() for field in spec.fields.values()}
    return {v for v in values if v and HAN_CHAR.search(v)}


def chinese_on(html: str, allowed: set[str]) -> list[str]:
    """The Chinese runs of the page's seen text that are not inside an allowed value."""
    found = []
    for part in seen_text(html):
        rest = part
        for value in sorted((v for v in allowed if v in rest), key=len, reverse=True):
            rest = rest.replace(value, " ")
        found += [run for run in HAN.findall(rest) if HAN_CHAR.search(run)]
    return found


def _walk(client, urls, allowed, problems):
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        runs = chinese_on(response.content.decode(), allowed)
        if runs:
            problems[url] = sorted(set(runs))


def test_english_pages_of_the_demo_journeys_show_no_chinese(city, client):
    from tongban.cases.models import Case
    from tongban.catalog.models import Bundle, PublicationStatus, ServiceItem
    from tongban.identity.models import User
    from tongban.identity.tests.fixtures import login_with_second_factor
    from tongban.licences.models import Licence
    from tongban.workflow.models import Task

    client.cookies["django_language"] = "en"
    problems: dict[str, list[str]] = {}
    allowed = allowed_values() | not_yet_english()
    items = ServiceItem.objects.filter(status=PublicationStatus.PUBLISHED).order_by("code")
    bundles = Bundle.objects.filter(status=PublicationStatus.PUBLISHED).order_by("code")
    public = ["/", reverse("catalog:search") + "?q=birth"]
    public += [reverse("catalog:item", args=[item.code]) for item in items]
    public += [reverse("catalog:bundle", args=[bundle.code]) for bundle in bundles]
    public += [reverse("catalog:zero-visits"), reverse("portal:departments")]
    _walk(client, public, allowed, problems)

    # The citizen: home, the guided questions, the prefilled form, cases, receipt, licences.
    li_ming = User.objects.get(username="li.ming")
    client.force_login(li_ming)
    guide = reverse("cases:guide_bundle", args=["newborn"])
    answers = {"role": "father", "married": "yes", "household_with": "father", "mailing": "home"}
    steps = [guide]
    so_far = {}
    for key, value in answers.items():
        so_far[key] = value
        steps.append(guide + "?" + "&".join(f"{k}={v}" for k, v in so_far.items()))
    steps.append(
        reverse("cases:apply_bundle", args=["newborn"])
        + "?guided=1&"
        + "&".join(f"{k}={v}" for k, v in answers.items())
    )
    steps.append(reverse("cases:apply_item", args=["resident-id-card-renewal"]))
    cases = list(Case.objects.all())
    mine = [c for c in cases if c.applicant_person_id and c.applicant_person.user_id == li_ming.pk]
    steps += ["/", reverse("cases:list"), reverse("licences:wallet")]
    steps += [reverse("cases:detail", args=[c.number]) for c in mine]
    _walk(client, steps, allowed, problems)
    # Licences, each seen by its holder.
    from tongban.identity.models import Person

    holders = {
        p.resident_id: p.user for p in Person.objects.filter(user__isnull=False).select_related("user")
    }
    for licence in Licence.objects.order_by("number"):
        holder = holders.get(licence.holder_id_number)
        if holder is not None:
            client.force_login(holder)
            _walk(client, [reverse("licences:detail", args=[licence.number])], allowed, problems)

    # The window clerk and the department handler.
    clerk = User.objects.get(username="clerk.pudong")
    login_with_second_factor(client, clerk)
    found = client.post(reverse("workbench:window"), {"kind": "person", "id": li_ming.person.resident_id})
    assert found.status_code == 302, found.status_code
    token = found.url.split("applicant=", 1)[1]
    _walk(
        client,
        [
            reverse("workbench:home"),
            reverse("workbench:window"),
            found.url,
            reverse("workbench:window-apply", args=["bundle", "newborn"]) + f"?applicant={token}",
            reverse("workbench:cases"),
        ]
        + [
            reverse("workbench:case", args=[c.number])
            for c in cases
            if c.idempotency_key == "demo-real-estate"
        ],
        allowed,
        problems,
    )
    handler = User.objects.get(username="handler.ps")
    login_with_second_factor(client, handler)
    tasks = Task.objects.filter(department__code="public-security", state__in=Task.OPEN_STATES)
    _walk(
        client,
        [reverse("workbench:home"), reverse("workbench:tasks")]
        + [reverse("workbench:task", args=[t.pk]) for t in tasks[:2]]
        + [reverse("workbench:case", args=[t.case_number]) for t in tasks[:2]],
        allowed,
        problems,
    )
    supervisor = User.objects.get(username="supervisor")
    login_with_second_factor(client, supervisor)
    _walk(
        client,
        [reverse("supervision:warnings"), reverse("supervision:compliance")],
        allowed,
        problems,
    )
    assert problems == {}
