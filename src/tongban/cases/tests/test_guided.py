"""Guided application (好办) in the demo city: li.ming, the father, answers a few questions and finds a form
filled in from the registers and his account, typing only what no register holds."""

import re

import pytest

from tongban.cases import guided
from tongban.cases.models import Case
from tongban.catalog.selectors import bundle_get, item_get
from tongban.conftest import demo_city_fixture
from tongban.demo.catalog import NEWBORN_BUNDLE, REAL_ESTATE_BUNDLE
from tongban.exchange.models import DataUse
from tongban.identity.models import Person, User

NEWBORN_ANSWERS = {"role": "father", "married": "yes", "household_with": "father", "mailing": "home"}


demo_city = demo_city_fixture(people=10, organisations=1)


@pytest.fixture
def city_with_demo(demo_city, db):
    return demo_city


def _login(client, username):
    client.force_login(User.objects.get(username=username))


def test_the_newborn_bundle_asks_plain_questions_one_per_screen(city_with_demo, client):
    _login(client, "li.ming")
    html = client.get("/cases/guide/bundle/newborn/").content.decode()
    assert html.count('type="radio"') == 3  # father, mother, guardian: one question
    assert 'name="role"' in html
    html = client.get("/cases/guide/bundle/newborn/", {"role": "father"}).content.decode()
    assert 'name="married"' in html and 'name="role" value="father"' in html  # the answer travels on
    html = client.get("/cases/guide/bundle/newborn/", NEWBORN_ANSWERS).content.decode()
    assert 'type="radio"' not in html  # all answered: the personal guide
    assert "/cases/apply/bundle/newborn/?" in html and "guided=1" in html
    assert "结婚证" in html  # obtained from the marriage register, listed as obtained
    assert "非婚生育情况说明" not in html  # asked only of parents who are not married


def test_unmarried_parents_are_asked_for_the_statement_not_the_certificate(city_with_demo):
    bundle = bundle_get(NEWBORN_BUNDLE)
    personal = guided.guide_for(bundle, {**NEWBORN_ANSWERS, "married": "no"})
    uploads = {m.code for m in personal.uploads}
    assert "out-of-wedlock-statement" in uploads and "parentage-proof" in uploads
    assert "marriage-certificate" not in {m.code for m in personal.obtained}
    assert personal.form_data == {
        "parents_married": False,
        "parents_relation": "unmarried",
        "household_with": "father",
    }


def test_li_ming_types_at_most_six_fields_for_the_newborn_bundle(city_with_demo):
    father = Person.objects.get(user__username="li.ming")
    figures = guided.measure(
        service=bundle_get(NEWBORN_BUNDLE), applicant_person=father, answers=NEWBORN_ANSWERS
    )
    assert figures["after"] <= 6, figures["typed_after"]
    assert figures["before"] >= 12
    assert not {"mother_name", "mother_resident_id", "father_name", "applicant_phone"} & set(
        figures["typed_after"]
    )


def test_the_guided_form_is_prefilled_for_the_father_and_lists_obtained_materials(city_with_demo, client):
    father = Person.objects.get(user__username="li.ming")
    mother = Person.objects.get(user__username="chen.jing")
    _login(client, "li.ming")
    html = client.get("/cases/apply/bundle/newborn/", {**NEWBORN_ANSWERS, "guided": "1"}).content.decode()
    assert f'value="{mother.resident_id}"' in html  # mother: his spouse in the marriage register
    assert f'value="{mother.name}"' in html
    assert f'value="{father.resident_id}"' in html  # father: himself
    assert f'value="{father.phone}"' in html  # his account's phone
    assert 'name="household_with"' in html and 'type="hidden" name="household_with" value="father"' in html
    assert not re.search(r'type="file"[^>]*name="materials\.(household-register|marriage-certificate)"', html)
    assert 'class="mb-0 tb-obtained"' in html and "婚姻登记信息" in html
    assert DataUse.objects.filter(person=mother, purpose="表单预填", resource_code="marriage-status").exists()


def test_li_ming_submits_the_guided_newborn_form_typing_only_the_babys_details(city_with_demo, client):
    _login(client, "li.ming")
    url = "/cases/apply/bundle/newborn/"
    page = client.get(url, {**NEWBORN_ANSWERS, "guided": "1"}).content.decode()
    hidden = r'<input type="hidden" name="([^"]+)" value="([^"]*)"'
    text = r'<input class="form-control" type="text" id="[^"]+" name="([^"]+)" value="([^"]+)"'
    data = dict(re.findall(hidden, page))
    data.update(re.findall(text, page))
    data.update(re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]+)</textarea>', page))
    typed = {
        "baby_name": "李乐乐",
        "baby_sex": "male",
        "birth_date": "2026-12-01",
        "birth_hospital": "上海市第一妇婴保健院",
    }
    response = client.post(url, {**data, **typed})
    assert response.status_code == 302, response.content.decode()[:3000]
    case = Case.objects.get(number=response["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert case.bundle.code == NEWBORN_BUNDLE
    assert case.form_data["mother_name"] == "陈静"
    assert case.form_data["household_with"] == "father" and case.form_data["parents_married"] is True


def test_an_item_with_a_condition_only_the_applicant_knows_asks_it(city_with_demo, client):
    bundle = bundle_get(REAL_ESTATE_BUNDLE)
    keys = [q.key for q in guided.questions_for(bundle)]
    assert keys, "the real-estate bundle has conditional materials to ask about"
    _login(client, "li.ming")
    assert client.get(f"/cases/guide/bundle/{REAL_ESTATE_BUNDLE}/").status_code == 200


def test_a_simple_item_goes_straight_to_its_guide(city_with_demo, client):
    from tongban.catalog.models import ServiceItem

    item = ServiceItem.objects.filter(status="published", materials__necessity="required").first()
    assert item_get(item.code) is not None
    _login(client, "li.ming")
    response = client.get(f"/cases/guide/item/{item.code}/")
    assert response.status_code == 200


def test_the_window_clerk_finds_the_form_prefilled_from_the_looked_up_person(city_with_demo, client):
    from tongban.identity.tests.fixtures import login_with_second_factor
    from tongban.workbench.selectors import applicant_token

    person = Person.objects.get(user__username="li.ming")
    login_with_second_factor(client, User.objects.get(username="clerk.huangpu"))
    client.cookies["django_language"] = "en"
    html = client.get(
        "/workbench/window/apply/item/residence-permit/", {"applicant": applicant_token(person)}
    ).content.decode()
    for name, value in (
        ("applicant_name", person.name),
        ("applicant_resident_id", person.resident_id),
        ("applicant_phone", person.phone),
    ):
        assert re.search(rf'name="form-{name}" value="{value}"', html), name
    assert "filled in from the applicant" in html


def test_an_agent_applying_for_the_enterprise_finds_its_register_details_filled_in(city_with_demo, client):
    """zhang.wei applies for his company: name, credit code and legal representative come from the business
    register (a lookup through the data hub), his phone from his account."""
    _login(client, "zhang.wei")
    html = client.get("/cases/apply/item/employer-social-insurance-registration/").content.decode()
    assert 'value="上海通办示范科技有限公司"' in html and 'value="91310115MA7TB0014W"' in html
    assert 'name="legal_representative"' in html and 'value="张伟"' in html
    assert re.search(r'name="applicant_phone"[^>]*value="1\d{10}"', html) or re.search(
        r'value="1\d{10}"[^>]*name="applicant_phone"', html
    )
    assert DataUse.objects.filter(resource_code="business-registration", purpose="表单预填").exists()
