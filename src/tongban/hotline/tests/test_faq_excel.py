"""The knowledge base as an Excel list: export, import (bad rows reported by number, good rows kept), dry run."""

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from tongban.core.audit import SYSTEM
from tongban.demo.hotline_faq import FAQ, demo_faq_ensure
from tongban.hotline.faq_excel import COLUMNS, faq_export, faq_import
from tongban.hotline.models import FaqEntry

# A workbook without the English columns (they are optional: a column left out leaves its field alone).
CHINESE_ONLY = ("question", "answer", "keywords", "department", "service_code", "active")


def _book(path, rows, header=CHINESE_ONLY):
    book = Workbook()
    sheet = book.active
    sheet.title = "faq"
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def test_export_then_import_gives_the_same_entries(city, tmp_path):
    assert demo_faq_ensure() == len(FAQ)
    assert demo_faq_ensure() == 0  # once
    path = tmp_path / "faq.xlsx"
    assert faq_export(path) == len(FAQ)
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0] == COLUMNS and len(rows) == len(FAQ) + 1
    report = faq_import(path, actor=SYSTEM)
    assert report.ok and report.created == 0 and report.changed == len(FAQ)
    assert FaqEntry.objects.count() == len(FAQ)
    passport = FaqEntry.objects.get(question="办护照需要多久？")
    assert passport.question_en == "How long does a passport take?" and passport.answer_en  # kept both ways


def test_a_bad_row_is_reported_by_number_and_the_good_ones_are_kept(city, tmp_path):
    path = _book(
        tmp_path / "faq.xlsx",
        [
            (
                "公积金怎么提取？",
                "通过“一网通办”或公积金中心窗口申请提取，材料齐全当场办结。",
                "公积金",
                "",
                "",
                1,
            ),
            ("", "没有问题的答案也不行", "", "", "", 1),
            ("垃圾分类怎么投放？", "短", "", "no-such-department", "", 1),
            ("停用的问题", "这个条目导入后处于停用状态，不给话务员看。", "", "", "", 0),
        ],
    )
    report = faq_import(path, actor=SYSTEM)
    assert report.created == 2
    assert any(line.startswith("sheet faq, row 3: question:") for line in report.errors)
    assert any(line.startswith("sheet faq, row 4: answer:") for line in report.errors)
    assert any(line.startswith("sheet faq, row 4: department:") for line in report.errors)
    assert not FaqEntry.objects.get(question="停用的问题").active


def test_the_command_exits_1_on_bad_rows_and_a_dry_run_writes_nothing(city, tmp_path, capsys):
    good = _book(
        tmp_path / "good.xlsx",
        [("公积金怎么提取？", "通过“一网通办”申请提取，材料齐全当场办结。", "", "", "", 1)],
    )
    call_command("hotline", "faq-import", str(good), "--dry-run")
    assert "1 entries would be added" in capsys.readouterr().out and not FaqEntry.objects.exists()
    bad = _book(tmp_path / "bad.xlsx", [("问题", "短", "", "", "", 1)])
    with pytest.raises(CommandError) as error:
        call_command("hotline", "faq-import", str(bad))
    assert error.value.returncode == 1
    assert "row 2: answer" in capsys.readouterr().err
    header = _book(tmp_path / "header.xlsx", [], header=("frage", "antwort"))
    with pytest.raises(CommandError, match="row 1: missing column"):
        call_command("hotline", "faq-import", str(header))
    (tmp_path / "not.xlsx").write_text("not a workbook")
    with pytest.raises(CommandError, match="not an Excel workbook"):
        call_command("hotline", "faq-import", str(tmp_path / "not.xlsx"))


def test_the_back_office_reads_corrections_and_spikes(city, client):
    from tongban.identity.tests.factories import UserFactory, login_verified

    login_verified(client, UserFactory(username="root", is_staff=True, is_superuser=True))
    for url in (
        "/admin/hotline/routingcorrection/",
        "/admin/hotline/spikealert/",
        "/admin/hotline/faqentry/add/",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/hotline/spikealert/add/").status_code == 403
    response = client.post(
        "/admin/hotline/faqentry/add/", {"question": "居住证怎么办理？", "answer": "短", "active": "on"}
    )
    assert (
        response.status_code == 200 and not FaqEntry.objects.exists()
    )  # the service's check, as a form error
    response = client.post(
        "/admin/hotline/faqentry/add/",
        {
            "question": "居住证怎么办理？",
            "answer": "到社区事务受理服务中心登记，满半年可申领。",
            "active": "on",
        },
    )
    assert response.status_code == 302 and "居住证" in FaqEntry.objects.get().search_text
