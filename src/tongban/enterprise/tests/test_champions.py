"""Hidden champions: ranked by growth with the evidence, personal data masked by role, exported to Excel, and only
for the enterprise service office."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tongban.core.audit import SYSTEM
from tongban.identity import services as identity
from tongban.identity.models import Person
from tongban.identity.selectors import department_get
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.proactive.enterprise import enterprise_reads_grant, policies_sweep
from tongban.proactive.tests.test_enterprise_policies import enterprise_with_figures

pytestmark = pytest.mark.django_db


@pytest.fixture
def figures(city, citizen):
    from tongban.exchange.services import data_resources_sync

    data_resources_sync(actor=SYSTEM)
    enterprise_reads_grant()
    growing = enterprise_with_figures(
        "MA1G0001",
        "上海增长科技有限公司",
        industry="C3913",
        heads=[20, 22, 25, 28, 30, 36, 40, 45],
        tax=[10, 11, 12, 13, 15, 18, 20, 24],
    )
    growing.legal_representative = Person.objects.get(user=citizen)
    growing.save(update_fields=["legal_representative"])
    enterprise_with_figures(
        "MA1F0002",
        "上海平稳商贸有限公司",
        industry="F5123",
        heads=[8] * 8,
        tax=[2] * 8,
        rating="B",
    )
    policies_sweep()  # today: the figures the page ranks are the latest read
    return growing


def _staff(username, roles, department="market-regulation"):
    user = identity.user_create(actor=SYSTEM, username=username, password="x-pass-2026", check_password=False)
    identity.staff_create(actor=SYSTEM, user=user, department=department_get(department), roles=roles)
    return user


def test_champions_page_export_and_masking_by_role(client, figures):
    login_with_second_factor(client, _staff("champ.designer", ["service_designer"]))
    page = client.get(reverse("enterprise:champions"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "上海增长科技有限公司" in body and "上海平稳商贸有限公司" not in body
    assert "李明" not in body and "李*" in body  # masked for a designer
    assert "2026-07 45" in body  # the evidence: the latest quarter's head-count

    export = client.get(reverse("enterprise:champions"), {"format": "xlsx", "section": "C"})
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet.cell(2, 4).value == "上海增长科技有限公司" and sheet.cell(2, 13).value == "李*"

    login_with_second_factor(client, _staff("champ.head", ["dept_head"]))
    assert "李明" in client.get(reverse("enterprise:champions")).content.decode()  # may look up persons

    login_with_second_factor(client, _staff("champ.handler", ["dept_handler"]))
    assert client.get(reverse("enterprise:champions")).status_code == 403
    assert client.get("/api/v1/enterprise/champions/").status_code == 403


def test_money_is_shown_to_two_decimals():
    from tongban.enterprise.analytics import _money

    assert _money(155.14000000000001) == 155.14 and str(_money(0.1 + 0.2)) == "0.3"
    assert _money(None) is None
