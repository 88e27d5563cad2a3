import re

import pytest
from django.test import Client
from django.urls import reverse

from tongban.identity.tests.fixtures import CITIZEN_RESIDENT_ID, login_with_second_factor

pytestmark = pytest.mark.django_db


def switch_language(client, language, next_url="/"):
    return client.post(reverse("set_language"), {"language": language, "next": next_url})


class HomeTests:
    def test_home_is_in_simplified_chinese_by_default(self, client, city):
        response = client.get("/")
        html = response.content.decode()
        assert response.status_code == 200
        assert '<html lang="zh-Hans">' in html
        assert "政务服务" in html
        assert "Government services, one network" not in html

    def test_an_english_browser_still_gets_chinese_until_the_visitor_switches(self, client, city):
        html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
        assert '<html lang="zh-Hans">' in html

    def test_switching_to_english_shows_english_and_back(self, client, city):
        response = switch_language(client, "en")
        assert response.status_code == 302
        html = client.get("/").content.decode()
        assert '<html lang="en">' in html
        assert "Government services, one network" in html
        switch_language(client, "zh-hans")
        assert '<html lang="zh-Hans">' in client.get("/").content.decode()

    def test_language_switch_is_a_form_that_works_without_javascript(self, client, city):
        html = client.get("/").content.decode()
        form = re.search(r'<form class="tb-lang[^>]*action="([^"]+)" method="post">(.*?)</form>', html, re.S)
        assert form is not None
        assert form.group(1) == reverse("set_language")
        assert 'name="csrfmiddlewaretoken"' in form.group(2)
        assert 'name="language" value="en"' in form.group(2)

    def test_layout_has_landmarks_and_a_skip_link(self, client, city):
        html = client.get("/").content.decode()
        assert 'href="#main"' in html
        assert '<main id="main"' in html
        assert "<header" in html and "<footer" in html and "<nav" in html

    def test_anonymous_visitor_is_offered_to_sign_in(self, client, city):
        html = client.get("/").content.decode()
        assert reverse("identity:login") in html
        assert "12345" in html

    def test_citizen_sees_own_data_masked(self, client, citizen):
        client.force_login(citizen)
        html = client.get("/").content.decode()
        assert "李明" in html
        assert "310***********" in html
        assert CITIZEN_RESIDENT_ID[-4:] in html
        assert CITIZEN_RESIDENT_ID not in html
        assert "138****5678" in html
        assert "13812345678" not in html
        assert "徐汇" in html  # household district from the ID's area code

    def test_citizen_sees_a_logout_button_that_posts(self, client, citizen):
        client.force_login(citizen)
        html = client.get("/").content.decode()
        assert re.search(rf'<form action="{reverse("identity:logout")}" method="post"', html)

    def test_staff_member_is_pointed_to_the_workbench(self, client, staff_user):
        client.force_login(staff_user)
        html = client.get("/").content.decode()
        assert reverse("workbench:home") in html
        assert "卫生健康" in html or "卫健" in html


class DepartmentSearchTests:
    def test_lists_departments_matching_a_search(self, client, city):
        response = client.get(reverse("portal:departments"), {"q": "health", "level": "city"})
        html = response.content.decode()
        assert response.status_code == 200
        assert "卫生健康委员会" in html
        assert "税务局" not in html
        assert "<code>health</code>" not in html  # a department is named, not shown with its code

    def test_htmx_request_gets_only_the_results(self, client, city):
        response = client.get(reverse("portal:departments"), {"q": "tax"}, HTTP_HX_REQUEST="true")
        html = response.content.decode()
        assert "<html" not in html
        assert "税务局" in html

    def test_htmx_history_restore_gets_the_whole_page(self, client, city):
        response = client.get(
            reverse("portal:departments"), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
        )
        assert "<html" in response.content.decode()
        assert "HX-Request" in response["Vary"]

    def test_bad_filters_are_ignored_rather_than_failing(self, client, city):
        response = client.get(reverse("portal:departments"), {"level": "galaxy", "page": "x" * 10})
        assert response.status_code == 200

    def test_a_nul_character_in_the_search_is_dropped_not_sent_to_the_database(self, client, city):
        # PostgreSQL refuses NUL in a string literal, which would turn this request into a 500.
        response = client.get(reverse("portal:departments"), {"q": "heal\x00th", "level": "city"})
        assert response.status_code == 200
        assert response.context["query"] == "health"
        assert "卫生健康委员会" in response.content.decode()


class ErrorPageTests:
    def test_not_found_helps_the_visitor(self, client, city):
        response = client.get("/no/such/page/")
        html = response.content.decode()
        assert response.status_code == 404
        assert "/no/such/page/" in html
        assert "12345" in html
        assert (
            f'action="{reverse("catalog:search")}"' in html
        )  # the search looks up services, not departments
        assert 'href="/"' in html

    @pytest.mark.urls("tongban.portal.tests.urls_boom")
    def test_an_unexpected_error_gets_the_helpful_500_page(self, city):
        client = Client(raise_request_exception=False)
        response = client.get("/boom/")
        assert response.status_code == 500
        assert response["X-Tongban-Reference"] in response.content.decode()


def test_admin_site_is_titled_tongban_in_both_languages(client, city, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="root-pass-2026")
    login_with_second_factor(client, admin)
    assert "通办后台管理" in client.get("/admin/").content.decode()
    switch_language(client, "en", "/admin/")
    assert "Tongban back office" in client.get("/admin/").content.decode()
