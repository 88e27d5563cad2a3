"""Rating a case (好差评): only the applicant, only once, only when completed; a bad rating is followed up."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tongban.cases.models import Case
from tongban.core import calendar
from tongban.core.exceptions import Conflict
from tongban.core.models import AuditEntry, OutboxEvent
from tongban.evaluation import selectors, services
from tongban.evaluation.models import Rating
from tongban.identity.selectors import actor_for
from tongban.supervision.models import Rectification
from tongban.supervision.selectors import rectification_for_rating
from tongban.supervision.tests.fixtures import submit

GOOD_SCORES = {"efficiency": 5, "guide_accuracy": 4, "convenience": 5, "ease_of_use": 4}


def test_the_applicant_rates_a_completed_case(completed_case, parent):
    rating = services.rating_submit(
        actor=actor_for(parent), case=completed_case, level=5, scores=GOOD_SCORES, comment="很快"
    )
    assert rating.level == Rating.Level.VERY_SATISFIED
    assert rating.channel == "online" and rating.scores == GOOD_SCORES
    assert rating.department.code == "health"
    assert AuditEntry.objects.filter(action="case.rated", case_id=str(completed_case.pk)).count() == 1
    assert OutboxEvent.objects.filter(name="case.rated", payload__level=5).count() == 1
    assert not Rectification.objects.exists()


def test_only_the_applicant_may_rate(completed_case, citizen, handlers):
    for user in (citizen, handlers["health"]):
        with pytest.raises(PermissionDenied):
            services.rating_submit(actor=actor_for(user), case=completed_case, level=4, scores=GOOD_SCORES)
    assert not Rating.objects.exists()
    assert AuditEntry.objects.filter(action="permission.denied").count() == 2


def test_a_case_is_rated_only_once_it_is_completed(parent, newborn, handlers):
    case = submit(parent, newborn)
    assert case.status == Case.Status.ACCEPTED
    with pytest.raises(Conflict) as caught:
        services.rating_submit(actor=actor_for(parent), case=case, level=5, scores=GOOD_SCORES)
    assert caught.value.code == "case_not_completed"


def test_a_case_is_rated_once(completed_case, parent):
    services.rating_submit(actor=actor_for(parent), case=completed_case, level=4, scores=GOOD_SCORES)
    with pytest.raises(Conflict) as caught:
        services.rating_submit(
            actor=actor_for(parent), case=completed_case, level=1, scores=GOOD_SCORES, comment="改主意了"
        )
    assert caught.value.code == "already_rated"
    assert Rating.objects.get().level == 4
    assert not Rectification.objects.exists()


def test_scores_must_be_the_sub_items_of_the_cases_channel(completed_case, parent):
    with pytest.raises(ValidationError) as caught:
        services.rating_submit(
            actor=actor_for(parent),
            case=completed_case,
            level=9,
            scores={"efficiency": 6, "convenience": "5", "ease_of_use": True, "attitude": 5},
        )
    errors = caught.value.message_dict
    assert set(errors) == {
        "level",
        "scores.efficiency",
        "scores.guide_accuracy",
        "scores.ease_of_use",
        "scores",
    }
    assert not Rating.objects.exists()


def test_window_cases_are_rated_on_the_window_sub_items():
    level, scores, _comment = services.rating_validate(
        channel="window", level="3", scores={"efficiency": 3, "service_level": 4, "attitude": "5"}, comment=""
    )
    assert (level, scores) == (3, {"efficiency": 3, "service_level": 4, "attitude": 5})
    with pytest.raises(ValidationError):
        services.rating_validate(channel="window", level=3, scores=GOOD_SCORES, comment="")


def test_a_bad_rating_needs_a_reason(completed_case, parent):
    with pytest.raises(ValidationError) as caught:
        services.rating_submit(
            actor=actor_for(parent), case=completed_case, level=2, scores=GOOD_SCORES, comment=" "
        )
    assert set(caught.value.message_dict) == {"comment"}


def test_a_dissatisfied_rating_opens_a_rectification_due_in_five_working_days(completed_case, parent):
    rating = services.rating_submit(
        actor=actor_for(parent),
        case=completed_case,
        level=Rating.Level.DISSATISFIED,
        scores=GOOD_SCORES,
        comment="窗口态度差",
    )
    rectification = rectification_for_rating(rating.pk)
    assert rectification is not None
    assert rectification.department.code == "health"  # 谁办理谁负责: the lead department
    assert rectification.due_date == calendar.add_working_days(calendar.today(), 5)
    assert rectification.reason == "窗口态度差"
    assert rectification.case_number == completed_case.number
    assert AuditEntry.objects.filter(action="rectification.opened", case_id=str(completed_case.pk)).exists()
    assert OutboxEvent.objects.filter(name="rectification.opened").exists()


def test_a_rectification_that_cannot_be_opened_leaves_no_rating(completed_case, parent, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("supervision is down")

    monkeypatch.setattr(services, "rectification_open", broken)
    with pytest.raises(RuntimeError):
        services.rating_submit(
            actor=actor_for(parent), case=completed_case, level=1, scores=GOOD_SCORES, comment="太慢"
        )
    assert not Rating.objects.exists()
    assert not AuditEntry.objects.filter(action="case.rated").exists()


def test_the_summary_by_department_for_evaluators(completed_case, parent, supervisor, hrss_head, health_head):
    services.rating_submit(
        actor=actor_for(parent), case=completed_case, level=2, scores=GOOD_SCORES, comment="慢"
    )
    summary = selectors.rating_summary(supervisor)
    assert summary["count"] == 1 and summary["average"] == 2.0 and summary["bad"] == 1
    assert summary["distribution"] == {1: 0, 2: 1, 3: 0, 4: 0, 5: 0}
    assert [row["department"].code for row in summary["departments"]] == ["health"]
    assert selectors.rating_summary(health_head)["count"] == 1
    assert selectors.rating_summary(hrss_head) == {
        "count": 0,
        "average": None,
        "distribution": {1: 0, 2: 0, 3: 0, 4: 0, 5: 0},
        "bad": 0,
        "departments": [],
    }
    assert selectors.rating_summary(parent)["count"] == 0
