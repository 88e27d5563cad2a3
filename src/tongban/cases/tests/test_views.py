"""The portal's case pages: apply, my cases, a case, supplement, withdraw and public tracking."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from tongban.cases import services
from tongban.cases.forms import form_data_from_post, form_sections
from tongban.cases.models import Case
from tongban.cases.receipts import tracking_path
from tongban.catalog import services as catalog
from tongban.catalog.models import PublicationStatus
from tongban.core.audit import SYSTEM
from tongban.core.ids import make_credit_code
from tongban.core.tests.accessibility import assert_accessible
from tongban.identity import services as identity
from tongban.identity.selectors import actor_for, department_get, organisations_for
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.workflow.models import Task
from tongban.workflow.tests.fixtures import MOTHER_ID, newborn_files, newborn_form, pdf_upload

pytestmark = pytest.mark.django_db

APPLY_URL = "/cases/apply/bundle/newborn/"
MATERIAL = "materials.parents-marriage-certificate"


def _post_data(key="key-1", **overrides):
    data = {"idempotency_key": key, "applicant": "person", **newborn_form(**overrides)}
    data[MATERIAL] = pdf_upload("marriage.pdf")
    return data


def _submit(user, newborn):
    return services.case_submit(
        actor=actor_for(user), service=newborn, form_data=newborn_form(), files=newborn_files()
    )


def _open(case, step):
    return Task.objects.get(case_id=case.pk, bpmn_id=step, state__in=Task.OPEN_STATES)


def _zh(message):
    with translation.override("zh-hans"):
        return str(translation.gettext(message))


# --- applying --------------------------------------------------------------------------------------------


def test_the_apply_page_renders_the_form_fields_and_the_material_inputs(client, parent, newborn):
    client.force_login(parent)
    response = client.get(APPLY_URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<input[^>]+type="text"[^>]+name="baby_name"[^>]+maxlength="20"', html)
    assert re.search(r'<input[^>]+type="date"[^>]+name="birth_date"', html)
    assert re.search(r'name="mother_resident_id"[^>]+pattern="\^\[0-9\]\{17\}\[0-9X\]\$"', html)
    assert "新生儿姓名" in html and "出生医院" in html
    assert re.search(rf'<input[^>]+type="file"[^>]+name="{re.escape(MATERIAL)}"[^>]+required', html)
    assert "父母结婚证" in html
    assert re.search(r'name="idempotency_key" value="[0-9a-f]{32}"', html)
    assert 'class="tb-required"' in html
    assert_accessible(html, "zh-Hans")


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(client, newborn):
    response = client.get(APPLY_URL)
    assert response.status_code == 302
    assert reverse("identity:login") in response["Location"]


def test_an_unknown_service_is_not_found(client, parent, newborn):
    client.force_login(parent)
    assert client.get("/cases/apply/bundle/no-such-bundle/").status_code == 404
    assert client.get("/cases/apply/item/no-such-item/").status_code == 404


def test_a_user_without_a_resident_record_is_told_why_they_cannot_apply(client, newborn):
    user = identity.user_create(
        actor=SYSTEM, username="no.record", password="x-pass-2026", check_password=False
    )
    client.force_login(user)
    response = client.get(APPLY_URL)
    assert response.status_code == 403
    assert "12345" in response.content.decode()


def test_a_valid_application_creates_one_case_and_shows_it_with_the_receipt_link(client, parent, newborn):
    client.force_login(parent)
    response = client.post(APPLY_URL, _post_data())
    assert Case.objects.count() == 1
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.number])
    assert case.applicant_person.resident_id == MOTHER_ID
    assert case.form_data["baby_name"] == "李小明"
    html = client.get(response["Location"]).content.decode()
    assert case.number in html
    assert f'href="{reverse("cases:receipt", args=[case.number])}"' in html
    receipt = reverse("cases:receipt", args=[case.number])
    assert re.search(rf'class="alert alert-success[^"]*">[^<]*{case.number}[^<]*<a href="{receipt}">', html)


def test_submitting_twice_with_the_same_key_makes_one_case(client, parent, newborn):
    client.force_login(parent)
    first = client.post(APPLY_URL, _post_data(key="same-key"))
    second = client.post(APPLY_URL, _post_data(key="same-key"))
    assert Case.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_a_bad_field_is_shown_beside_it_with_what_was_typed_and_nothing_is_written(client, parent, newborn):
    client.force_login(parent)
    response = client.post(APPLY_URL, _post_data(mother_resident_id="123"))
    html = response.content.decode()
    assert response.status_code == 200
    assert Case.objects.count() == 0
    assert Task.objects.count() == 0
    error = re.search(r'<div id="field-mother_resident_id-error"[^>]*>(.*?)</div>', html, re.S)
    assert error and _zh("Enter a value in the expected format.") in error.group(1)
    assert re.search(r'name="mother_resident_id" value="123"[^>]+aria-invalid="true"', html)
    assert 'value="李小明"' in html  # what the applicant typed is kept
    assert 'name="idempotency_key" value="key-1"' in html
    assert 'href="#field-mother_resident_id"' in html  # the error summary links to the field


def test_a_missing_material_shows_its_message(client, parent, newborn):
    client.force_login(parent)
    data = _post_data()
    del data[MATERIAL]
    response = client.post(APPLY_URL, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert Case.objects.count() == 0
    error = re.search(r'<div id="material-parents-marriage-certificate-error"[^>]*>(.*?)</div>', html, re.S)
    assert error and "父母结婚证" in error.group(1)


def test_a_forged_applicant_choice_is_refused_without_writing(client, parent, newborn):
    client.force_login(parent)
    response = client.post(
        APPLY_URL, _post_data(applicant="organisation:00000000-0000-0000-0000-000000000000")
    )
    assert response.status_code == 200
    assert Case.objects.count() == 0


SHOP_SCHEMA = {
    "type": "object",
    "properties": {
        "shop_name": {"type": "string", "title": "店铺名称", "maxLength": 50},
        "category": {"type": "string", "title": "经营类别", "enum": ["retail", "catering"]},
        "seats": {"type": "integer", "title": "座位数", "minimum": 0, "maximum": 500},
        "has_branch": {"type": "boolean", "title": "开设分店"},
    },
    "required": ["shop_name", "category", "seats"],
}


@pytest.fixture
def shop_item(newborn):
    """A licence for organisations with a required, a conditional and an optional material."""
    return catalog.item_create(
        actor=SYSTEM,
        code="310100-mr-food-shop",
        basic_code="310100-mr-food-shop",
        name_zh="食品经营许可",
        name_en="Food business licence",
        item_type="licence",
        legal_basis="《食品安全法》",
        department=department_get("health"),
        service_object="organisation",
        legal_limit_days=20,
        promised_limit_days=10,
        handling_modes=["online"],
        result_type="document",
        result_name="食品经营许可证",
        form_schema=SHOP_SCHEMA,
        form_ui={
            "order": ["shop_name", "category", "seats", "has_branch"],
            "widgets": {"category": {"labels": {"retail": "零售"}}},
        },
        materials=[
            {"code": "lease", "name": "经营场所租赁合同", "necessity": "required"},
            {
                "code": "branch-authorisation",
                "name": "总店授权书",
                "necessity": "conditional",
                "condition": "开设分店的",
                "condition_field": "has_branch",
            },
            {"code": "floor-plan", "name": "平面布局图", "necessity": "optional"},
        ],
        status=PublicationStatus.PUBLISHED,
    )


@pytest.fixture
def agent(city):
    """An enterprise agent acting for two companies."""
    user = identity.user_create(
        actor=SYSTEM, username="agent.zhao", password="x-pass-2026", check_password=False
    )
    for number, name in (("MA1A2B3C", "上海甲乙餐饮有限公司"), ("MA1D4E5F", "上海丙丁食品有限公司")):
        organisation = identity.organisation_create(
            actor=SYSTEM, credit_code=make_credit_code("310101", number), name=name
        )
        identity.organisation_agent_add(actor=SYSTEM, organisation=organisation, user=user)
    return user


def test_typed_fields_render_as_select_number_and_checkbox_and_post_back_typed():
    ui = {
        "order": ["shop_name", "category", "seats", "has_branch"],
        "widgets": {"category": {"labels": {"retail": "零售"}}},
    }
    fields = {f.name: f for section in form_sections(SHOP_SCHEMA, ui) for f in section.fields}
    assert [f.kind for f in fields.values()] == ["text", "select", "number", "checkbox"]
    assert fields["category"].choices == [("retail", "零售"), ("catering", "catering")]
    assert fields["seats"].attrs == {"step": "1", "inputmode": "numeric", "min": "0", "max": "500"}
    assert fields["shop_name"].attrs == {"maxlength": "50"}
    assert not fields["has_branch"].required
    data, raw = form_data_from_post(
        SHOP_SCHEMA, {"shop_name": " 小店 ", "category": "retail", "seats": "12", "has_branch": "true"}
    )
    assert data == {"shop_name": "小店", "category": "retail", "seats": 12, "has_branch": True}
    data, raw = form_data_from_post(SHOP_SCHEMA, {"shop_name": "", "seats": "twelve"})
    assert data == {"seats": "twelve", "has_branch": False}
    assert raw["seats"] == "twelve"


def test_an_agent_chooses_the_organisation_and_a_conditional_material_follows_its_box(
    client, agent, shop_item
):
    client.force_login(agent)
    url = reverse("cases:apply_item", args=[shop_item.code])
    html = client.get(url).content.decode()
    assert html.count('type="radio" name="applicant"') == 2
    assert "开设分店的" in html  # the condition of the conditional material
    assert re.search(r'type="file"[^>]+name="materials.branch-authorisation"(?![^>]*required)[^>]*>', html)
    assert re.search(r'<select[^>]+name="category"', html)
    assert re.search(r'type="checkbox"[^>]+name="has_branch"', html)
    second = list(organisations_for(agent))[1]
    data = {
        "idempotency_key": "shop-1",
        "applicant": f"organisation:{second.pk}",
        "shop_name": "分店",
        "category": "catering",
        "seats": "30",
        "has_branch": "true",
        "materials.lease": pdf_upload("lease.pdf"),
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert 'id="material-branch-authorisation-error"' in response.content.decode()
    assert 'value="30"' in response.content.decode()
    assert Case.objects.count() == 0
    data["materials.lease"] = pdf_upload("lease.pdf")
    data["materials.branch-authorisation"] = pdf_upload("auth.pdf")
    response = client.post(url, data)
    case = Case.objects.get()
    assert response.status_code == 302
    assert case.applicant_organisation == second
    assert case.form_data == {"shop_name": "分店", "category": "catering", "seats": 30, "has_branch": True}
    assert set(case.materials.values_list("code", flat=True)) == {"lease", "branch-authorisation"}


def test_a_citizen_cannot_apply_for_a_service_for_organisations(client, parent, shop_item):
    client.force_login(parent)
    assert client.get(reverse("cases:apply_item", args=[shop_item.code])).status_code == 403


# --- my cases and the case page ----------------------------------------------------------------------------


def test_my_cases_lists_only_my_own_cases(client, parent, citizen, newborn, handlers):
    mine = _submit(parent, newborn)
    theirs = services.case_submit(
        actor=actor_for(citizen), service=newborn, form_data=newborn_form(), files=newborn_files()
    )
    client.force_login(parent)
    html = client.get("/cases/").content.decode()
    assert mine.number in html
    assert theirs.number not in html
    assert 'data-status="accepted"' in html
    assert mine.due_date.isoformat() in html


def test_another_citizen_cannot_see_the_case_or_its_receipt(client, parent, citizen, newborn, handlers):
    case = _submit(parent, newborn)
    client.force_login(citizen)
    assert client.get(f"/cases/{case.number}/").status_code == 404
    assert client.get(f"/cases/{case.number}/receipt.pdf").status_code == 404
    assert client.get(f"/cases/{case.number}/withdraw/").status_code == 404
    assert client.post(f"/cases/{case.number}/withdraw/", {"reason": "x"}).status_code == 404
    assert client.get("/cases/TB-NO-SUCH/").status_code == 404


def test_the_case_page_shows_the_timeline_with_department_role_and_what_is_awaited(
    client, parent, newborn, handlers
):
    case = _submit(parent, newborn)
    services.case_task_complete(
        actor=actor_for(handlers["health"]), task_id=_open(case, "birth_certificate").pk, decision="approve"
    )
    client.force_login(parent)
    response = client.get(f"/cases/{case.number}/")
    html = response.content.decode()
    assert response.status_code == 200
    health = handlers["health"].staff.department
    assert health.name_zh in html
    assert "tb-role" in html
    household = _open(case, "household_registration")
    assert household.name in html  # awaited next
    assert "父母结婚证" in html  # materials provided
    assert "/ratings/case/" not in html
    assert_accessible(html, "zh-Hans")


def test_staff_who_may_see_the_case_need_their_second_factor(client, parent, newborn, handlers):
    case = _submit(parent, newborn)
    client.force_login(handlers["health"])
    response = client.get(f"/cases/{case.number}/receipt.pdf")
    assert response.status_code == 302
    assert reverse("identity:otp-verify") in response["Location"]
    login_with_second_factor(client, handlers["health"])
    assert client.get(f"/cases/{case.number}/receipt.pdf").content.startswith(b"%PDF")
    html = client.get(f"/cases/{case.number}/").content.decode()
    assert "/withdraw/" not in html


def test_a_completed_case_shows_its_result_package_and_the_rating_link(client, parent, newborn, handlers):
    case = _submit(parent, newborn)
    for step, department in (
        ("birth_certificate", "health"),
        ("household_registration", "public-security"),
        ("medical_insurance", "medical-insurance"),
        ("social_security_card", "hrss"),
    ):
        services.case_task_complete(
            actor=actor_for(handlers[department]), task_id=_open(case, step).pk, decision="approve"
        )
    case.refresh_from_db()
    client.force_login(parent)
    html = client.get(f"/cases/{case.number}/").content.decode()
    assert f'href="/ratings/case/{case.number}/"' in html
    for result in case.result:
        assert result["number"] in html
        assert result["name"] in html
    assert "/withdraw/" not in html


# --- supplement and withdrawal ----------------------------------------------------------------------------


def test_the_applicant_answers_a_supplement_request_from_the_case_page(client, parent, newborn, handlers):
    case = _submit(parent, newborn)
    services.case_task_complete(
        actor=actor_for(handlers["health"]), task_id=_open(case, "birth_certificate").pk, decision="approve"
    )
    services.case_supplement_request(
        actor=actor_for(handlers["public-security"]),
        task_id=_open(case, "household_registration").pk,
        materials=[{"code": "parents-marriage-certificate", "reason": "照片不清晰"}],
        fields=[{"field": "baby_name", "reason": "与出生医学证明不一致"}],
    )
    client.force_login(parent)
    html = client.get(f"/cases/{case.number}/").content.decode()
    assert "照片不清晰" in html and "与出生医学证明不一致" in html
    assert f'action="{reverse("cases:supplement", args=[case.number])}"' in html
    assert re.search(r'name="baby_name" value="李小明"', html)
    assert f'name="{MATERIAL}"' in html

    incomplete = client.post(f"/cases/{case.number}/supplement/", {"baby_name": "李晓明"})
    assert incomplete.status_code == 200
    assert 'id="material-parents-marriage-certificate-error"' in incomplete.content.decode()
    case.refresh_from_db()
    assert case.status == Case.Status.SUPPLEMENT

    answered = client.post(
        f"/cases/{case.number}/supplement/", {"baby_name": "李晓明", MATERIAL: pdf_upload("better.pdf")}
    )
    assert answered.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.RESUBMITTED
    assert case.form_data["baby_name"] == "李晓明"
    assert case.materials.filter(superseded=True).count() == 1
    again = client.get(f"/cases/{case.number}/supplement/")
    assert again.status_code == 302


def test_withdrawal_needs_a_reason_and_then_closes_the_case(client, parent, newborn, handlers):
    case = _submit(parent, newborn)
    client.force_login(parent)
    page = client.get(f"/cases/{case.number}/withdraw/")
    assert page.status_code == 200
    assert_accessible(page.content.decode(), "zh-Hans")
    refused = client.post(f"/cases/{case.number}/withdraw/", {"reason": "  "})
    assert refused.status_code == 200
    assert 'id="withdraw-reason-error"' in refused.content.decode()
    case.refresh_from_db()
    assert case.status == Case.Status.ACCEPTED
    done = client.post(f"/cases/{case.number}/withdraw/", {"reason": "已在线下办理"})
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.WITHDRAWN
    assert case.withdrawal_reason == "已在线下办理"
    assert not Task.objects.filter(case_id=case.pk, state__in=Task.OPEN_STATES).exists()
    assert client.get(f"/cases/{case.number}/withdraw/").status_code == 302


# --- public tracking --------------------------------------------------------------------------------------


def test_the_tracking_page_shows_the_status_without_personal_data(client, parent, newborn, handlers):
    case = _submit(parent, newborn)
    response = client.get(tracking_path(case))
    html = response.content.decode()
    assert response.status_code == 200
    assert case.number in html
    assert 'data-status="accepted"' in html
    assert case.due_date.isoformat() in html
    assert newborn.name_zh in html
    assert "陈静" not in html
    assert "李小明" not in html  # no form data
    assert MOTHER_ID not in html
    assert response["X-Robots-Tag"].startswith("noindex")


def test_a_wrong_tracking_token_is_not_found(client, parent, newborn, handlers):
    case = _submit(parent, newborn)
    assert client.get(f"/cases/track/{case.number}/not-the-token/").status_code == 404
    other = tracking_path(case).replace(case.number, "TB2000010100000000")
    assert client.get(other).status_code == 404


# --- languages ----------------------------------------------------------------------------------------------


def test_the_pages_render_in_english_when_chosen(client, parent, newborn, handlers):
    case = _submit(parent, newborn)
    client.cookies["django_language"] = "en"
    client.force_login(parent)
    detail = client.get(f"/cases/{case.number}/").content.decode()
    assert '<html lang="en">' in detail
    assert "Timeline" in detail and "Accepted" in detail
    apply_page = client.get(APPLY_URL).content.decode()
    assert "Submit application" in apply_page
    assert "Materials to upload" in apply_page
    listing = client.get("/cases/").content.decode()
    assert "My cases" in listing and case.number in listing


def test_the_timeline_reads_in_the_visitors_language_whoever_wrote_it(client, parent, newborn, handlers):
    with translation.override("en"):  # an English-speaking handler acts; the mother reads Chinese
        case = services.case_submit(
            actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
        )
    client.force_login(parent)
    html = client.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert "网上提交申请" in html
    assert "已受理，承诺于" in html
    client.cookies["django_language"] = "en"
    html = client.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert "Submitted online" in html
    assert "Accepted; due by" in html


def test_a_domain_refusal_at_submission_is_shown_on_the_form_not_a_500(client, parent, newborn, monkeypatch):
    from tongban.core.exceptions import Conflict

    def refuse(**kwargs):
        raise Conflict("The process cannot start now.", code="process_unavailable")

    monkeypatch.setattr(services, "case_submit", refuse)
    client.force_login(parent)
    response = client.post(APPLY_URL, _post_data())
    assert response.status_code == 200 and "The process cannot start now." in response.content.decode()
    assert not Case.objects.exists()
