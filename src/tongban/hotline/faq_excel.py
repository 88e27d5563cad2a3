"""The knowledge base as an Excel list (hotline staff keep their FAQ in spreadsheets).

``faq_export(path)`` writes one sheet ``faq`` with the columns of ``COLUMNS``; ``faq_import(path)`` reads it back:
a row whose question is known changes that entry, a new question adds one. Every row goes through
``services.faq_save`` (the same checks as the pages); a bad row is reported as ``row N: field: message`` and
skipped, the good rows are kept. ``dry_run`` checks everything and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from openpyxl import Workbook, load_workbook

from .models import FaqEntry
from .services import faq_save

SHEET = "faq"
COLUMNS = (
    "question",
    "answer",
    "question_en",
    "answer_en",
    "keywords",
    "department",
    "service_code",
    "active",
)
_TRUE = {"1", "true", "yes", "y", "是", "启用", "x", "✓"}


@dataclass
class FaqImportReport:
    created: int = 0
    changed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def faq_export(path) -> int:
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(list(COLUMNS))
    count = 0
    for entry in FaqEntry.objects.order_by("question"):
        sheet.append(
            [
                entry.question,
                entry.answer,
                entry.question_en,
                entry.answer_en,
                entry.keywords,
                entry.department,
                entry.service_code,
                int(entry.active),
            ]
        )
        count += 1
    book.save(path)
    return count


def _text(value) -> str:
    return "" if value is None else str(value).strip()


class _DryRun(Exception):
    pass


def faq_import(path, *, actor, dry_run: bool = False, progress=None) -> FaqImportReport:
    """Read ``path`` (see the module doc). Raises ValueError when the file or its header is not a FAQ list."""
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a file that is not a workbook
        raise ValueError(f"{path}: not an Excel workbook ({exc})") from None
    if SHEET not in book.sheetnames:
        raise ValueError(f"{path}: no sheet named {SHEET!r}")
    rows = book[SHEET].iter_rows(values_only=True)
    header = [_text(h).lower() for h in next(rows, ())]
    missing = [c for c in ("question", "answer") if c not in header]
    if missing:
        raise ValueError(f"{path}: sheet {SHEET}, row 1: missing column(s) {', '.join(missing)}")
    report = FaqImportReport()
    rows = list(rows)
    try:
        with transaction.atomic():
            for number, row in enumerate(rows, start=2):
                if progress is not None:
                    progress(1)
                values = {name: row[i] if i < len(row) else None for i, name in enumerate(header)}
                if not any(_text(v) for v in values.values()):
                    continue
                question = _text(values.get("question"))
                entry = FaqEntry.objects.filter(question=question).first()
                active = values.get("active")
                try:
                    with transaction.atomic():
                        faq_save(
                            actor=actor,
                            entry=entry,
                            question=question,
                            answer=_text(values.get("answer")),
                            question_en=_text(values["question_en"]) if "question_en" in values else None,
                            answer_en=_text(values["answer_en"]) if "answer_en" in values else None,
                            keywords=_text(values.get("keywords")),
                            department=_text(values.get("department")),
                            service_code=_text(values.get("service_code")),
                            active=True
                            if active is None or _text(active) == ""
                            else _text(active).lower() in _TRUE,
                        )
                except ValidationError as exc:
                    for name, messages in exc.message_dict.items():
                        report.errors.extend(f"sheet {SHEET}, row {number}: {name}: {m}" for m in messages)
                    continue
                if entry is None:
                    report.created += 1
                else:
                    report.changed += 1
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report
