"""Service designers: rule pages and API (catalog.design), the condition checked with its position, dry run."""

import datetime

import pytest
from django.urls import reverse

from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.proactive.models import LifeEvent, Offer, ProactiveRule
from tongban.proactive.selectors import rule_dry_run
from tongban.proactive.tests.fixtures import person, rule

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 8)


@pytest.fixture
def elderly(city, messaging_templates):
    rule("elderly", condition='district == "310101"')
    person("王秀英", datetime.date(1961, 3, 8), district="310101")
    person("赵丽", datetime.date(1961, 3, 8), district="310104")
    person("不到", datetime.date(1961, 3, 9), district="310101")


def test_the_dry_run_lists_who_would_be_reached_and_why_without_acting(elderly):
    result = rule_dry_run(trigger="age_65", condition='district == "310101"', today=TODAY)
    assert (result["candidates"], result["matched"]) == (2, 1)
    matched = [row for row in result["rows"] if row.matched]
    assert matched[0].subject == "王**"
    assert matched[0].values == {"district": "310101"}
    assert matched[0].subject_id.startswith("310") and "*" in matched[0].subject_id
    assert matched[0].recipients == ["王**"]
    assert not LifeEvent.objects.exists() and not Offer.objects.exists()


def test_the_dry_run_of_a_malformed_condition_names_the_position(elderly):
    from django.utils import translation

    with translation.override("zh-hans"):
        result = rule_dry_run(trigger="age_65", condition="age >=", today=TODAY)
    assert result["position"] == 6 and "第 1 行，第 7 列" in result["error"]


def test_rule_pages_are_for_designers(client, elderly, designer, staff_user, citizen):
    client.force_login(citizen)
    assert client.get(reverse("proactive:rules")).status_code == 403
    login_with_second_factor(client, staff_user)
    assert client.get(reverse("proactive:rules")).status_code == 403
    login_with_second_factor(client, designer)
    page = client.get(reverse("proactive:rules"))
    assert page.status_code == 200
    assert "elderly" in page.content.decode()
    dry = client.get(reverse("proactive:rule-dry-run", args=["elderly"]), {"today": TODAY.isoformat()})
    assert dry.status_code == 200
    assert "王**" in dry.content.decode() and "赵*" in dry.content.decode()


def test_the_rule_form_refuses_a_malformed_condition_with_its_position(client, elderly, designer):
    login_with_second_factor(client, designer)
    data = {
        "name_zh": "老年津贴",
        "trigger": "age_65",
        "condition": 'age >= 65 and distrct == "310101"',
        "action": "notify",
        "topic": "elderly",
        "template": "elderly-allowance-granted",
        "service": "",
        "active": "on",
        "save": "1",
    }
    refused = client.post(reverse("proactive:rule-edit", args=["elderly"]), data)
    assert refused.status_code == 400
    assert "第 15 列" in refused.content.decode()
    assert ProactiveRule.objects.get(code="elderly").condition == 'district == "310101"'

    data["condition"] = 'district == "310104"'
    dry = client.post(
        reverse("proactive:rule-edit", args=["elderly"]), {**data, "dry_run": "1", "today": TODAY.isoformat()}
    )
    assert dry.status_code == 200
    assert "赵*" in dry.content.decode()
    assert ProactiveRule.objects.get(code="elderly").condition == 'district == "310101"'  # not saved

    saved = client.post(reverse("proactive:rule-edit", args=["elderly"]), data)
    assert saved.status_code == 302
    assert ProactiveRule.objects.get(code="elderly").condition == 'district == "310104"'


def test_the_rules_api_is_for_designers_and_dry_runs(client, elderly, designer, citizen):
    client.force_login(citizen)
    assert client.get("/api/v1/proactive/rules/").status_code == 403
    login_with_second_factor(client, designer)
    listing = client.get("/api/v1/proactive/rules/")
    assert listing.status_code == 200
    assert [r["code"] for r in listing.json()["results"]] == ["elderly"]

    url = "/api/v1/proactive/rules/elderly/dry-run/"
    dry = client.post(url, {"today": TODAY.isoformat()}, content_type="application/json")
    assert dry.status_code == 200
    assert (dry.json()["candidates"], dry.json()["matched"]) == (2, 1)
    other = client.post(
        url, {"today": TODAY.isoformat(), "condition": "age >= 60"}, content_type="application/json"
    )
    assert other.json()["matched"] == 2
    bad = client.post(url, {"condition": "age >="}, content_type="application/json")
    assert bad.status_code == 400
    assert "第 7 列" in bad.content.decode()
