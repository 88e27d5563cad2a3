"""A licence as a PDF page (A5): type, number, holder, fields, issuer, dates and the QR code to verify it.

Like the acceptance receipt (``cases.receipts``), Chinese is set in the TrueType font ``core.pdf_fonts``
embeds (a subset), ASCII in Helvetica, text streams uncompressed and the output invariant. The QR code holds
the absolute verification link ``…/licences/verify/?t=<token>``; the token is also printed in small type so
it can be copied, and kept whole in the document's Subject (``tongban-licence:<token>``), from which
``token_from_pdf`` reads it back.
"""

from __future__ import annotations

import io
import re
from html import escape
from urllib.parse import quote

import segno
from django.utils import timezone
from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib import colors
from reportlab.lib.pagesizes import A5
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from tongban.core.masking import mask_resident_id
from tongban.core.pdf_fonts import cjk_font

from .models import Licence
from .services import licence_token

LATIN_FONT = "Helvetica"
SUBJECT_PREFIX = "tongban-licence:"
TOKEN_LINE = 64


def verification_url(base_url: str, token: str) -> str:
    """``base_url`` (the absolute address of the verification page) with the token as ``?t=``."""
    return f"{base_url}?t={quote(token, safe='.-_')}"


def mask_value(value) -> str:
    """A sensitive value as printed: an 18-character ID masked, anything else all but its ends hidden."""
    text = "" if value is None else str(value)
    if len(text) == 18:
        return mask_resident_id(text)
    if len(text) <= 2:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 2) + text[-1]


def _fonts() -> str:
    return cjk_font()


def _text(value) -> str:
    value = "" if value is None else str(value)
    if value.isascii():
        return f'<font face="{LATIN_FONT}">{escape(value)}</font>'
    return escape(value)


def _qr(content: str, size: float) -> Drawing:
    """The QR code of ``content`` as vector squares (one rectangle for each run of dark modules in a row)."""
    matrix = segno.make(content, error="l").matrix  # raised to the best level that fits
    border = 2
    unit = size / (len(matrix) + 2 * border)
    drawing = Drawing(size, size)
    drawing.add(Rect(0, 0, size, size, fillColor=colors.white, strokeColor=None))
    for row_index, row in enumerate(matrix):
        y = size - (row_index + border + 1) * unit
        start = None
        for col_index, dark in enumerate([*row, 0]):
            if dark and start is None:
                start = col_index
            elif not dark and start is not None:
                drawing.add(
                    Rect(
                        (start + border) * unit,
                        y,
                        (col_index - start) * unit,
                        unit,
                        fillColor=colors.black,
                        strokeColor=None,
                    )
                )
                start = None
    return drawing


def field_rows(licence: Licence) -> list[tuple[dict, str]]:
    """(field spec, printed value) for each field the licence carries, sensitive values masked."""
    rows = []
    for spec in licence.type.fields:
        if spec["name"] not in licence.data:
            continue
        value = licence.data[spec["name"]]
        rows.append((spec, mask_value(value) if spec.get("sensitivity") == "sensitive" else str(value)))
    return rows


def _holder_id(licence: Licence) -> str:
    if licence.holder_organisation_id:
        return licence.holder_id_number
    return mask_resident_id(licence.holder_id_number)


def licence_pdf(licence: Licence, *, verify_base_url: str) -> bytes:
    """The licence as PDF bytes; ``verify_base_url`` is the absolute address of the verification page."""
    cjk = _fonts()
    token = licence_token(licence)
    url = verification_url(verify_base_url, token)
    base = ParagraphStyle("lic", fontName=cjk, fontSize=8.5, leading=11, wordWrap="CJK")
    title = ParagraphStyle("lic-title", parent=base, fontSize=16, leading=21, alignment=1)
    subtitle = ParagraphStyle("lic-sub", parent=base, fontName=LATIN_FONT, fontSize=8.5, alignment=1)
    label = ParagraphStyle(
        "lic-label", parent=base, fontSize=7.5, leading=8.5, textColor=colors.HexColor("#3e4c59")
    )
    small = ParagraphStyle("lic-small", parent=base, fontName=LATIN_FONT, fontSize=4.6, leading=5.4)
    banner = ParagraphStyle(
        "lic-banner", parent=base, fontSize=14, leading=18, alignment=1, textColor=colors.HexColor("#b42318")
    )

    def row(zh, en, value_markup):
        return [
            Paragraph(f'{escape(zh)}<br/><font face="{LATIN_FONT}" size="6">{escape(en)}</font>', label),
            Paragraph(value_markup, base),
        ]

    issued = timezone.localtime(licence.issued_at).strftime("%Y-%m-%d")
    until = licence.valid_until.isoformat() if licence.valid_until else None
    rows = [
        row(
            "证照编号",
            "Number",
            f'<font face="{LATIN_FONT}" size="10"><b>{escape(licence.number)}</b></font>',
        ),
        row("持证主体", "Holder", f"{_text(licence.holder_name)} {_text(_holder_id(licence))}"),
    ]
    for spec, value in field_rows(licence):
        rows.append(row(spec.get("label_zh", spec["name"]), spec.get("label_en", ""), _text(value)))
    rows += [
        row("发证机关", "Issued by", _text(licence.department.name_zh)),
        row("发证日期", "Issued on", _text(issued)),
        row(
            "有效期至",
            "Valid until",
            _text(until) if until else f'长期 <font face="{LATIN_FONT}" size="7">no expiry</font>',
        ),
    ]
    width = A5[0] - 24 * mm
    story = [
        Paragraph(
            f'电子证照 <font face="{LATIN_FONT}">e-licence</font>',
            ParagraphStyle("lic-kicker", parent=base, alignment=1, fontSize=8),
        ),
        Paragraph(escape(licence.type.name_zh), title),
        Paragraph(escape(licence.type.name_en), subtitle),
        Spacer(1, 3 * mm),
    ]
    if licence.status == Licence.Status.REVOKED:
        story += [
            Paragraph(f'已撤销 <font face="{LATIN_FONT}">REVOKED</font>', banner),
            Spacer(1, 2 * mm),
        ]
    qr_size = 40 * mm
    story += [
        Table(
            rows,
            colWidths=[34 * mm, width - 34 * mm],
            style=TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
                    ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f0f4f8")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            ),
        ),
        Spacer(1, 4 * mm),
        Table(
            [
                [
                    _qr(url, qr_size),
                    [
                        Paragraph(
                            "扫描二维码核验本证照的真实性和状态。"
                            f'<br/><font face="{LATIN_FONT}" size="7">Scan the code to verify this licence '
                            "and its status.</font>"
                            f'<br/>签名 <font face="{LATIN_FONT}" size="7">{escape(licence.get_algorithm_display())}'
                            f" · {escape(licence.key.key_id)}</font>",
                            base,
                        ),
                        Spacer(1, 1.5 * mm),
                        Paragraph(
                            "Verification token:<br/>"
                            + "<br/>".join(
                                escape(token[i : i + TOKEN_LINE]) for i in range(0, len(token), TOKEN_LINE)
                            ),
                            small,
                        ),
                    ],
                ]
            ],
            colWidths=[qr_size + 3 * mm, width - qr_size - 3 * mm],
            style=TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (0, 0), 0),
                ]
            ),
        ),
    ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A5,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=10 * mm,
        bottomMargin=10 * mm,
        title=f"{licence.type.name_zh} {licence.number}",
        author=licence.department.name_zh,
        subject=f"{SUBJECT_PREFIX}{token}",
        invariant=1,
        pageCompression=0,
    )
    document.build(story)
    return buffer.getvalue()


_SUBJECT = re.compile(rb"/Subject \(" + re.escape(SUBJECT_PREFIX.encode()) + rb"([A-Za-z0-9_.\-]+)\)")


def token_from_pdf(data: bytes) -> str | None:
    """The token kept in a licence PDF's Subject, or None when there is none."""
    found = _SUBJECT.search(data)
    return found.group(1).decode("ascii") if found else None
