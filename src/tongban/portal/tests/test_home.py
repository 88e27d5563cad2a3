"""The signed-in home: what the citizen must do now first, then their cases, licences and messages; the public
home says what the platform does today (nothing shipped is "coming soon").

The English pages (``test_english_pages_of_the_demo_journeys_show_no_chinese``, at the end of this module, on the
same demo city): the demo city (small: 10 synthetic people) is walked with the test client in English: the public home, the
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
from tongban.identity.models import Person, User


@pytest.fixture
def city(demo_city, db):
    return demo_city


def test_the_public_home_promises_nothing_that_is_already_shipped(city, client):
    client.cookies["django_language"] = "en"
    html = client.get("/").content.decode()
    assert "Coming next" not in html and "coming soon" not in html.lower()
    assert "Online requests and tracking of hotline tickets" in html
    assert "To do" not in html  # no personal home for the anonymous visitor


def _newborn_case(user, baby):
    from tongban.cases import services
    from tongban.catalog.selectors import bundle_get
    from tongban.demo.catalog import NEWBORN_BUNDLE
    from tongban.demo.sample import sample_form_data
    from tongban.identity.selectors import actor_for

    father = Person.objects.get(user=user)
    bundle = bundle_get(NEWBORN_BUNDLE)
    form = sample_form_data(bundle.form_schema, person=father)
    form.update(
        {
            "baby_name": baby,
            "father_resident_id": father.resident_id,
            "mother_resident_id": Person.objects.get(user__username="chen.jing").resident_id,
            "parents_married": True,
        }
    )
    form.pop("parents_relation", None)
    return services.case_submit(actor=actor_for(user), service=bundle, form_data=form, files={})


def test_a_citizen_home_lists_to_dos_first_then_cases_licences_and_messages(city, client):
    from tongban.cases import services
    from tongban.identity.selectors import actor_for
    from tongban.workflow.models import Task

    user = User.objects.get(username="li.ming")
    running = _newborn_case(user, "李乐乐")
    waiting = _newborn_case(user, "李安安")
    task = Task.objects.filter(case_id=waiting.pk, state__in=Task.OPEN_STATES).first()
    services.case_supplement_request(
        actor=actor_for(User.objects.get(username="handler.health")),
        task_id=task.pk,
        fields=[{"field": "birth_hospital", "reason": "与出生医学记录不一致"}],
    )
    client.force_login(user)
    client.cookies["django_language"] = "en"
    html = client.get("/").content.decode()
    positions = [
        html.index(h) for h in ("To do", "Cases in progress", "Recent licences", "Messages", "My data")
    ]
    assert positions == sorted(positions)
    todo = html[positions[0] : positions[1]]
    assert f"/cases/{waiting.number}/supplement/" in todo and "time limit is paused" in todo
    # The deadline to answer: ten working days after the request, on the home and on the case's own pages.
    from tongban.core import calendar

    request = waiting.supplements.get()
    due = calendar.add_working_days(calendar.as_local_date(request.created_at), 10)
    assert request.due_on == due and f"Answer by {due:%Y-%m-%d}." in todo
    for page in (f"/cases/{waiting.number}/", f"/cases/{waiting.number}/supplement/"):
        assert f"Please answer by {due:%Y-%m-%d}." in client.get(page).content.decode(), page
    in_progress = html[positions[1] : positions[2]]
    assert running.number in in_progress and "Due by" in in_progress and "Next:" in in_progress


def test_an_enterprise_agent_gets_a_home_too(city, client):
    client.force_login(User.objects.get(username="zhang.wei"))
    client.cookies["django_language"] = "en"
    html = client.get("/").content.decode()
    assert "To do" in html and "Cases in progress" in html


def test_the_enterprise_offer_opens_its_prefilled_form_not_a_search(city, client):
    """The business register's new enterprise gets the social-insurance account offer: the message's button opens
    the offer's form, filled in from the business register, and one confirmation submits the case."""
    from tongban.cases.models import Case
    from tongban.messaging.models import Message
    from tongban.proactive.models import Offer

    agent = User.objects.get(username="zhang.wei")
    message = Message.objects.get(template_code="enterprise-social-insurance")
    offer = Offer.objects.get(message_id=message.pk)
    organisation = offer.organisation
    assert message.link == f"/offers/{offer.pk}/" and "/services/" not in message.link
    assert offer.service == "employer-social-insurance-registration"

    client.force_login(agent)
    client.cookies["django_language"] = "en"
    html = client.get(message.link).content.decode()
    assert organisation.name in html and organisation.credit_code in html  # filled in for the agent
    assert "Confirm and submit" in html
    answers = {  # what the business register does not hold: the agent types it on the offer's page
        "business_address": "上海市浦东新区张江路88号",
        "applicant_phone": "13812345678",
        "bank_name": "中国工商银行",
        "bank_account": "6222021001122334455",
    }
    response = client.post(f"/offers/{offer.pk}/accept/", answers)
    assert response.status_code == 302
    case = Case.objects.get(pk=Offer.objects.get(pk=offer.pk).case_id)
    assert case.applicant_organisation == organisation
    assert case.form_data["credit_code"] == organisation.credit_code


HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")
HAN_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


# The platform's emblem (通) and the four fronts' marks on the home page: brand marks, marked lang="zh-Hans".
BRAND_MARKS = {"通", "一网", "一窗", "一号", "监督"}


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
    allowed = allowed_values()
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
    # A case waiting for the applicant's supplement (a material and a field asked by the health department).
    from tongban.cases import services as case_services
    from tongban.identity.selectors import actor_for

    waiting = _newborn_case(li_ming, "李安安")
    task = Task.objects.filter(case_id=waiting.pk, state__in=Task.OPEN_STATES).first()
    material = (
        waiting.bundle.bundle_items.order_by("position").first().item.materials.order_by("position").first()
    )
    case_services.case_supplement_request(
        actor=actor_for(User.objects.get(username="handler.health")),
        task_id=task.pk,
        materials=[{"code": material.code, "reason": "Please upload a clearer scan."}],
        fields=[{"field": "birth_hospital", "reason": "Does not match the birth record."}],
    )
    cases = list(Case.objects.all())
    mine = [c for c in cases if c.applicant_person_id and c.applicant_person.user_id == li_ming.pk]
    steps += ["/", reverse("cases:list"), reverse("licences:wallet")]
    steps += [reverse("cases:detail", args=[c.number]) for c in mine]
    steps += [
        reverse("cases:supplement", args=[c.number]) for c in mine if c.status == Case.Status.SUPPLEMENT
    ]
    # Who used my data, and the offers the platform made.
    from tongban.proactive.models import Offer

    steps += [reverse("exchange:uses"), reverse("proactive:list")]
    steps += [o.get_absolute_url() for o in Offer.objects.filter(person__user=li_ming)]
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
    # A case is named by its service's English name, not the Chinese title it was stored under.
    assert (
        "Buying a resale home (real-estate transfer bundle)"
        in client.get(reverse("workbench:cases")).content.decode()
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
