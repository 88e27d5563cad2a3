"""The rest of the loop: duplicates and merging, supervision (督办), complex-case extensions, the FAQ knowledge base,
ticket warnings on the supervision page, citizens' tickets and the per-client intake limit."""

import datetime as dt
import sys
import types
from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation
from rest_framework.test import APIClient

from tongban.core.audit import SYSTEM
from tongban.core.events import event_deliver
from tongban.core.exceptions import Conflict
from tongban.core.models import AuditEntry
from tongban.hotline import selectors, services
from tongban.hotline.api import IntakeThrottle
from tongban.hotline.models import FaqEntry, Ticket
from tongban.identity import services as identity
from tongban.identity.reference import branch_code
from tongban.identity.selectors import actor_for, department_get
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.supervision.models import Warning
from tongban.supervision.selectors import warning_list

NOISE = "黄浦区南京东路附近工地晚上十一点还在施工，噪音太大，睡不着觉"
NOISE_AGAIN = "南京东路那个工地半夜还在施工，吵得睡不着"
NOISE_ELSEWHERE = "黄浦区延安东路附近工地凌晨三点还在施工，敲敲打打"
REPLY = "已责令南京东路工地停止夜间施工，城管队员今晚到现场检查噪音。"


@dataclass
class Prediction:
    department: str
    confidence: float
    top3: list
    topic: str


@pytest.fixture
def routing(monkeypatch):
    """A stand-in classifier: every text is night construction noise for urban management."""
    module = types.ModuleType("tongban.hotline.routing")
    module.classify = lambda texts, districts=None: [
        Prediction("urban-management", 0.93, [], "noise-construction") for _ in texts
    ]
    monkeypatch.setitem(sys.modules, "tongban.hotline.routing", module)


def _staff(username, department, roles):
    user = identity.user_create(actor=SYSTEM, username=username, password=None, check_password=False)
    identity.staff_create(actor=SYSTEM, user=user, department=department_get(department), roles=roles)
    return user


@pytest.fixture
def people(city):
    return {
        "operator": _staff("op", "big-data-center", ["hotline_operator"]),
        "dispatcher": _staff("disp", "big-data-center", ["dispatcher"]),
        "supervisor": _staff("sup", "big-data-center", ["supervisor"]),
        "handler": _staff("um.huangpu", branch_code("urban-management", "310101"), ["dept_handler"]),
        "other": _staff("water.huangpu", branch_code("water", "310101"), ["dept_handler"]),
    }


def _take(people, text=NOISE, **extra):
    values = {"channel": "phone", "ticket_type": "complaint", "text": text, "district_code": "310101"}
    values.update(extra)
    return services.ticket_create(actor=actor_for(people["operator"]), **values)


def _client(user):
    client = APIClient()
    login_with_second_factor(client, user)
    return client


# --- duplicates -------------------------------------------------------------------------------------------


def test_a_second_ticket_about_the_same_problem_at_the_same_place_is_proposed_for_merging(routing, people):
    first = _take(people)
    assert first.status == Ticket.Status.DISPATCHED and first.topic == "noise-construction"
    again = _take(people, NOISE_AGAIN)
    assert again.duplicate_of_id == first.pk
    assert again.status == Ticket.Status.DISPATCHING  # a dispatcher decides: merge or dispatch
    elsewhere = _take(people, NOISE_ELSEWHERE)
    assert elsewhere.duplicate_of_id is None and elsewhere.status == Ticket.Status.DISPATCHED
    other_district = _take(people, NOISE_AGAIN, district_code="310104")
    assert other_district.duplicate_of_id is None
    similar = selectors.similar_tickets(text=NOISE_AGAIN, district_code="310101", topic="noise-construction")
    assert first in similar and elsewhere not in similar


def test_a_merged_ticket_follows_the_first_and_its_caller_is_called_back(routing, people):
    first = _take(people)
    again = _take(people, NOISE_AGAIN, contact_phone="13900001111")
    with pytest.raises(PermissionDenied):
        services.ticket_merge(actor=actor_for(people["handler"]), ticket=again, into=first)
    with pytest.raises(ValidationError):
        services.ticket_merge(actor=actor_for(people["dispatcher"]), ticket=again, into=again)
    merged = services.ticket_merge(actor=actor_for(people["dispatcher"]), ticket=again, into=first)
    assert merged.status == Ticket.Status.MERGED and merged.merged_into_id == first.pk
    assert first.steps.filter(kind="merged_in", note=again.number).exists()
    services.ticket_reply(actor=actor_for(people["handler"]), ticket=first, reply=REPLY)
    again.refresh_from_db()
    assert again.status == Ticket.Status.REPLIED and again.reply == REPLY
    closed = services.ticket_callback(actor=actor_for(people["operator"]), ticket=again, satisfaction=5)
    assert closed.status == Ticket.Status.CLOSED
    assert AuditEntry.objects.filter(action="ticket.merged", subject_id=str(again.pk)).exists()


def test_merging_into_a_closed_ticket_is_refused_and_not_a_duplicate_drops_the_proposal(routing, people):
    first = _take(people)
    again = _take(people, NOISE_AGAIN)
    services.ticket_reply(actor=actor_for(people["handler"]), ticket=first, reply=REPLY)
    with pytest.raises(Conflict):
        services.ticket_merge(actor=actor_for(people["dispatcher"]), ticket=again, into=first)
    kept = services.ticket_not_duplicate(actor=actor_for(people["dispatcher"]), ticket=again)
    assert kept.duplicate_of_id is None and kept.status == Ticket.Status.DISPATCHING
    with pytest.raises(Conflict):
        services.ticket_not_duplicate(actor=actor_for(people["dispatcher"]), ticket=again)


# --- supervision and extensions -----------------------------------------------------------------------------


def test_a_supervisor_supervises_an_open_ticket_and_the_department_sees_it_first(routing, people):
    plain = _take(people, NOISE_ELSEWHERE)
    pressed = _take(people, "黄浦区福州路饭店油烟很大，已经反映过好几次了", district_code="310101")
    with pytest.raises(ValidationError) as error:
        services.ticket_supervise(actor=actor_for(people["supervisor"]), ticket=pressed, note=" ")
    assert "note" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        services.ticket_supervise(actor=actor_for(people["handler"]), ticket=pressed, note="三天内办结")
    services.ticket_supervise(
        actor=actor_for(people["supervisor"]), ticket=pressed, note="三天内办结并回复市民"
    )
    tickets = list(selectors.department_tickets(people["handler"]))
    assert [t.number for t in tickets][:1] == [pressed.number] and plain in tickets
    assert [t.number for t in selectors.supervised_tickets(people["supervisor"])] == [pressed.number]
    services.ticket_reply(
        actor=actor_for(people["handler"]), ticket=pressed, reply="已到福州路饭店检查油烟，责令安装净化设备。"
    )
    with pytest.raises(Conflict):
        services.ticket_supervise(actor=actor_for(people["supervisor"]), ticket=pressed, note="again")


def test_a_complex_ticket_gets_15_working_days_only_when_a_supervisor_approves(routing, people):
    now = dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC)
    ticket = _take(people, now=now)
    five_day_due = ticket.due_date
    with pytest.raises(ValidationError):
        services.ticket_extension_request(actor=actor_for(people["handler"]), ticket=ticket, reason="难")
    with pytest.raises(PermissionDenied):
        services.ticket_extension_request(
            actor=actor_for(people["other"]), ticket=ticket, reason="涉及多个部门，需要联合执法调查"
        )
    services.ticket_extension_request(
        actor=actor_for(people["handler"]), ticket=ticket, reason="涉及多个部门，需要联合执法调查"
    )
    with pytest.raises(Conflict):
        services.ticket_extension_request(
            actor=actor_for(people["handler"]), ticket=ticket, reason="涉及多个部门，需要联合执法调查"
        )
    assert [t.number for t in selectors.extension_requests(people["supervisor"])] == [ticket.number]
    with pytest.raises(PermissionDenied):
        services.ticket_extension_decide(actor=actor_for(people["handler"]), ticket=ticket, approve=True)
    approved = services.ticket_extension_decide(
        actor=actor_for(people["supervisor"]), ticket=ticket, approve=True
    )
    assert approved.limit_days == 15 and approved.extension == Ticket.Extension.APPROVED
    # Counted from the working day after intake: 5 days end on 9 November, 15 on 23 November.
    assert five_day_due == dt.date(2026, 11, 9) and approved.due_date == dt.date(2026, 11, 23)
    with pytest.raises(Conflict):
        services.ticket_extension_decide(actor=actor_for(people["supervisor"]), ticket=ticket, approve=True)


def test_a_refused_extension_needs_a_reason_and_keeps_the_limit_and_urgent_tickets_cannot_ask(
    routing, people
):
    ticket = _take(people)
    services.ticket_extension_request(
        actor=actor_for(people["handler"]), ticket=ticket, reason="需要第三方检测噪音，时间较长"
    )
    with pytest.raises(ValidationError):
        services.ticket_extension_decide(actor=actor_for(people["supervisor"]), ticket=ticket, approve=False)
    refused = services.ticket_extension_decide(
        actor=actor_for(people["supervisor"]), ticket=ticket, approve=False, note="五个工作日内可以办结"
    )
    assert refused.extension == Ticket.Extension.REFUSED and refused.limit_days == 5
    urgent = _take(people, NOISE_ELSEWHERE, urgency="urgent")
    with pytest.raises(Conflict):
        services.ticket_extension_request(
            actor=actor_for(people["handler"]), ticket=urgent, reason="需要第三方检测噪音，时间较长"
        )


def test_ticket_warnings_show_on_the_supervision_page_once(routing, people):
    now = dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC)
    ticket = _take(people, now=now)
    counts = _ticket_cards(dt.date(2026, 11, 10))
    assert counts["red"] == 1
    event_deliver()
    event_deliver()  # a second delivery run finds nothing new
    warnings = Warning.objects.filter(subject_type=Warning.SubjectType.TICKET)
    assert warnings.count() == 1
    warning = warnings.get()
    assert warning.case_number == ticket.number and warning.level == "red"
    assert warning.due_date == ticket.due_date
    assert list(warning_list(people["supervisor"])) == [warning]
    assert _ticket_cards(dt.date(2026, 11, 11)) == {"yellow": 0, "red": 0}  # raised once
    assert warnings.count() == 1


# --- the knowledge base ----------------------------------------------------------------------------------


@pytest.fixture
def faq(people):
    return services.faq_save(
        actor=actor_for(people["dispatcher"]),
        question="新生儿怎么办理出生医学证明？",
        answer="在孩子出生的医院申领出生医学证明，带父母双方身份证；也可以在随申办办理新生儿出生一件事。",
        keywords="出生证 新生儿 出生证明",
        department="health",
    )


def test_faq_entries_are_checked_field_by_field(people, faq):
    with pytest.raises(PermissionDenied):
        services.faq_save(actor=actor_for(people["handler"]), question="问", answer="答" * 20)
    with translation.override("en"), pytest.raises(ValidationError) as error:
        services.faq_save(
            actor=actor_for(people["dispatcher"]),
            question=faq.question,
            answer="短",
            department="no-such",
            service_code="nope",
        )
    assert set(error.value.message_dict) == {"question", "answer", "department", "service_code"}
    assert "already" in error.value.message_dict["question"][0]
    assert FaqEntry.objects.count() == 1


def test_a_caller_sentence_finds_the_faq_and_answers_the_consultation_at_first_contact(routing, people, faq):
    found = selectors.faq_search("你好，我家孩子刚出生，出生证明去哪里办？")
    assert found == [faq]
    assert selectors.faq_search("公积金怎么提取") == []
    assert selectors.knowledge_for("出生证明怎么办")[0]["kind"] == "faq"
    ticket = _take(people, "孩子出生证明在哪里办", ticket_type="consult", faq=str(faq.pk))
    assert ticket.status == Ticket.Status.ANSWERED and ticket.answer == faq.answer and ticket.faq == faq
    assert selectors.first_contact_rate() == {"consultations": 1, "answered": 1, "rate": 1.0}
    with pytest.raises(ValidationError) as error:
        _take(people, "孩子出生证明在哪里办", ticket_type="consult", faq="not-a-uuid")
    assert "faq" in error.value.message_dict
    services.faq_save(
        actor=actor_for(people["dispatcher"]),
        entry=faq,
        question=faq.question,
        answer=faq.answer,
        active=False,
    )
    assert selectors.faq_search("出生证明") == []


# --- API: citizens, the intake limit, the new actions ---------------------------------------------------------


def test_a_citizen_sends_a_ticket_from_the_app_and_sees_only_their_own(routing, people, citizen):
    client = _client(citizen)
    created = client.post(
        "/api/v1/my/tickets/",
        {"ticket_type": "complaint", "text": NOISE, "district": "310101", "channel": "mini_program"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    ticket = Ticket.objects.get(number=created.json()["number"])
    assert ticket.caller.name == "李明" and ticket.channel == "mini_program" and ticket.contact_phone
    _take(people, NOISE_ELSEWHERE)
    mine = client.get("/api/v1/my/tickets/").json()
    assert [t["number"] for t in mine] == [ticket.number]
    bad = client.post(
        "/api/v1/my/tickets/", {"ticket_type": "complaint", "text": " ", "channel": "app"}, format="json"
    )
    assert bad.status_code == 400 and "text" in bad.json()["errors"]
    phone = client.post(
        "/api/v1/my/tickets/", {"ticket_type": "complaint", "text": NOISE, "channel": "phone"}, format="json"
    )
    assert phone.status_code == 400 and "channel" in phone.json()["errors"]
    assert Ticket.objects.count() == 2
    assert client.get("/api/v1/tickets/").status_code == 403


def test_a_flood_from_one_client_gets_429_and_every_accepted_request_is_a_ticket(
    routing, people, monkeypatch
):
    monkeypatch.setattr(
        IntakeThrottle, "THROTTLE_RATES", {**IntakeThrottle.THROTTLE_RATES, "tickets": "3/minute"}
    )
    client = _client(people["operator"])
    answers = [
        client.post(
            "/api/v1/tickets/",
            {"ticket_type": "suggestion", "text": f"建议{i}：南京东路增加垃圾桶"},
            format="json",
        )
        for i in range(6)
    ]
    assert [a.status_code for a in answers] == [201, 201, 201, 429, 429, 429]
    assert answers[3].headers.get("Retry-After")
    assert Ticket.objects.count() == 3
    assert client.get("/api/v1/tickets/").status_code == 200  # reading is not limited by the intake rate
    other = _client(people["dispatcher"])
    assert (
        other.post(
            "/api/v1/tickets/", {"ticket_type": "suggestion", "text": "建议增加公交线路"}, format="json"
        ).status_code
        == 201
    )


def test_merge_supervise_and_extension_through_the_api(routing, people):
    first, again = _take(people), _take(people, NOISE_AGAIN)
    dispatcher = _client(people["dispatcher"])
    assert dispatcher.get(f"/api/v1/tickets/{again.number}/").json()["duplicate_of"] == first.number
    bad = dispatcher.post(f"/api/v1/tickets/{again.number}/merge/", {"into": "nope"}, format="json")
    assert bad.status_code == 400 and "into" in bad.json()["errors"]
    merged = dispatcher.post(f"/api/v1/tickets/{again.number}/merge/", {"into": first.number}, format="json")
    assert merged.status_code == 200 and merged.json()["merged_into"] == first.number
    handler = _client(people["handler"])
    asked = handler.post(
        f"/api/v1/tickets/{first.number}/extension/", {"reason": "需要联合执法，协调多个部门"}, format="json"
    )
    assert asked.json()["extension"] == "requested"
    supervisor = _client(people["supervisor"])
    assert (
        supervisor.post(f"/api/v1/tickets/{first.number}/supervise/", {"note": ""}, format="json").status_code
        == 400
    )
    assert supervisor.post(
        f"/api/v1/tickets/{first.number}/supervise/", {"note": "本周内办结"}, format="json"
    ).json()["supervised_at"]
    approved = supervisor.post(f"/api/v1/tickets/{first.number}/extension-approve/", {}, format="json")
    assert approved.json()["extension"] == "approved"
    assert (
        handler.post(f"/api/v1/tickets/{first.number}/supervise/", {"note": "x"}, format="json").status_code
        == 403
    )


def test_faq_api_search_and_add(routing, people, faq):
    operator = _client(people["operator"])
    assert [e["question"] for e in operator.get("/api/v1/hotline/faq/", {"q": "出生证明去哪办"}).json()] == [
        faq.question
    ]
    assert (
        operator.post("/api/v1/hotline/faq/", {"question": "q", "answer": "a"}, format="json").status_code
        == 403
    )
    dispatcher = _client(people["dispatcher"])
    bad = dispatcher.post("/api/v1/hotline/faq/", {"question": "居住证怎么办", "answer": "短"}, format="json")
    assert bad.status_code == 400 and "answer" in bad.json()["errors"]
    made = dispatcher.post(
        "/api/v1/hotline/faq/",
        {
            "question": "居住证怎么办理？",
            "answer": "到居住地的社区事务受理服务中心登记，满半年可申领居住证。",
        },
        format="json",
    )
    assert made.status_code == 201 and FaqEntry.objects.count() == 2


# --- pages ----------------------------------------------------------------------------------------------------


def test_the_ticket_page_proposes_the_merge_and_the_dispatcher_merges(routing, people, client):
    first, again = _take(people), _take(people, NOISE_AGAIN)
    login_with_second_factor(client, people["dispatcher"])
    client.cookies["django_language"] = "en"
    page = client.get(f"/workbench/hotline/tickets/{again.number}/")
    assert "Possible duplicate" in page.content.decode() and first.number in page.content.decode()
    response = client.post(
        f"/workbench/hotline/tickets/{again.number}/", {"action": "merge", "into": first.number}
    )
    assert response.status_code == 302
    again.refresh_from_db()
    assert again.status == Ticket.Status.MERGED


def test_faq_pages_keep_the_knowledge_base(people, client):
    login_with_second_factor(client, people["dispatcher"])
    client.cookies["django_language"] = "en"
    bad = client.post("/workbench/hotline/faq/new/", {"question": "", "answer": "x"})
    assert bad.status_code == 200 and "Write the question" in bad.content.decode()
    good = client.post(
        "/workbench/hotline/faq/new/",
        {"question": "居住证怎么办理？", "answer": "到居住地的社区事务受理服务中心登记。", "active": "on"},
    )
    assert good.status_code == 302
    entry = FaqEntry.objects.get()
    assert entry.active and "居住证" in entry.search_text
    assert "居住证怎么办理" in client.get("/workbench/hotline/faq/").content.decode()
    login_with_second_factor(client, people["handler"])
    assert client.get("/workbench/hotline/faq/").status_code == 403


def test_the_menu_opens_the_hotline_page_each_role_may_use(people, client):
    client.cookies["django_language"] = "en"
    landing = {
        "operator": "/workbench/hotline/",
        "dispatcher": "/workbench/hotline/",
        "handler": "/workbench/hotline/tickets/",
        "supervisor": "/workbench/hotline/overview/",
    }
    for role, url in landing.items():
        login_with_second_factor(client, people[role])
        html = client.get("/workbench/").content.decode()
        assert f'<a class="tb-nav-link" href="{url}">' in html, role
    page = client.get("/workbench/hotline/overview/").content.decode()  # the supervisor's
    assert "Blind spots" in page and "Take a request" not in page


def test_a_ticket_number_already_taken_is_drawn_again(routing, people, monkeypatch):
    first = _take(people)
    numbers = iter([first.number, first.number, "123452611289999999"])
    monkeypatch.setattr(services, "_number", lambda now: next(numbers))
    second = _take(people, NOISE_ELSEWHERE)
    assert second.number == "123452611289999999" and Ticket.objects.count() == 2


# --- attachments ------------------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _upload(name, data, content_type="image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def test_attachments_are_checked_by_their_bytes_and_nothing_is_written_for_a_bad_one(
    routing, people, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ValidationError) as error:
        _take(
            people, attachments=[_upload("photo.png", PNG), _upload("evil.png", b"<script>alert(1)</script>")]
        )
    assert list(error.value.message_dict) == ["attachments"] and "evil.png" in error.value.messages[0]
    assert not Ticket.objects.exists()
    too_many = [_upload(f"p{i}.png", PNG) for i in range(6)]
    with pytest.raises(ValidationError):
        _take(people, attachments=too_many)
    ticket = _take(people, attachments=[_upload("../../工地照片.png", PNG, "application/octet-stream")])
    stored = ticket.attachments.get()
    assert stored.name == "工地照片.png" and stored.content_type == "image/png" and stored.size == len(PNG)
    assert ".." not in stored.file.name and stored.file.read() == PNG


def test_attachments_through_the_api_and_who_may_download_them(routing, people, settings, tmp_path, client):
    settings.MEDIA_ROOT = tmp_path
    operator = _client(people["operator"])
    bad = operator.post(
        "/api/v1/tickets/",
        {
            "ticket_type": "complaint",
            "text": NOISE,
            "district": "310101",
            "attachments": [_upload("x.png", b"GIF89a")],
        },
        format="multipart",
    )
    assert bad.status_code == 400 and "attachments" in bad.json()["errors"] and not Ticket.objects.exists()
    made = operator.post(
        "/api/v1/tickets/",
        {
            "ticket_type": "complaint",
            "text": NOISE,
            "district": "310101",
            "attachments": [_upload("a.png", PNG)],
        },
        format="multipart",
    )
    assert made.status_code == 201 and made.json()["attachments"][0]["content_type"] == "image/png"
    ticket = Ticket.objects.get()
    url = f"/workbench/hotline/tickets/{ticket.number}/attachments/{ticket.attachments.get().pk}/"
    login_with_second_factor(client, people["handler"])
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert AuditEntry.objects.filter(action="ticket.attachment_read", ticket_id=str(ticket.pk)).count() == 1
    login_with_second_factor(client, people["other"])  # another department
    assert client.get(url).status_code == 404


def test_a_supervised_ticket_is_due_within_3_working_days_and_goes_red_after(routing, people):
    now = dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC)  # Monday
    ticket = _take(people, now=now)
    services.ticket_extension_request(
        actor=actor_for(people["handler"]), ticket=ticket, reason="需要联合执法，协调多个部门", now=now
    )
    services.ticket_extension_decide(
        actor=actor_for(people["supervisor"]), ticket=ticket, approve=True, now=now
    )
    pressed = services.ticket_supervise(
        actor=actor_for(people["supervisor"]), ticket=ticket, note="三天内回复", now=now
    )
    assert pressed.supervision_due == dt.date(2026, 11, 5) and pressed.due_date == dt.date(2026, 11, 23)
    assert _ticket_cards(dt.date(2026, 11, 4)) == {"yellow": 0, "red": 0}
    assert _ticket_cards(dt.date(2026, 11, 5)) == {"yellow": 1, "red": 0}
    assert _ticket_cards(dt.date(2026, 11, 6)) == {"yellow": 0, "red": 1}


def test_a_reopened_ticket_gets_3_working_days(routing, people):
    now = dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC)
    ticket = _take(people, now=now)
    services.ticket_reply(actor=actor_for(people["handler"]), ticket=ticket, reply=REPLY, now=now)
    services.ticket_callback(actor=actor_for(people["operator"]), ticket=ticket, satisfaction=1, now=now)
    reopened = services.ticket_reopen(
        actor=actor_for(people["operator"]),
        ticket=ticket,
        reason="晚上还在施工",
        now=dt.datetime(2026, 11, 3, 10, tzinfo=dt.UTC),
    )
    assert reopened.limit_days == 3 and reopened.due_date == dt.date(2026, 11, 6)


def test_an_unsatisfied_caller_opens_a_rectification_for_the_department_once(routing, people, client):
    from tongban.supervision.models import Rectification

    ticket = _take(people)
    services.ticket_reply(actor=actor_for(people["handler"]), ticket=ticket, reply=REPLY)
    services.ticket_callback(
        actor=actor_for(people["operator"]), ticket=ticket, satisfaction=2, note="还是很吵"
    )
    event_deliver()
    event_deliver()
    rectification = Rectification.objects.get()
    assert rectification.subject_type == "ticket" and rectification.case_number == ticket.number
    assert rectification.department_id == ticket.department_id and rectification.case_id is None
    assert "2/5" in rectification.reason and "还是很吵" in rectification.reason
    login_with_second_factor(client, people["supervisor"])
    client.cookies["django_language"] = "en"
    page = client.get("/workbench/supervision/rectifications/").content.decode()
    assert ticket.number in page and "12345 ticket" in page
    # A satisfied caller, after a reopening, opens none.
    services.ticket_reopen(actor=actor_for(people["operator"]), ticket=ticket, reason="还是很吵")
    services.ticket_reply(actor=actor_for(people["handler"]), ticket=ticket, reply=REPLY)
    services.ticket_callback(actor=actor_for(people["operator"]), ticket=ticket, satisfaction=4)
    event_deliver()
    assert Rectification.objects.count() == 1


def test_nul_bytes_in_any_field_are_dropped_not_a_database_error(routing, people):
    ticket = _take(
        people,
        address="南京\x00东路",
        contact_name="李\x00明",
        contact_phone="138\x0012345678",
    )
    assert (ticket.address, ticket.contact_name, ticket.contact_phone) == ("南京东路", "李明", "13812345678")
    services.ticket_return(actor=actor_for(people["handler"]), ticket=ticket, reason="不是\x00我们的")
    assert ticket.steps.get(kind="returned").note == "不是我们的"
    consult = _take(people, "孩子出生证明在哪里办", ticket_type="consult", answer="到医院\x00办理")
    assert consult.answer == "到医院办理"


def _ticket_cards(today):
    """The cards supervision's deadline job (one policy for cases, tasks and tickets) raised on tickets."""
    from tongban.supervision.services import deadlines_check

    counts = deadlines_check(today=today)
    return {"yellow": counts["tickets_yellow"], "red": counts["tickets_red"]}
