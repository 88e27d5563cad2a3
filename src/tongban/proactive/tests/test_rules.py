"""Rules: a malformed condition is refused with its position; a rule failing on one person is logged."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from tongban.proactive.models import LifeEvent, Offer, ProactiveRule, RuleRun
from tongban.proactive.rules import condition_error, condition_matches
from tongban.proactive.services import milestones_sweep
from tongban.proactive.tests.fixtures import person, rule

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 8)


def test_a_syntax_error_is_reported_with_its_position():
    error = condition_error('age >= and district == "310106"')
    assert (error.position, error.line, error.column) == (7, 1, 8)
    assert "'and'" in error.message
    assert condition_error("age >= 65 and (district").position == len("age >= 65 and (district")


def test_an_unknown_name_is_an_error_at_its_place_with_a_suggestion():
    error = condition_error('age >= 65 and distrct == "310106"')
    assert error.position == 14
    assert "distrct" in error.message and "district" in error.message


def test_a_type_error_is_refused():
    assert condition_error("district > 3") is not None
    assert condition_error('age >= 65 and district == "310106"') is None
    assert condition_error("") is None


def test_conditions_match_the_context():
    context = {"age": 70.0, "district": "310106", "event_date": TODAY}
    assert condition_matches('age >= 65 and district == "310106"', context)
    assert not condition_matches('district =~ "^310101"', context)
    assert condition_matches("event_date.month == 3", context)


def test_a_malformed_rule_is_refused_when_saved(city, messaging_templates):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        rule("bad", condition="age >= and sex")
    assert "第 1 行，第 8 列" in refused.value.message_dict["condition"][0]
    assert not ProactiveRule.objects.exists()


def test_a_rule_naming_an_unknown_template_or_service_is_refused(city, messaging_templates):
    with pytest.raises(ValidationError) as refused:
        rule("bad", template="no-such-template", action="offer", service="no-such-service")
    assert set(refused.value.message_dict) == {"template", "service"}


def test_a_rule_failing_on_one_person_is_logged_and_the_sweep_goes_on(city, messaging_templates):
    rule("elderly", condition='district[:4] == "3101"')
    homeless = person("无户籍", datetime.date(1961, 3, 8), district=None)  # district null: slicing it fails
    local = person("王秀英", datetime.date(1961, 3, 8))

    figures = milestones_sweep(today=TODAY)

    assert figures["failures"] == 1
    assert Offer.objects.get().person == local
    run = RuleRun.objects.get()
    assert (run.person, run.outcome) == (homeless, "failed")
    assert "EvaluationError" in run.error
    assert LifeEvent.objects.filter(kind="age_65").count() == 2


def test_an_inactive_rule_does_nothing(city, messaging_templates):
    rule("elderly", active=False)
    person("王秀英", datetime.date(1961, 3, 8))
    milestones_sweep(today=TODAY)
    assert not Offer.objects.exists()
