"""The acceptance receipt (受理回执) as PDF, and the signed public tracking link it carries as a QR code.

Chinese is set in the TrueType font ``core.pdf_fonts`` embeds (WenQuanYi Zen Hei, a subset of the glyphs
used); plain ASCII (numbers, dates, the link) is set in Helvetica. Text streams are left uncompressed and the output is
invariant (no creation time, fixed document id), so a receipt can be compared and searched byte for byte.
"""

from __future__ import annotations

import io
from html import escape

import segno
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from tongban.catalog.selectors import material_names_en
from tongban.core.masking import mask_resident_id
from tongban.core.pdf_fonts import cjk_font

from . import selectors
from .models import Case, CaseMaterial

TRACK_SALT = "tongban.cases.track"
LATIN_FONT = "Helvetica"

ORIGINS = {
    CaseMaterial.Origin.UPLOAD: ("申请人上传", "uploaded"),
    CaseMaterial.Origin.WINDOW: ("窗口核验", "checked at a window"),
    CaseMaterial.Origin.LICENCE: ("电子证照", "e-licence"),
    CaseMaterial.Origin.REGISTRY: ("部门数据共享", "registry"),
    CaseMaterial.Origin.PLEDGE: ("告知承诺", "pledge"),
}


# --- tracking link ---------------------------------------------------------------------------------------


def _signer() -> signing.Signer:
    return signing.Signer(salt=TRACK_SALT)


def tracking_token(number: str) -> str:
    """The signature that lets anyone holding the receipt follow the case's progress (and nothing else)."""
    return _signer().signature(number)


def tracking_token_valid(number: str, token: str) -> bool:
    return bool(token) and constant_time_compare(tracking_token(number), token)


def tracking_path(case: Case) -> str:
    return reverse("cases:track", args=[case.number, tracking_token(case.number)])


def case_for_tracking(number: str, token: str) -> Case | None:
    """The case behind a tracking link, or None when the number is unknown or the token does not match."""
    if not tracking_token_valid(number, token):
        return None
    return Case.objects.select_related("item", "bundle").filter(number=number).first()


# --- PDF -------------------------------------------------------------------------------------------------


def _fonts() -> str:
    return cjk_font()


def _text(value) -> str:
    """Paragraph markup for a value: ASCII in Helvetica (searchable in the file), the rest in the CJK font."""
    value = "" if value is None else str(value)
    if value.isascii():
        return f'<font face="{LATIN_FONT}">{escape(value)}</font>'
    return escape(value)


def _local(value) -> str:
    if not value:
        return "—"
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _qr(url: str, size: float) -> Drawing:
    """The QR code of ``url`` as vector squares (one rectangle for each run of dark modules in a row)."""
    qr = segno.make(url, error="m")
    matrix = qr.matrix
    border = 2
    modules = len(matrix) + 2 * border
    unit = size / modules
    drawing = Drawing(size, size)
    drawing.add(Rect(0, 0, size, size, fillColor=colors.white, strokeColor=None))
    for row_index, row in enumerate(matrix):
        y = size - (row_index + border + 1) * unit
        start = None
        for col_index, dark in enumerate([*row, 0]):
            if dark and start is None:
                start = col_index
            elif not dark and start is not None:
                x = (start + border) * unit
                drawing.add(
                    Rect(x, y, (col_index - start) * unit, unit, fillColor=colors.black, strokeColor=None)
                )
                start = None
    return drawing


def _applicant(case: Case) -> str:
    """Paragraph markup: the applicant's name and identifier (a resident ID masked, a credit code whole)."""
    if case.applicant_organisation_id:
        organisation = case.applicant_organisation
        return f"{_text(organisation.name)}<br/>{_text(organisation.credit_code)}"
    person = case.applicant_person
    return f"{_text(case.applicant_name)}<br/>{_text(mask_resident_id(person.resident_id))}"


def _service(case: Case) -> str:
    """Paragraph markup: the service's Chinese and English names; an item's official code, never a bundle's
    internal one (a bundle's code such as ``newborn`` is a key of the catalogue, not a word for the reader)."""
    service = case.service
    lines = [_text(service.name_zh)]
    if service.name_en:
        lines.append(f'<font face="{LATIN_FONT}" size="8">{escape(service.name_en)}</font>')
    if case.item_id:
        lines.append(_text(service.code))
    return "<br/>".join(lines)


def _accepting_unit(case: Case) -> str:
    from .selectors import case_deemed_accepted

    if case.accepting_department_id:
        return case.accepting_department.name_zh
    if case.accepted_at is not None and case_deemed_accepted(case):
        return f"依法视为受理（{case.lead_department.name_zh}）"
    return f"网上受理（{case.lead_department.name_zh}）"


def receipt_pdf(case: Case, *, tracking_url: str) -> bytes:
    """The acceptance receipt (受理回执) of ``case`` as PDF bytes, with a QR code of ``tracking_url``."""
    cjk = _fonts()
    base = ParagraphStyle("tb", fontName=cjk, fontSize=10.5, leading=15, wordWrap="CJK")
    title = ParagraphStyle("tb-title", parent=base, fontSize=20, leading=26, alignment=1)
    subtitle = ParagraphStyle("tb-subtitle", parent=base, fontName=LATIN_FONT, fontSize=11, alignment=1)
    label = ParagraphStyle("tb-label", parent=base, textColor=colors.HexColor("#3e4c59"))
    small = ParagraphStyle("tb-small", parent=base, fontSize=8.5, leading=12)

    def row(zh, en, value):
        return [
            Paragraph(f'{escape(zh)}<br/><font face="{LATIN_FONT}" size="8">{escape(en)}</font>', label),
            Paragraph(value, base),
        ]

    due = case.due_date.isoformat() if case.due_date else "—"
    rows = [
        row(
            "办件编号",
            "Case number",
            f'<font face="{LATIN_FONT}" size="12"><b>{escape(case.number)}</b></font>',
        ),
        row("办理事项", "Service", _service(case)),
        row("申请人", "Applicant", _applicant(case)),
        row("受理单位", "Accepting unit", _text(_accepting_unit(case))),
        row("提交时间", "Submitted", _text(_local(case.submitted_at))),
        row("受理时间", "Accepted", _text(_local(case.accepted_at))),
        row(
            "承诺时限",
            "Promised limit",
            f'{_text(case.promised_limit_days)} 个工作日 <font face="{LATIN_FONT}">working days</font>',
        ),
        row("办结期限", "Due date", _text(due)),
    ]
    table_style = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#9aa5b1")),
            ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f0f4f8")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 4),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ]
    )
    width = A4[0] - 40 * mm
    story = [
        Paragraph("受理回执", title),
        Paragraph("Acceptance receipt", subtitle),
        Spacer(1, 8 * mm),
        Table(rows, colWidths=[38 * mm, width - 38 * mm], style=table_style),
        Spacer(1, 6 * mm),
        Paragraph('已收材料 <font face="Helvetica" size="9">Materials received</font>', base),
        Spacer(1, 2 * mm),
    ]
    materials = list(selectors.case_materials(case))
    if materials:
        material_rows = [
            [
                Paragraph(f'序号 <font face="{LATIN_FONT}" size="8">No.</font>', label),
                Paragraph(f'材料名称 <font face="{LATIN_FONT}" size="8">Material</font>', label),
                Paragraph(f'来源 <font face="{LATIN_FONT}" size="8">Origin</font>', label),
            ]
        ]
        names_en = material_names_en()
        for position, material in enumerate(materials, start=1):
            zh, en = ORIGINS.get(material.origin, (material.origin, material.origin))
            name = _text(material.name)  # the record's Chinese name, and the catalogue's English beneath it
            name_en = names_en.get((material.item_code, material.code))
            if name_en:
                name += f'<br/><font face="{LATIN_FONT}" size="8">{escape(name_en)}</font>'
            material_rows.append(
                [
                    Paragraph(_text(position), base),
                    Paragraph(name, base),
                    Paragraph(f'{escape(zh)} <font face="{LATIN_FONT}" size="8">{escape(en)}</font>', base),
                ]
            )
        story.append(Table(material_rows, colWidths=[16 * mm, width - 66 * mm, 50 * mm], style=table_style))
    else:
        story.append(Paragraph(f'无 <font face="{LATIN_FONT}">none</font>', base))
    story += [
        Spacer(1, 8 * mm),
        Table(
            [
                [
                    _qr(tracking_url, 34 * mm),
                    Paragraph(
                        "扫描二维码或访问以下网址查询办理进度："
                        f'<br/><font face="{LATIN_FONT}" size="9">Scan the code or open the link to track '
                        "the case:</font><br/>"
                        f'<link href="{escape(tracking_url)}"><font face="{LATIN_FONT}" size="8">'
                        f"{escape(tracking_url)}</font></link>",
                        base,
                    ),
                ]
            ],
            colWidths=[40 * mm, width - 40 * mm],
            style=TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]),
        ),
        Spacer(1, 6 * mm),
        Paragraph(
            "本回执由通办平台出具。办理期间需要补正材料的，补正期间不计入办结期限。"
            f'<br/><font face="{LATIN_FONT}">Issued by the Tongban platform. Time spent supplementing '
            "materials does not count towards the due date.</font>",
            small,
        ),
    ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"受理回执 {case.number}",
        author="Tongban",
        invariant=1,
        pageCompression=0,
    )
    document.build(story)
    return buffer.getvalue()
