"""The monthly report (月度报告) as a PDF: the month's indicators against the month before, charts, the tables of
the dashboard for the whole city, and the month's changes of the catalogue. Made by ``tongban indicators report``
and by the worker on the first working day of a month; kept as a ``MonthlyReport`` row and its file.

Set in Chinese (zh-Hans), in the TrueType font ``core.pdf_fonts`` embeds (as receipts and licences are).
"""

from __future__ import annotations

import datetime as dt
import io

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import translation
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from tongban.core.pdf_fonts import cjk_font

from . import formulas, selectors, tables
from .compute import next_month
from .models import MonthlyReport, ServiceVersion
from .selectors import Filters


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    first = month.replace(day=1)
    return first, next_month(first) - dt.timedelta(days=1)


def _styles(font):
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=18, leading=24, spaceAfter=6),
        "h2": ParagraphStyle("h2", fontName=font, fontSize=13, leading=18, spaceBefore=10, spaceAfter=4),
        "body": ParagraphStyle("body", fontName=font, fontSize=9, leading=13),
        "cell": ParagraphStyle("cell", fontName=font, fontSize=7.5, leading=9.5),
    }


def _cell(value) -> str:
    if value is None:
        return "—"
    return str(value)


def _table(table, styles, *, limit=20):
    from html import escape

    head = [Paragraph(escape(str(c)), styles["cell"]) for c in table.columns]
    body = [[Paragraph(escape(_cell(v)), styles["cell"]) for v in row] for row in table.rows[:limit]]
    if not body:
        body = [[Paragraph("—", styles["cell"])] + [""] * (len(head) - 1)]
    result = Table([head, *body], repeatRows=1, hAlign="LEFT")
    result.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return result


def _bar_drawing(rows, font, *, title):
    rows = [(str(label)[:12], value or 0) for label, value in rows][:12]
    drawing = Drawing(170 * mm, 12 * mm + 7 * mm * max(1, len(rows)))
    chart = HorizontalBarChart()
    chart.x, chart.y = 40 * mm, 5 * mm
    chart.width, chart.height = 120 * mm, 7 * mm * max(1, len(rows))
    chart.data = [[v for _l, v in reversed(rows)] or [0]]
    chart.categoryAxis.categoryNames = [label for label, _v in reversed(rows)] or [""]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#2f6fb0")
    drawing.add(chart)
    drawing.add(String(0, drawing.height - 4 * mm, title, fontName=font, fontSize=9))
    return drawing


def _line_drawing(points, font, *, title):
    drawing = Drawing(170 * mm, 60 * mm)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 15 * mm, 8 * mm, 150 * mm, 42 * mm
    plot.data = [[(i + 1, v or 0) for i, v in enumerate(points)] or [(1, 0)]]
    plot.lines[0].strokeColor = colors.HexColor("#2f6fb0")
    plot.xValueAxis.labels.fontSize = 7
    plot.yValueAxis.labels.fontSize = 7
    plot.yValueAxis.valueMin = 0
    drawing.add(plot)
    drawing.add(String(0, drawing.height - 4 * mm, title, fontName=font, fontSize=9))
    return drawing


def report_figures(month: dt.date) -> dict:
    """The headline of the month and of the month before, and what changed."""
    start, end = month_bounds(month)
    previous_start, previous_end = month_bounds(start - dt.timedelta(days=1))
    now = selectors.indicators_headline(start, end)
    before = selectors.indicators_headline(previous_start, previous_end)
    changes = {}
    for key, value in now.items():
        old = before.get(key)
        if isinstance(value, int | float) and isinstance(old, int | float):
            changes[key] = round(value - old, 2)
    return {"month": f"{start:%Y-%m}", "headline": now, "previous": before, "changes": changes}


def report_pdf(month: dt.date) -> tuple[bytes, dict]:
    """The report's PDF bytes and the figures it shows."""
    font = cjk_font()
    styles = _styles(font)
    start, end = month_bounds(month)
    figures = report_figures(month)
    with translation.override("zh-hans"):
        f = Filters(start=start, end=end)
        all_tables = tables.staff_tables(f)
        story = [
            Paragraph(f"通办 · 一网通办月度报告 {start:%Y年%m月}", styles["title"]),
            Paragraph(
                f"统计期间：{start:%Y-%m-%d} 至 {end:%Y-%m-%d}。数据来自平台的办件、评价、预警、12345工单和主动服务记录。",
                styles["body"],
            ),
            Paragraph("一、五项指标与上月比较", styles["h2"]),
        ]
        compare = tables.Table("compare", "", ["指标", "本月", "上月", "变化"])
        for key, label in formulas.NATIONAL:
            with translation.override("zh-hans"):
                compare.rows.append(
                    [
                        str(label),
                        figures["headline"].get(key),
                        figures["previous"].get(key),
                        figures["changes"].get(key),
                    ]
                )
        for key, label in (
            ("cases_submitted", "受理办件"),
            ("cases_completed", "办结办件"),
            ("reform_on_time_pct", "按时办结率（%）"),
            ("ratings_good_pct", "好评率（%）"),
            ("hotline_tickets", "12345 工单"),
            ("hotline_first_contact_pct", "一次办结率（%）"),
            ("warnings_red", "红牌"),
        ):
            compare.rows.append(
                [
                    label,
                    figures["headline"].get(key),
                    figures["previous"].get(key),
                    figures["changes"].get(key),
                ]
            )
        story.append(_table(compare, styles))
        story.append(Paragraph("二、趋势", styles["h2"]))
        story.append(_line_drawing([r[1] for r in all_tables["trend"].rows], font, title="每日受理办件"))
        story.append(Paragraph("三、部门与区", styles["h2"]))
        story.append(
            _bar_drawing(
                [(r[0], r[1]) for r in all_tables["departments"].rows],
                font,
                title="各部门受理办件（前 12 名）",
            )
        )
        story.append(_table(all_tables["departments"], styles))
        story.append(Spacer(1, 4 * mm))
        story.append(
            _bar_drawing([(r[0], r[1]) for r in all_tables["districts"].rows], font, title="各区受理办件")
        )
        story.append(_table(all_tables["districts"], styles))
        story.append(Spacer(1, 4 * mm))
        story.append(Paragraph("五项指标：各区与各部门（按在线服务成效度排名）", styles["body"]))
        story.append(_table(all_tables["national_districts"], styles))
        story.append(Spacer(1, 3 * mm))
        story.append(_table(all_tables["national_departments"], styles, limit=15))
        story.append(Paragraph("四、改革成效", styles["h2"]))
        story.append(_table(all_tables["services"], styles, limit=15))
        story.append(Paragraph("五、好差评、12345 与主动服务", styles["h2"]))
        story.append(_table(all_tables["ratings"], styles))
        story.append(Spacer(1, 3 * mm))
        story.append(_table(all_tables["rectifications"], styles))
        story.append(Spacer(1, 3 * mm))
        story.append(_table(all_tables["hotline"], styles))
        story.append(Spacer(1, 3 * mm))
        story.append(_table(all_tables["proactive"], styles))
        story.append(Paragraph("六、本月事项目录变化", styles["h2"]))
        changed = ServiceVersion.objects.filter(valid_from__gte=start, valid_from__lte=end, number__gt=1)
        change_table = tables.Table(
            "changes",
            "",
            ["事项", "版本", "生效日", "法定时限", "承诺时限", "跑动次数", "材料", "免提交材料"],
        )
        names = selectors.service_names(changed.values_list("service_code", flat=True))
        for v in changed.order_by("valid_from", "service_code"):
            change_table.rows.append(
                [
                    names.get(v.service_code, v.service_code),
                    v.number,
                    v.valid_from.isoformat(),
                    v.legal_limit_days,
                    v.promised_limit_days,
                    v.visits_required,
                    v.materials,
                    v.materials_from_data,
                ]
            )
        if change_table.rows:
            story.append(_table(change_table, styles))
        else:
            story.append(Paragraph("本月事项目录没有改变时限、跑动、材料或环节。", styles["body"]))
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"Tongban monthly report {start:%Y-%m}",
        author="Tongban",
        invariant=1,
    )
    doc.build(story)
    return out.getvalue(), figures


def monthly_report_make(*, month: dt.date, by: str = "") -> MonthlyReport:
    """Write (or rewrite) the report of ``month`` and keep it."""
    first = month.replace(day=1)
    content, figures = report_pdf(first)
    with transaction.atomic():
        report = MonthlyReport.objects.select_for_update().filter(month=first).first()
        if report is None:
            report = MonthlyReport(month=first)
        elif report.file:
            report.file.delete(save=False)
        report.figures = figures
        report.generated_by = by[:200]
        report.file.save(f"tongban-report-{first:%Y-%m}.pdf", ContentFile(content), save=False)
        report.save()
    return report
