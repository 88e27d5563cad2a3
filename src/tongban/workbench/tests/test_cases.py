"""Staff case pages: the list filtered by who asks, the case page (an audited read), material downloads."""

import pytest
from django.urls import reverse

from tongban.core.models import AuditEntry
from tongban.identity.tests.fixtures import login_with_second_factor

from .fixtures import make_staff
from .helpers import submit_online

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english(client):
    client.cookies["django_language"] = "en"


@pytest.fixture
def case(parent, newborn, handlers):
    return submit_online(parent, newborn)


def test_reading_a_case_is_audited_with_its_purpose(client, case, handlers):
    login_with_second_factor(client, handlers["health"])
    response = client.get(reverse("workbench:case", args=[case.number]))
    assert response.status_code == 200
    assert "李小明" in response.content.decode()
    entry = AuditEntry.objects.get(action="case.viewed", case_id=str(case.pk))
    assert entry.purpose == "handling"
    assert entry.actor_label == handlers["health"].get_username()


def test_a_department_with_no_part_in_the_case_gets_404_and_nothing_is_recorded(client, case, city):
    outsider = make_staff("h.tax", "tax", ["dept_handler"])
    login_with_second_factor(client, outsider)
    assert client.get(reverse("workbench:case", args=[case.number])).status_code == 404
    assert not AuditEntry.objects.filter(action="case.viewed").exists()
    assert case.number not in client.get(reverse("workbench:cases")).content.decode()


def test_the_case_list_filters_by_status_and_search(client, case, handlers):
    login_with_second_factor(client, handlers["health"])
    assert case.number in client.get(reverse("workbench:cases")).content.decode()
    assert case.number in client.get(reverse("workbench:cases"), {"q": case.number[-6:]}).content.decode()
    assert case.number not in client.get(reverse("workbench:cases"), {"status": "completed"}).content.decode()


def test_the_case_list_pages_by_keyset_without_counting(client, parent, newborn, handlers, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tongban.workbench.views import cases as views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    numbers = [submit_online(parent, newborn).number for _ in range(3)]  # newest last
    login_with_second_factor(client, handlers["health"])
    with CaptureQueriesContext(connection) as queries:
        first = client.get(reverse("workbench:cases")).content.decode()
    assert not any(
        "COUNT(" in q["sql"].upper() and "cases_case" in q["sql"] for q in queries.captured_queries
    )
    assert numbers[2] in first and numbers[1] in first and numbers[0] not in first
    next_href = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = client.get(reverse("workbench:cases") + next_href).content.decode()
    assert numbers[0] in second and numbers[1] not in second
    assert 'rel="next"' not in second and "First page" in second
    forged = client.get(reverse("workbench:cases"), {"after": "not-a-cursor"})  # the first page, not an error
    assert forged.status_code == 200 and numbers[2] in forged.content.decode()


def test_staff_download_a_material_and_the_download_is_audited(client, case, handlers):
    material = case.materials.get()
    login_with_second_factor(client, handlers["health"])
    response = client.get(reverse("workbench:case-material", args=[case.number, material.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert AuditEntry.objects.filter(action="case.material_downloaded", subject_id=str(material.pk)).exists()


def test_non_staff_are_redirected_to_log_in_or_refused(client, case, parent):
    url = reverse("workbench:case", args=[case.number])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("identity:login"))
    client.force_login(parent)
    assert client.get(url).status_code == 403
    assert client.get(reverse("workbench:tasks")).status_code == 403
