"""The acceptance receipt (受理回执) PDF and the signed tracking link it carries."""

import pytest

from tongban.cases import services
from tongban.cases.receipts import _qr, receipt_pdf, tracking_path, tracking_token, tracking_token_valid
from tongban.conftest import require_service
from tongban.core.masking import mask_resident_id
from tongban.core.pdf_fonts import DEBIAN_PACKAGE, cjk_font_file
from tongban.identity.selectors import actor_for
from tongban.workflow.tests.fixtures import MOTHER_ID, newborn_files, newborn_form

pytestmark = pytest.mark.django_db


def _submit(parent, newborn):
    return services.case_submit(
        actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
    )


def test_the_receipt_is_a_one_page_pdf_with_the_case_number_and_the_tracking_link(parent, newborn, handlers):
    case = _submit(parent, newborn)
    url = f"https://tongban.example{tracking_path(case)}"
    pdf = receipt_pdf(case, tracking_url=url)
    assert pdf.startswith(b"%PDF")
    assert case.number.encode() in pdf
    assert url.encode() in pdf
    assert case.due_date.isoformat().encode() in pdf
    assert pdf.count(b"/Type /Page\n") == 1


def test_the_receipt_embeds_its_chinese_font_and_names_no_bundle_code(parent, newborn, handlers):
    """The Chinese glyphs travel in the file (a TrueType subset), not only a font's name; the bundle is named by
    its names, not by its catalogue key."""
    require_service(cjk_font_file() is not None, f"needs a CJK TrueType font (apt install {DEBIAN_PACKAGE})")
    case = _submit(parent, newborn)
    pdf = receipt_pdf(case, tracking_url="https://tongban.example/t/")
    assert b"/FontFile2" in pdf  # an embedded TrueType program
    assert b"STSong-Light" not in pdf
    assert newborn.code.encode() not in pdf.replace(b"/t/", b"")


def test_the_receipt_shows_the_resident_id_masked_only(parent, newborn, handlers):
    case = _submit(parent, newborn)
    pdf = receipt_pdf(case, tracking_url="https://tongban.example/t/")
    assert mask_resident_id(MOTHER_ID).encode() in pdf
    assert MOTHER_ID.encode() not in pdf


def test_the_same_case_gives_the_same_receipt(parent, newborn, handlers):
    case = _submit(parent, newborn)
    assert receipt_pdf(case, tracking_url="https://x/") == receipt_pdf(case, tracking_url="https://x/")


def test_the_applicant_downloads_the_receipt_with_an_absolute_tracking_link(
    client, parent, newborn, handlers
):
    case = _submit(parent, newborn)
    client.force_login(parent)
    response = client.get(f"/cases/{case.number}/receipt.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert case.number in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
    assert f"http://testserver{tracking_path(case)}".encode() in response.content


def test_a_tracking_token_fits_only_its_own_case_number():
    token = tracking_token("TB2026112000000001")
    assert tracking_token_valid("TB2026112000000001", token)
    assert not tracking_token_valid("TB2026112000000002", token)
    assert not tracking_token_valid("TB2026112000000001", "")
    assert not tracking_token_valid("TB2026112000000001", token[:-1] + ("A" if token[-1] != "A" else "B"))


def test_the_qr_code_draws_exactly_the_modules_of_the_tracking_link():
    import segno
    from reportlab.graphics.shapes import Rect

    url = "https://tongban.example/cases/track/TB2026112000000001/abc/"
    size = 100.0
    drawing = _qr(url, size)
    matrix = segno.make(url, error="m").matrix
    unit = size / (len(matrix) + 4)
    drawn = set()
    for rect in drawing.contents[1:]:
        assert isinstance(rect, Rect)
        row = round((size - rect.y) / unit) - 3
        start = round(rect.x / unit) - 2
        for col in range(start, start + round(rect.width / unit)):
            drawn.add((row, col))
    expected = {(r, c) for r, line in enumerate(matrix) for c, dark in enumerate(line) if dark}
    assert drawn == expected
