"""Suggestions that are about the call: guides and FAQ entries of the departments the call is about (or none),
and duplicates proposed by place and content whatever topic each ticket got. Hand-written consultations."""

import sys
import types
from dataclasses import dataclass

import pytest

from tongban.hotline import routing, selectors, services
from tongban.hotline.corpus import corpus_load
from tongban.hotline.knowledge import knowledge_rows
from tongban.hotline.tests.test_tickets import _staff
from tongban.identity.selectors import actor_for

BARBECUE = "复兴中路714弄那家饭店每天夜里烧烤 烟全部飘到弄堂里 窗都不敢开 吵到两点 烦死了"
BARBECUE_AGAIN = "我是住在复兴中路714弄的 楼下饭店天天晚上烧烤 油烟熏得衣服都不能晒 还吵得睡不着"
BARBECUE_ELSEWHERE = "淮海中路那边有个烧烤摊每天夜里烤 烟熏得窗户都不敢开"


@pytest.fixture(scope="module")
def model():
    return routing.train(corpus_load(split="train")[::4] + knowledge_rows())


@pytest.fixture
def catalogue(city):
    from tongban.demo.catalog import catalog_demo_ensure

    catalog_demo_ensure()


def _names(found):
    return [hit["name"] for hit in found]


def test_the_barbecue_smoke_gets_no_birth_or_property_guides(model, catalogue):
    prediction = routing.predict(model, [BARBECUE])[0]
    departments = selectors.likely_departments(prediction)
    assert not departments & {"health", "planning-resources", "public-security"}
    found = selectors.knowledge_for(BARBECUE, departments=departments)
    assert not [name for name in _names(found) if "出生" in name or "不动产" in name]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我老婆刚生了宝宝 出生医学证明在哪里领 户口也要报", "出生"),
        ("老房子卖掉了 过户要去不动产登记中心办吗 要带什么", "不动产"),
    ],
)
def test_a_consultation_still_finds_the_guides_of_its_subject(model, catalogue, text, expected):
    prediction = routing.predict(model, [text])[0]
    found = selectors.knowledge_for(text, departments=selectors.likely_departments(prediction))
    assert any(expected in name for name in _names(found)), (prediction, _names(found))


def test_a_guide_of_another_department_is_not_offered(catalogue):
    everything = selectors.knowledge_for("出生医学证明怎么办")
    assert any("出生" in name for name in _names(everything))
    assert selectors.knowledge_for("出生医学证明怎么办", departments={"tax"}) == []


def test_an_faq_entry_of_another_department_is_not_offered(city):
    user = _staff("disp", "big-data-center", ["dispatcher"])
    entry = services.faq_save(
        actor=actor_for(user),
        question="新生儿怎么办理出生医学证明？",
        answer="在孩子出生的医院申领出生医学证明，带父母双方身份证；也可以在随申办办理新生儿出生一件事。",
        keywords="出生证 新生儿 出生证明",
        department="health",
    )
    text = "孩子出生证明在哪里办"
    assert [hit["code"] for hit in selectors.knowledge_for(text, departments={"health"})][:1] == [
        str(entry.pk)
    ]
    assert [hit for hit in selectors.knowledge_for(text, departments={"tax"}) if hit["kind"] == "faq"] == []


@dataclass
class Prediction:
    department: str
    confidence: float
    top3: list
    topic: str


@pytest.fixture
def two_topics(monkeypatch):
    """A stand-in classifier that gives the two barbecue calls different topics and departments."""
    answers = {
        BARBECUE: Prediction("ecology-environment", 0.95, [], "pollution"),
        BARBECUE_AGAIN: Prediction("urban-management", 0.95, [], "street-order"),
        BARBECUE_ELSEWHERE: Prediction("urban-management", 0.95, [], "street-order"),
    }
    module = types.ModuleType("tongban.hotline.routing")
    module.classify = lambda texts, districts=None: [answers[text] for text in texts]
    monkeypatch.setitem(sys.modules, "tongban.hotline.routing", module)


def test_a_second_call_about_the_same_place_is_a_duplicate_whatever_its_topic(city, two_topics):
    operator = _staff("op", "big-data-center", ["hotline_operator"])

    def take(text):
        return services.ticket_create(
            actor=actor_for(operator),
            channel="phone",
            ticket_type="complaint",
            text=text,
            district_code="310101",
        )

    first = take(BARBECUE)
    again = take(BARBECUE_AGAIN)
    assert (first.topic, again.topic) == ("pollution", "street-order")
    assert again.duplicate_of_id == first.pk
    elsewhere = take(BARBECUE_ELSEWHERE)
    assert elsewhere.duplicate_of_id is None


def test_a_closed_ticket_is_not_a_duplicate_and_the_search_reads_the_open_tickets_index(city, two_topics):
    """The search reads the district's open tickets from the partial index (never the closed history) and
    still finds an open one, not a closed one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tongban.hotline.models import Ticket

    operator = _staff("op", "big-data-center", ["hotline_operator"])
    first = services.ticket_create(
        actor=actor_for(operator),
        channel="phone",
        ticket_type="complaint",
        text=BARBECUE,
        district_code="310101",
    )
    Ticket.objects.filter(pk=first.pk).update(status=Ticket.Status.CLOSED)
    with CaptureQueriesContext(connection) as queries:
        found = selectors.duplicate_candidates(text=BARBECUE_AGAIN, district_id=first.district_id)
    assert found == []
    Ticket.objects.filter(pk=first.pk).update(status=Ticket.Status.DISPATCHED)
    [(found, _score)] = selectors.duplicate_candidates(text=BARBECUE_AGAIN, district_id=first.district_id)
    stored = Ticket.objects.get(pk=first.pk)
    for name in ("pk", "number", "text", "address", "status", "created_at", "district_id", "department_id"):
        assert getattr(found, name) == getattr(stored, name), name
    if (
        connection.vendor == "sqlite"
    ):  # PostgreSQL's planner chooses by its statistics; SQLite's plan is stable
        search = next(q["sql"] for q in queries.captured_queries if "LIKE" in q["sql"])
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {search}")
            plan = " ".join(str(row) for row in cursor.fetchall())
        assert "hotline_ticket_open_place" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
