"""``tongban catalog export/import``: the catalogue round-trips through a workbook; bad rows are named."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from openpyxl import load_workbook

from tongban.catalog.excel import SHEETS, catalog_import
from tongban.catalog.models import Bundle, BundleItem, Material, PublicationStatus, ServiceItem
from tongban.core.audit import SYSTEM
from tongban.demo.catalog import catalog_demo_ensure

pytestmark = pytest.mark.django_db


def _cells(path):
    workbook = load_workbook(path)
    return {
        name: [list(row) for row in workbook[name].iter_rows(values_only=True)]
        for name in workbook.sheetnames
    }


def _wipe():
    BundleItem.objects.all().delete()
    Bundle.objects.all().delete()
    Material.objects.all().delete()
    ServiceItem.objects.all().delete()


def test_export_then_import_into_an_empty_catalogue_gives_the_same_workbook(city, tmp_path):
    catalog_demo_ensure()
    first, second = tmp_path / "first.xlsx", tmp_path / "second.xlsx"
    call_command("catalog", "export", str(first))
    _wipe()
    report = catalog_import(first, actor=SYSTEM)
    assert report.ok, report.errors
    assert report.counts["items"]["created"] == 36
    assert Bundle.objects.get(code="newborn").status == PublicationStatus.PUBLISHED
    assert Bundle.objects.get(code="newborn").form_schema["properties"]["baby_name"]
    assert ServiceItem.objects.get(code="birth-medical-certificate").step_effects["birth_certificate"] == [
        "birth.record",
        "licence.issue:birth-medical-certificate",
    ]  # the step effects travel with the item
    call_command("catalog", "export", str(second))
    assert _cells(first) == _cells(second)
    assert list(_cells(first)) == list(SHEETS)
    again = catalog_import(second, actor=SYSTEM)
    assert again.counts["items"] == {"created": 0, "updated": 0, "unchanged": 36, "failed": 0}


def test_bad_rows_are_reported_with_sheet_and_row_and_good_rows_are_kept(city, tmp_path, capsys):
    catalog_demo_ensure()
    path = tmp_path / "catalog.xlsx"
    call_command("catalog", "export", str(path))
    _wipe()
    workbook = load_workbook(path)
    items = workbook["items"]
    header = [c.value for c in items[1]]
    promised = header.index("promised_limit_days") + 1
    legal = header.index("legal_limit_days") + 1
    department = header.index("department") + 1
    items.cell(row=7, column=legal, value=30)
    items.cell(row=7, column=promised, value=40)
    items.cell(row=9, column=department, value="no-such-department")
    bad_codes = {items.cell(row=7, column=1).value, items.cell(row=9, column=1).value}
    materials = workbook["materials"]
    materials.cell(row=3, column=1, value="no-such-item")
    workbook.save(path)

    with pytest.raises(CommandError) as caught, translation.override("en"):
        call_command("catalog", "import", str(path))
    assert caught.value.returncode == 1
    out = capsys.readouterr()
    assert "sheet items, row 7: promised_limit_days:" in out.err
    assert "40" in out.err and "30" in out.err
    assert "sheet items, row 9: unknown department no-such-department" in out.err
    assert "sheet materials, row 3: unknown item no-such-item" in out.err
    assert "items: 34 created, 0 updated, 0 unchanged, 2 failed" in out.out
    assert ServiceItem.objects.count() == 34
    assert not ServiceItem.objects.filter(code__in=bad_codes).exists()


def test_a_dry_run_saves_nothing(city, tmp_path):
    catalog_demo_ensure()
    path = tmp_path / "catalog.xlsx"
    call_command("catalog", "export", str(path))
    _wipe()
    report = catalog_import(path, actor=SYSTEM, dry_run=True)
    assert report.ok and report.counts["items"]["created"] == 36
    assert not ServiceItem.objects.exists()


def test_a_cell_of_bad_json_is_reported(city, tmp_path):
    catalog_demo_ensure()
    path = tmp_path / "catalog.xlsx"
    call_command("catalog", "export", str(path))
    workbook = load_workbook(path)
    header = [c.value for c in workbook["items"][1]]
    workbook["items"].cell(row=2, column=header.index("form_schema") + 1, value="{not json")
    workbook.save(path)
    with translation.override("en"):
        report = catalog_import(path, actor=SYSTEM)
    assert report.errors[0].startswith("sheet items, row 2: form_schema: not valid JSON")
